"""`.npy` files: `load_npy` (whole or memory-mapped, pickles refused), and `NpyChunks`, chunked reading with
plain file reads, so that memory stays flat for files larger than RAM.

(A memory map would also stream, but every page it touches counts toward the process's resident memory.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import AelabError
from .csvfile import FLOAT32_MAX, float32_problem


def read_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) from the header of the `.npy` open in `f`, which it leaves at the data;
    ValueError for anything else."""
    version = np.lib.format.read_magic(f)
    reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if reader is None:
        raise ValueError(f"unsupported .npy format version {version}")
    return reader(f)


class NpyChunks:
    """The shape and dtype of an `.npy` file, and its rows `[start, stop)` on demand."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                shape, fortran, dtype = read_header(f)
                self.offset = f.tell()
        except (ValueError, OSError, EOFError) as exc:
            raise AelabError(f"{self.path}: not a valid .npy file ({exc})") from None
        if dtype.hasobject:
            raise AelabError(f"{self.path}: holds pickled objects, which aelab refuses to load")
        if fortran and len(shape) > 1:
            raise AelabError(f"{self.path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        if len(shape) == 0:
            raise AelabError(f"{self.path}: holds a scalar, not an array of samples")
        self.shape, self.dtype = tuple(shape), dtype
        self.ndim = len(shape)
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        expected = self.offset + self.row_bytes * shape[0]
        if self.path.stat().st_size < expected:
            raise AelabError(
                f"{self.path}: truncated .npy ({self.path.stat().st_size} bytes, header promises {expected})"
            )

    def __len__(self):
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, len(self))
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.row_bytes)
            data = np.fromfile(f, dtype=self.dtype, count=(stop - start) * (self.row_bytes // self.dtype.itemsize))
        return data.reshape(stop - start, *self.shape[1:])


class ArrayRows:
    """The `NpyChunks` interface over an array already in memory (e.g. parsed from CSV)."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __len__(self):
        return len(self.array)

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.array[start:stop]


def load_npy(path: Path, mmap: bool = False) -> np.ndarray:
    """np.load with pickles refused and every failure turned into one line naming the file."""
    try:
        loaded = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except ValueError as exc:
        if not _starts_as_npy(path):  # np.load takes any other file for a pickle
            raise AelabError(f"{path}: not an .npy file (save the array with np.save)") from None
        if "pickle" in str(exc) or "Python objects" in str(exc):
            raise AelabError(f"{path}: holds pickled objects, which aelab refuses to load") from None
        raise AelabError(f"{path}: not a valid .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise AelabError(f"{path}: cannot read .npy ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(loaded, np.ndarray):
        loaded.close()
        raise npz_error(path)
    return loaded


def npz_error(path: Path) -> AelabError:
    """The error for an `.npz` archive given where one array is read, naming the arrays it holds (read from their
    headers alone), as Keras's mnist.npz holds x_train, y_train, x_test and y_test."""
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = []
            for name in archive.namelist()[:8]:
                with archive.open(name) as f:
                    shape, _, dtype = read_header(f)
                arrays.append(f"{name.removesuffix('.npy')} {shape} {dtype}")
    except (OSError, ValueError, zipfile.BadZipFile):
        arrays = []
    held = f" of {', '.join(arrays)}" if arrays else ""
    return AelabError(
        f"{path}: an .npz archive{held}; save each array with np.save and pass them as --data X.npy, --labels "
        "y.npy (and --test-data, --test-labels)"
    )


def flat_labels(y: np.ndarray) -> np.ndarray:
    """Labels saved as a column (n, 1), as Keras and many scikit-learn scripts keep them, read as the (n,) they
    mean; any other shape is returned as it is, for the caller to refuse in its own terms."""
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


def _starts_as_npy(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX
    except OSError:
        return False


def numeric_float32(x: np.ndarray, origin, noun: str) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """`x` as float32 (booleans as 0 and 1), refusing a non-numeric or empty array (naming it a `noun`), and the
    index of its first NaN or inf (None when all are finite), for the caller to name in its own terms (sequence,
    step, row)."""
    if not any(np.issubdtype(x.dtype, kind) for kind in (np.floating, np.integer, np.bool_)):
        raise AelabError(f"{origin}: a {noun} must hold numbers, got {x.dtype}")
    if min(x.shape) == 0:
        raise AelabError(f"{origin}: empty {noun} {x.shape}")
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:  # finite here, infinite as float32
        beyond = np.argwhere(np.isfinite(x) & (np.abs(x) > FLOAT32_MAX))
        if len(beyond):
            where = tuple(int(i) for i in beyond[0])
            raise AelabError(f"{origin}: at index {where}, {float32_problem(float(x[where]))}")
    x = np.asarray(x, dtype=np.float32)
    bad = np.argwhere(~np.isfinite(x))
    return x, (tuple(int(i) for i in bad[0]) if len(bad) else None)
