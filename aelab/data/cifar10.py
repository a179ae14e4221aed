"""CIFAR-10: find it (--cifar10, $AELAB_CIFAR10, the cache, a download) and read any of its three layouts.

Layouts: the official `cifar-10-batches-py/` folder, the official tarball, or an image folder with
`train/<class>/` and `test/<class>/`. The official batches are pickles; they are read with an unpickler
that admits only plain containers and NumPy arrays, so a tampered file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from ..errors import AelabError
from ..io import atomic_path, cache_dir
from .images import ArrayPool, FolderPool, looks_like_image_folder

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
TARBALL = "cifar-10-python.tar.gz"
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DOWNLOAD_TIMEOUT_S = 15


class _SafeUnpickler(pickle.Unpickler):
    """Admit the few globals a NumPy array needs, nothing that can execute code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(module, name)


def _unpickle(raw: bytes, origin: str) -> dict:
    try:
        obj = _SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # any decoding failure means the file is not a CIFAR batch
        raise AelabError(f"{origin}: not a readable CIFAR-10 batch ({exc})") from None
    if not isinstance(obj, dict):
        raise AelabError(f"{origin}: not a CIFAR-10 batch (expected a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _batch_arrays(batch: dict, origin: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except KeyError as exc:
        raise AelabError(f"{origin}: CIFAR-10 batch lacks {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise AelabError(f"{origin}: CIFAR-10 batch has data {data.shape}, expected (N, 3072) with N labels")
    # Rows hold 1024 red, then green, then blue values: (N, 3072) -> (N, 32, 32, 3)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_batches(read_member, origin: str):
    def load(names):
        parts = [_batch_arrays(_unpickle(read_member(n), f"{origin}/{n}"), f"{origin}/{n}") for n in names]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    x_train, y_train = load(TRAIN_BATCHES)
    x_test, y_test = load([TEST_BATCH])
    return ArrayPool(x_train, y_train, CLASS_NAMES, origin), ArrayPool(x_test, y_test, CLASS_NAMES, origin)


def read_batches_dir(path: Path):
    def read_member(name):
        try:
            return (path / name).read_bytes()
        except OSError as exc:
            raise AelabError(f"{path / name}: cannot read ({exc.strerror})") from None

    return _read_batches(read_member, str(path))


def read_tarball(path: Path):
    try:
        with tarfile.open(path, "r:gz") as tar:

            def read_member(name):
                try:
                    return tar.extractfile(f"{BATCHES_DIR}/{name}").read()
                except KeyError:
                    raise AelabError(f"{path}: tarball has no {BATCHES_DIR}/{name}") from None

            return _read_batches(read_member, str(path))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise AelabError(f"{path}: not a readable CIFAR-10 tarball ({exc})") from None


def open_cifar10(path: Path):
    """Return (train_pool, test_pool) for any accepted layout, or a one-line error saying what `path` is."""
    path = Path(path).expanduser()
    if not path.exists():
        raise AelabError(f"{path}: no such file or directory")
    if path.is_file():
        return read_tarball(path)
    if (path / "data_batch_1").exists():
        return read_batches_dir(path)
    if (path / BATCHES_DIR).is_dir():
        return read_batches_dir(path / BATCHES_DIR)
    if (path / TARBALL).is_file():
        return read_tarball(path / TARBALL)
    if looks_like_image_folder(path):
        train = FolderPool.scan(path / "train")
        test = FolderPool.scan(path / "test") if (path / "test").is_dir() else None
        return train, test
    if path.name in ("train", "test") and looks_like_image_folder(path.parent):
        raise AelabError(f"{path}: points inside the image folder; pass its parent {path.parent}")
    raise AelabError(
        f"{path}: not a CIFAR-10 copy (expected {BATCHES_DIR}/, {TARBALL}, or an image folder with train/<class>/)"
    )


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(dest: Path, url: str = URL, md5: str = MD5) -> Path:
    """Fetch the official tarball into `dest` atomically and check its MD5."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, atomic_path(dest) as tmp:
            with open(tmp, "wb") as f:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
            if md5sum(tmp) != md5:
                raise AelabError(f"{url}: downloaded file fails its MD5 check; try again")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise AelabError(
            f"cannot download CIFAR-10 from {url} ({getattr(exc, 'reason', exc)}); "
            "offline, point AELAB_CIFAR10 or --cifar10 at a copy"
        ) from None
    return dest


def locate_cifar10(explicit: str | None = None) -> Path:
    """The lookup order of the interface contract: --cifar10, $AELAB_CIFAR10, the cache, then a download."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("AELAB_CIFAR10"):
        return Path(os.environ["AELAB_CIFAR10"]).expanduser()
    cache = cache_dir()
    if (cache / BATCHES_DIR / "data_batch_1").exists():
        return cache / BATCHES_DIR
    tarball = cache / TARBALL
    if tarball.is_file() and md5sum(tarball) == MD5:
        return tarball
    return download(tarball)  # also replaces a corrupt cached tarball
