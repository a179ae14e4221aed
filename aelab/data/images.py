"""Image pools: labelled collections that decode only the samples a protocol draws.

A pool is either in memory (`ArrayPool`) or a folder of class sub-folders (`FolderPool`). `take(indices)`
returns uint8 images (n, H, W, C). Decoded folder samples are cached under $AELAB_CACHE, never beside the data.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import AelabError
from ..io import atomic_path, cache_dir
from ..kinds import IMAGE_CHANNELS, image_size_problem
from .npy import load_npy


def looks_like_image_folder(path: Path) -> bool:
    train = Path(path) / "train"
    return train.is_dir() and any(p.is_dir() for p in train.iterdir())


def _visible(entries):
    return sorted(p for p in entries if not p.name.startswith("."))


def image_files_under(root: Path) -> list[Path]:
    """The image files anywhere under `root`, in sorted order, none under a hidden name (as torchvision's
    ImageFolder finds a class's images: recordings are often kept in a sub-folder per session or day)."""
    return sorted(
        p
        for p in root.rglob("*")
        if is_image_file(p) and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, the weights of Pillow's convert("L")
IMAGE_SUFFIXES = frozenset(Image.registered_extensions())  # every suffix Pillow reads: .jpg, .png, .bmp, .tif, ...


def is_image_file(path: Path) -> bool:
    """A file Pillow would try to read by its suffix. Other files beside the images (a README, a labels.csv, a
    .txt of notes) are not data and are skipped, as torchvision's ImageFolder does; an image file that fails to
    decode is still an error."""
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def to_channels(img: Image.Image, channels: int | None, origin) -> np.ndarray:
    """Convert a PIL image to (H, W, C) uint8: alpha dropped, gray replicated when 3 channels are wanted, colour
    read as its luminance when 1 is (Pillow's ITU-R 601-2 weights: a grayscale model encodes a colour photo as a
    grayscale camera would have taken it)."""
    if img.mode in ("RGBA", "LA", "P", "CMYK", "YCbCr", "1"):
        img = img.convert("RGB" if img.mode in ("RGBA", "P", "CMYK", "YCbCr") else "L")
    if img.mode not in ("RGB", "L"):
        raise AelabError(f"{origin}: unsupported image mode {img.mode}")
    if channels == 3 and img.mode == "L":
        img = img.convert("RGB")
    elif channels == 1 and img.mode == "RGB":
        img = img.convert("L")
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def to_eight_bit(img: Image.Image, origin) -> Image.Image:
    """A 16-bit or 32-bit gray image (microscopy, depth maps, scientific TIFFs) as 8-bit gray over its type's range:
    integers 0-65535 divided by 257, floats in [0, 1] times 255. Pillow's convert("L") clips instead, so a 16-bit
    image read as all but white and a float one as black, silently. Values beyond those ranges are an error, as
    for an .npy of images."""
    if not (img.mode.startswith("I") or img.mode == "F"):
        return img
    arr = np.asarray(img)
    kind, low, high, scale = ("float", 0, 1, 255.0) if img.mode == "F" else ("integer", 0, 65535, 1 / 257)
    if arr.size and not (np.isfinite(arr).all() and arr.min() >= low and arr.max() <= high):
        raise AelabError(
            f"{origin}: {kind} image values must lie in [{low}, {high}], found [{arr.min():g}, {arr.max():g}]"
        )
    return Image.fromarray(np.rint(arr.astype(np.float64) * scale).astype(np.uint8), mode="L")


def _upright(img: Image.Image) -> Image.Image:
    """`img` turned as its EXIF orientation tag says: a phone stores a portrait's pixels sideways with a tag that
    every viewer obeys; read as stored, portraits would train as landscapes and crop to other centres. A malformed
    EXIF block leaves the pixels as stored rather than making a readable image an error."""
    try:
        return ImageOps.exif_transpose(img)
    except (KeyError, TypeError, ValueError, SyntaxError, struct.error):
        return img


def read_image(
    path: Path, channels: int | None = None, size: tuple[int, int] | None = None, crop: bool = False
) -> np.ndarray:
    """Decode one image file to (H, W, C) uint8, or raise a one-line error naming it. `size` (H, W): resized to
    it (stretched), or with `crop` scaled to cover it and centre-cropped (no distortion, as `--image-size` does)."""
    try:
        with Image.open(path) as img:
            img.load()
            img = to_eight_bit(_upright(img), path)
            if size is not None and img.size != (size[1], size[0]):
                img = _cover_and_crop(img, size) if crop else img.resize((size[1], size[0]), Image.BILINEAR)
            return to_channels(img, channels, path)
    except UnidentifiedImageError:
        raise AelabError(f"{path}: not an image file") from None
    except AelabError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise AelabError(f"{path}: corrupt or truncated image ({exc})") from None


def _cover_and_crop(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    height, width = size
    scale = max(height / img.height, width / img.width)
    scaled = (max(width, round(img.width * scale)), max(height, round(img.height * scale)))
    img = img.resize(scaled, Image.BILINEAR)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return img.crop((left, top, left + width, top + height))


def parse_image_size(text: str | None) -> tuple[int, int] | None:
    """'HxW' -> (H, W); None stays None."""
    if text is None:
        return None
    try:
        height, width = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise AelabError(f"--image-size: expected HxW such as 64x64, got {text!r}") from None
    if problem := image_size_problem(height, width):
        raise AelabError(f"--image-size {text}: {problem}")
    return height, width


@dataclass
class ArrayPool:
    """Images already in memory: (N, H, W, C) uint8 with optional integer labels."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list[str] | None
    origin: str
    unknown_classes: tuple[str, ...] = ()  # a test set's classes the training data lacks: it is left unlabelled

    def __len__(self):
        return len(self.images)

    def take(self, indices: np.ndarray, cache: bool = True) -> np.ndarray:  # cache: for FolderPool's signature
        return np.ascontiguousarray(self.images[indices])


@dataclass
class FolderPool:
    """`<root>/<class>/.../<image>` files (labelled by class, at any depth in it), or `<root>/<image>` (unlabelled);
    nothing is decoded until `take`."""

    files: list[Path]
    labels: np.ndarray | None
    class_names: list[str] | None
    origin: str
    size: tuple[int, int] | None = None  # every image scaled to cover (H, W) and centre-cropped
    unknown_classes: tuple[str, ...] = ()  # a test folder's classes the training data lacks: it is left unlabelled

    @classmethod
    def scan_any(cls, root: Path, class_names: list[str] | None = None, size=None) -> FolderPool:
        """Class sub-folders of `root` (`scan`), or, where it holds only files, those files without labels."""
        root = Path(root)
        entries = _visible(root.iterdir())
        class_dirs, files = [p for p in entries if p.is_dir()], [p for p in entries if is_image_file(p)]
        if class_dirs and files:
            raise AelabError(
                f"{root}: holds both files and sub-folders; put every image in a class sub-folder, or all of them "
                "in the folder itself"
            )
        if class_dirs:
            return cls.scan(root, class_names, size)
        if not files:
            raise AelabError(f"{root}: no image files to read{_other_files_hint(entries)}")
        return cls(files, None, None, str(root), size)

    @classmethod
    def scan(cls, root: Path, class_names: list[str] | None = None, size=None) -> FolderPool:
        root = Path(root)
        class_dirs = [p for p in _visible(root.iterdir()) if p.is_dir()] if root.is_dir() else []
        if not class_dirs:
            raise AelabError(f"{root}: no class sub-folders (expected {root}/<class>/<image files>)")
        names = class_names or [p.name for p in class_dirs]
        # A test folder with classes the training data lacks (a defect class beside the good ones): its images are
        # a test set all the same, without the labels probes need
        unknown = tuple(d.name for d in class_dirs if d.name not in names)
        files, labels = [], []
        for d in class_dirs:
            members = image_files_under(d)
            files += members
            labels += [] if unknown else [names.index(d.name)] * len(members)
        if not files:
            raise AelabError(f"{root}: the class folders hold no image files")
        if unknown:
            return cls(files, None, None, str(root), size, unknown_classes=unknown)
        return cls(files, np.asarray(labels, dtype=np.int64), names, str(root), size)

    def __len__(self):
        return len(self.files)

    def take(self, indices: np.ndarray, cache: bool = True) -> np.ndarray:
        """Decode the files at `indices`; with `cache`, whole selections (a protocol's splits) are kept decoded
        under $AELAB_CACHE, which streaming batches skip."""
        chosen = [self.files[i] for i in indices]
        if not cache:
            return _decode_all(chosen, self.size)
        cache = _decode_cache_path(chosen, self.size)
        if cache is not None and cache.exists():
            try:
                return np.load(cache, allow_pickle=False)
            except (OSError, ValueError):
                cache.unlink(missing_ok=True)
        images = _decode_all(chosen, self.size)
        if cache is not None:
            _store(cache, images)
        return images


DATA_SUFFIXES = (".csv", ".npy", ".parquet", ".tsv", ".ts", ".txt")  # files aelab reads one at a time, not as a folder


def _other_files_hint(entries: list[Path]) -> str:
    """For a folder of data files that are not images (one recording per CSV, say), how aelab takes them."""
    found = sorted({p.suffix.lower() for p in entries if p.is_file() and p.suffix.lower() in DATA_SUFFIXES})
    if not found:
        return ""
    return (
        f" (it holds {', '.join(found)} files: a folder is read as images; pass one file to --data, e.g. sequences "
        "as one CSV with columns sequence_id,t,<features>, one sequence_id per recording)"
    )


def _decode_all(files: list[Path], size: tuple[int, int] | None = None) -> np.ndarray:
    """(N, H, W, C) uint8; a selection mixing grayscale and colour images comes back in colour (lossless)."""
    first = read_image(files[0], size=size, crop=True)
    out = np.empty((len(files), *first.shape), dtype=np.uint8)
    out[0] = first
    for i, path in enumerate(files[1:], start=1):
        img = read_image(path, channels=3 if out.shape[3] == 3 else None, size=size, crop=True)
        if img.shape[:2] != out.shape[1:3]:
            raise AelabError(
                f"{path}: image is {img.shape[1]}x{img.shape[0]}, the others {out.shape[2]}x{out.shape[1]}; "
                "pass --image-size HxW to scale and centre-crop them all to one size"
            )
        if img.shape[2] == 3 and out.shape[3] == 1:
            out = to_colour(out, axis=3)
        out[i] = img
    return out


def to_colour(images: np.ndarray, axis: int) -> np.ndarray:
    """Grayscale images repeated into three equal channels along `axis` (a no-op for colour ones)."""
    return images if images.shape[axis] == 3 else np.repeat(images, 3, axis=axis)


# Part of every decode cache key: raise it when decoding changes what a file reads as, so that no cache made before
# serves the old pixels (2: 16-bit and float images scaled to 8 bits, no longer clipped; 3: EXIF orientation applied)
DECODER_VERSION = 3


def _decode_cache_path(files: list[Path], size=None) -> Path | None:
    digest = hashlib.sha256(f"decoder={DECODER_VERSION}\n".encode() + (f"size={size}\n".encode() if size else b""))
    for f in files:
        try:
            st = f.stat()
        except OSError as exc:
            raise AelabError(f"{f}: cannot read ({exc.strerror})") from None
        digest.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return cache_dir() / "decoded" / f"{digest.hexdigest()[:32]}.npy"


def _store(path: Path, images: np.ndarray) -> None:
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, images)
    except OSError:
        pass  # an unwritable cache only costs speed


def images_from_npy(path: Path, mmap: bool = False) -> np.ndarray:
    """(N, H, W, C) uint8 or float in [0, 1]; with `mmap`, left on disk."""
    arr = load_npy(path, mmap=mmap)
    if arr.ndim != 4 or arr.shape[3] not in IMAGE_CHANNELS:
        raise AelabError(
            f"{path}: expected images (N, H, W, C) with C in {IMAGE_CHANNELS}, got shape {arr.shape}{_layout_hint(arr)}"
        )
    return arr


def _layout_hint(arr: np.ndarray) -> str:
    """How to bring a 4-D array in a layout users often have (PyTorch's, or with an alpha channel) to (N, H, W, C)."""
    if arr.ndim != 4:
        return ""
    if arr.shape[1] in IMAGE_CHANNELS:
        return "; channels first (PyTorch's layout)? save np.transpose(x, (0, 2, 3, 1))"
    if arr.shape[3] == 4:
        return "; 4 channels (RGBA)? drop the alpha channel: x[..., :3]"
    if arr.shape[3] > 1:  # multispectral bands, stacked frames: not an image the cnn reads
        return (
            f"; {arr.shape[3]} channels (bands)? the cnn reads 1 or 3: save x.reshape(len(x), -1), a table of "
            "H*W*C columns for dense, or train the cnn on 3 of them"
        )
    return ""


def validate_image_values(arr: np.ndarray, origin, chunk: int = 4096) -> None:
    """Refuse non-finite or out-of-range float images, reading `chunk` images at a time (arr may be a memmap)."""
    if arr.dtype == np.uint8:
        return
    if not np.issubdtype(arr.dtype, np.floating):
        raise AelabError(f"{origin}: images must be uint8 or float in [0, 1], got {arr.dtype}")
    for start in range(0, len(arr), chunk):
        _check_unit_range(np.asarray(arr[start : start + chunk]), origin)


def _check_unit_range(arr: np.ndarray, origin) -> None:
    if not np.isfinite(arr).all():
        raise AelabError(f"{origin}: images contain NaN or inf")
    if arr.min() < 0 or arr.max() > 1:
        low, high = arr.min(), arr.max()
        hint = "; 8-bit values? divide them by 255" if low >= 0 and high <= 255 else ""
        raise AelabError(f"{origin}: image values must lie in [0, 1], found [{low:.3g}, {high:.3g}]{hint}")


def as_unit_float(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) uint8 or [0, 1] float -> (N, C, H, W) float32 in [0, 1], the models' layout."""
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def digits_pool() -> ArrayPool:
    from sklearn.datasets import load_digits

    d = load_digits()
    # 0..16 grey levels -> uint8 0..255, one channel: (1797, 8, 8, 1)
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return ArrayPool(images, d.target.astype(np.int64), [str(n) for n in d.target_names], "digits")
