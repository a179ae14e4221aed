"""Data: `load_dataset(spec)` turns a `--data` value (a `DataSpec`) into seeded train/val/test splits.

Images come out as (N, C, H, W) float32 in [0, 1]; sequences as (N, T, F) and table rows as (N, F) float32,
standardised per feature with statistics of the training split only (kept in `Dataset.normalization` so new data
is scaled alike). `spec.test_data` makes a separate file the test split instead of carving one off.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import AelabError, ConfigError
from ..kinds import IMAGE, SEQUENCE, TABLE, image_size_problem
from ..padding import fit_length
from .cifar10 import locate_cifar10, open_cifar10
from .csvfile import flags_of
from .images import (
    ArrayPool,
    FolderPool,
    as_unit_float,
    digits_pool,
    images_from_npy,
    looks_like_image_folder,
    parse_image_size,
    to_colour,
    validate_image_values,
)
from .lazy import LazyImages, should_stream
from .normalization import Standardizer
from .npy import flat_labels, load_npy, npz_error
from .sequences import LABELLED_SEQUENCE_FILES, label_sort_key, sequences_from_csv, sequences_from_npy, synthetic
from .spec import DataSpec
from .splits import HELD_OUT_TEST_FRACTION, sample, split_off
from .streams import (
    Stream,
    auto_window,
    check_length,
    default_stride,
    rate_notes,
    read_stream,
    step_record,
    windows,
)
from .tables import (
    category_note,
    column_notes,
    csv_header,
    in_training_column_order,
    is_sequence_csv,
    is_sequence_header,
    long_format_note,
    read_table,
)

CIFAR_DEFAULT_TRAIN, CIFAR_DEFAULT_TEST = 10_000, 2_000
DEFAULT_DATA = {IMAGE: "cifar10", SEQUENCE: "synthetic"}  # what --data means when it is not given
NAMED_DATA = ("cifar10", "digits", "synthetic")  # data sets --data names rather than a path

__all__ = [
    "DEFAULT_DATA",
    "NAMED_DATA",
    "DataSpec",
    "Dataset",
    "Split",
    "data_kind",
    "file_notes",
    "load_dataset",
    "sample",
    "split_off",
    "with_test_file",
]


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray | None


@dataclass
class StreamParts:
    """What a stream run keeps besides its windows: its standardised parts, whole, to score per time step."""

    window: int
    stride: int
    val: Stream
    test: Stream
    train: Stream  # the reference that tells an anomaly within the validation part (`aelab.anomaly.threshold`)


@dataclass
class Dataset:
    kind: str  # IMAGE or SEQUENCE
    train: Split
    val: Split
    test: Split
    class_names: list[str] | None
    spec: DataSpec  # enough to rebuild the same splits
    normalization: Standardizer | None = None  # sequences: per-feature statistics of the training split
    feature_names: list[str] | None = field(default=None)
    stream: StreamParts | None = None  # a stream cut into windows (`--window`)
    no_probes: str | None = None  # why there are no probes although the training data has labels
    notes: tuple[str, ...] = ()  # lines for the user about how the data was read
    categories: dict[str, list[str]] = field(default_factory=dict)  # a table's text columns: their values
    anomaly_labels: bool = False  # the labels are a table's is_anomaly flags: runs report how errors rank them

    def probe_note(self) -> str | None:
        """A line for the user where the training data has labels and the probes are off anyway."""
        return None if self.no_probes is None else f"no probes: {self.no_probes}"

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def has_labels(self) -> bool:
        return self.train.y is not None and self.test.y is not None


def load_dataset(spec: DataSpec | str, *, normalization: Standardizer | None = None, **options) -> Dataset:
    """Load `spec.data` and split it by the contract's protocol (`spec` may be a `--data` value plus `options`).

    `normalization` scales sequences with a trained run's statistics
    instead of fitting new ones on the training split. `spec.stream`: image splits stay on disk and are decoded
    per batch (`LazyImages`); None decides by size (more than a quarter of the machine's memory streams).
    """
    if not isinstance(spec, DataSpec):
        spec = DataSpec(spec, **options)
    elif options:
        spec = spec.replace(**options)
    _check_options_apply(spec)
    if spec.window is not None:
        return _stream_dataset(spec, normalization)
    if spec.data in ("cifar10", "digits") or _is_image_path(spec.data):
        return _image_files_dataset(spec)
    train_n, test_n, val_fraction, seed = spec.train_n, spec.test_n, spec.val_fraction, spec.seed
    if spec.data == "synthetic":
        x, y, names = synthetic(seed=seed)
        return _array_dataset(
            SEQUENCE, x, y, names, None, train_n, test_n, val_fraction, seed, spec, "synthetic", normalization
        )
    path = Path(spec.data)
    if not path.exists():
        raise AelabError(f"--data: {spec.data!r} is neither cifar10, digits, synthetic nor an existing path")
    kind, x, raw_y, features, categories, notes, anomaly_labels = _read_arrays(path, spec.labels, spec.length)
    notes += (f"{path.name}: {category_note(categories)}",) if categories else ()
    if kind == TABLE and x.shape[1] < 2:  # a code of one value would copy it: every error 0, nothing learnt
        raise AelabError(
            f"{path}: a table of one feature column has nothing to compress; one long series? read it as a stream "
            "of windows with --window W (or auto)"
        )
    held, no_probes = None, None
    if spec.test_data:  # a test set of its own: the whole file, read like the training file
        held = _array_test_set(spec, kind, x, raw_y, features, categories)
        no_probes, notes = held.no_probes, notes + held.notes
        anomaly_labels &= held.flags
        if held.raw_y is None:
            raw_y = None  # probes need labels on both sides
    y, y_test, names = _encode_labels(raw_y, None if held is None else held.raw_y)
    test = None if held is None else (held.x, y_test)
    dataset = _array_dataset(
        kind, x, y, names, features, train_n, test_n, val_fraction, seed, spec, path, normalization, test
    )
    anomaly_labels &= dataset.has_labels
    notes += tuple(filter(None, [dataset.normalization.constant_note(features, path.name)]))
    return replace(dataset, no_probes=no_probes, notes=notes, categories=categories, anomaly_labels=anomaly_labels)


def _image_files_dataset(spec: DataSpec) -> Dataset:
    """CIFAR-10, digits or an image folder (or `.npy` of images), split by the seed protocol; a test set of its own
    (`spec.test_data`) in place of the data's."""
    size = parse_image_size(spec.image_size)
    train_n, test_n = spec.train_n, spec.test_n
    if spec.data == "cifar10":
        train_pool, test_pool = open_cifar10(locate_cifar10(spec.cifar10))
        if spec.train_size is None:
            train_n = CIFAR_DEFAULT_TRAIN
        if spec.test_size is None:
            test_n = CIFAR_DEFAULT_TEST
    elif spec.data == "digits":
        train_pool, test_pool = digits_pool(), None
    else:
        train_pool, test_pool = _image_path_pools(Path(spec.data), spec.labels, size)
    no_probes = None
    if test_pool is not None and test_pool.unknown_classes:  # the folder's own test/ with other classes
        no_probes = _test_pool_note(test_pool, None)
    if spec.test_data:  # a test set of its own, in place of the data's
        labelled = train_pool.labels is not None
        test_pool = _image_test_pool(spec.test_data, spec.test_labels, size, train_pool.class_names, labelled)
        test_n = spec.test_n
        if labelled and test_pool.labels is None:
            no_probes = _test_pool_note(test_pool, spec.test_data)
    dataset = _image_dataset(train_pool, test_pool, train_n, test_n, spec.val_fraction, spec.seed, spec, spec.stream)
    return replace(dataset, no_probes=no_probes)


class HeldOutFile(NamedTuple):
    x: np.ndarray  # in the training data's column order and length
    raw_y: np.ndarray | None  # None: unlabelled, or labelled with classes the training data lacks (no_probes says)
    no_probes: str | None
    notes: tuple[str, ...]
    flags: bool  # its labels are is_anomaly flags


def _array_test_set(spec: DataSpec, kind: str, x, raw_y, features, categories) -> HeldOutFile:
    """`spec.test_data`, the whole file, read like the training file (`kind`, `x`, `raw_y`, `features`,
    `categories`) and checked against it: each failure one line naming the file."""
    test_path = Path(spec.test_data)
    if not test_path.exists():
        raise AelabError(f"--test-data: {test_path} does not exist")
    test_kind, x_test, raw_y_test, test_features, _, notes, flags = _read_arrays(
        test_path, spec.test_labels, None, categories
    )
    if test_kind == kind == SEQUENCE:
        x_test, length_notes = _to_training_length(x_test, x, bool(spec.length), test_path)
        notes += length_notes
    if test_kind == kind:  # named columns: a missing or unknown one is named, not counted
        x_test = in_training_column_order(x_test, test_features, features, f"--test-data {test_path}")
    if test_kind != kind or x_test.shape[1:] != x.shape[1:]:
        raise AelabError(
            f"--test-data {test_path}: {test_kind} samples of shape {x_test.shape[1:]}, "
            f"the training data has {kind} samples of shape {x.shape[1:]}"
        )
    if raw_y is None and spec.test_labels:
        raise AelabError(
            f"--test-labels {spec.test_labels}: the training data has no labels (--labels FILE.npy or a 'label' "
            "column); probes need both"
        )
    no_probes = None
    if raw_y is not None and raw_y_test is None:
        no_probes = _unlabelled(test_path)
    elif raw_y is not None and (unknown := _unknown_labels(raw_y_test, raw_y, test_path)):  # as for images
        no_probes, raw_y_test = unknown, None
    return HeldOutFile(x_test, raw_y_test, no_probes, notes, flags)


def _to_training_length(x_test: np.ndarray, x_train: np.ndarray, cut: bool, test_path) -> tuple[np.ndarray, tuple]:
    """Test sequences at the training length (`fit_length`: ragged or shorter ones padded, longer ones cut only with
    `cut`), and a line for the user when every one is shorter than the training sequences, which all have one
    length: each is then read as a shorter sequence, as ragged data is, but two files of different lengths are as
    likely two different data sets."""
    fitted = fit_length(x_test, x_train.shape[1], cut, test_path)
    if x_test.shape[1] >= x_train.shape[1] or np.isnan(x_train[:, -1]).any():
        return fitted, ()
    note = (
        f"--test-data {test_path}: sequences of {x_test.shape[1]} steps where the training ones have "
        f"{x_train.shape[1]}; each is scored as a shorter sequence (the steps it lacks masked)"
    )
    return fitted, (note,)


def _check_options_apply(spec: DataSpec) -> None:
    """Refuse an option that the data named would ignore, so that a run never records a setting it did not use."""
    if spec.labels and spec.data in NAMED_DATA:
        raise ConfigError("labels", f"{spec.data} brings its own labels")
    image_folder = spec.window is None and spec.data not in ("cifar10", "digits") and Path(spec.data).is_dir()
    if spec.image_size and not image_folder:
        raise ConfigError("image_size", "applies to image folders (files of different sizes)")
    if spec.length and spec.window is not None:
        raise ConfigError("length", "applies to sequence files; a stream's windows are --window steps long")
    if spec.length and _named_or_images(spec.data):
        raise ConfigError("length", "applies to sequence files (.csv, .npy)")


def _unlabelled(test_data) -> str:
    return f"--test-data {test_data} has no labels (give --test-labels FILE.npy, a 'label' column or class sub-folders)"


def _unknown_labels(raw_test, known, test_path) -> str | None:
    """Why there are no probes when `--test-data` has labels that are not among `known` (names, or labels as
    written), naming up to 5 of them; else None."""
    unknown = sorted({str(v) for v in raw_test} - {str(v) for v in known}, key=label_sort_key)
    if not unknown:
        return None
    return f"--test-data {test_path} has labels the training data does not: {', '.join(unknown[:5])}"


def _test_pool_note(pool, test_data) -> str | None:
    """Why a test pool of images has no labels for the probes: classes the training data lacks, or none at all."""
    if pool.unknown_classes:
        return f"{pool.origin} has classes the training data does not: {', '.join(pool.unknown_classes[:5])}"
    return _unlabelled(test_data) if pool.labels is None else None


def with_test_file(dataset: Dataset, test_data, test_labels=None) -> Dataset:
    """`dataset` with its test split replaced by the whole of `test_data`, scaled with the training statistics
    (for `aelab evaluate --test-data`: the training split, PCA and probes stay the run's own)."""
    if dataset.kind == IMAGE:
        size = parse_image_size(dataset.spec.image_size)
        pool = _image_test_pool(test_data, test_labels, size, dataset.class_names, dataset.train.y is not None)
        idx = np.arange(len(pool))
        test = _image_split(pool, idx, isinstance(dataset.train.x, LazyImages))
        if test.x.shape[1] == 1 and dataset.sample_shape[0] == 3:
            test = _in_colour(test)
        if test.x.shape[1:] != dataset.sample_shape:
            raise AelabError(
                f"--test-data {test_data}: images of shape {test.x.shape[1:]}, the run takes {dataset.sample_shape}"
            )
        unlabelled = dataset.train.y is not None and test.y is None
        return replace(dataset, test=test, no_probes=_test_pool_note(pool, test_data) if unlabelled else None)
    if dataset.stream is not None:
        parts = dataset.stream
        test = read_stream(test_data, test_labels).scaled(dataset.normalization, dataset.feature_names)
        check_length(test, parts.window, "test stream")
        return replace(
            dataset,
            test=Split(windows(test.values, parts.window, parts.stride), None),
            stream=replace(parts, test=test),
            notes=test.notes + rate_notes(test, step_record(parts.train), parts.window),
        )
    test_path = Path(test_data)
    if not test_path.exists():
        raise AelabError(f"--test-data: {test_path} does not exist")
    kind, x, raw_y, features, _, notes, anomaly_labels = _read_arrays(test_path, test_labels, None, dataset.categories)
    if kind == dataset.kind == SEQUENCE:
        x, length_notes = _to_training_length(x, dataset.train.x, bool(dataset.spec.length), test_path)
        notes += length_notes
    if kind != dataset.kind or x.shape[1:] != dataset.sample_shape:
        raise AelabError(
            f"--test-data {test_path}: {kind} samples of shape {x.shape[1:]}, the run takes {dataset.kind} samples "
            f"of shape {dataset.sample_shape}"
        )
    x = in_training_column_order(x, features, dataset.feature_names, f"--test-data {test_path}")
    known = {name: i for i, name in enumerate(dataset.class_names or [])}
    y, no_probes = None, None
    if dataset.train.y is not None and raw_y is None:
        no_probes = _unlabelled(test_path)
    elif dataset.train.y is not None:
        if unknown := _unknown_labels(raw_y, known, test_path):
            no_probes = unknown
        else:
            y = np.array([known[str(v)] for v in raw_y], dtype=np.int64)
    anomaly_labels = dataset.anomaly_labels and anomaly_labels and y is not None
    test = Split(dataset.normalization.apply(x), y)
    return replace(dataset, test=test, no_probes=no_probes, notes=notes, anomaly_labels=anomaly_labels)


class ReadArrays(NamedTuple):
    """A sequence or table file as read (`_read_arrays`)."""

    kind: str
    x: np.ndarray
    raw_labels: np.ndarray | None
    features: list[str] | None
    categories: dict[str, list[str]]  # a table's text columns and their values
    notes: tuple[str, ...]  # lines for the user about how it was read
    anomaly_labels: bool = False  # the labels are an is_anomaly column's 0/1 flags


def _read_arrays(
    path: Path, labels, length: int | None = None, categories: dict[str, list[str]] | None = None
) -> ReadArrays:
    """A sequence or table file, its sequences cut or padded to `length` steps when given; a table's text columns
    read as `categories` (a test file's: the training table's), or as the categories they hold (`read_table`)."""
    read_as, notes, anomaly_labels = {}, (), False
    kind = _file_kind(path)
    if kind == SEQUENCE and path.suffix.lower() == ".csv":
        read = sequences_from_csv(path, length)
        x, features = read.x, read.features
        raw = None if read.y is None else np.asarray(read.class_names)[read.y]
    elif kind == SEQUENCE:
        if path.suffix.lower() in LABELLED_SEQUENCE_FILES:
            x, raw = LABELLED_SEQUENCE_FILES[path.suffix.lower()](path)
        else:
            x, raw = sequences_from_npy(path), None
        features = None
        if length:
            x = fit_length(x, length, True, path)
    else:
        if length:
            raise ConfigError("length", f"applies to sequence files (.csv, .npy); {path.name} is a table")
        table = read_table(path, categories)
        x, raw, features, read_as, notes = table.x, table.labels, table.feature_names, table.categories, table.notes
        anomaly_labels = table.label_column == "is_anomaly" and not labels and flags_of(raw) is not None
    if kind == SEQUENCE and x.shape[1] < 2:  # else the model's config refused it without naming the file
        raise AelabError(
            f"{path}: sequences of {x.shape[1]} step{'s' * (x.shape[1] != 1)}; a model needs at least 2 "
            "(one row per sample is a table: save it as (N, F))"
        )
    if labels:
        if raw is not None:  # the file's own labels were replaced without a word
            notes += (f"{path}: its own class labels are not used; {labels} gives them (--labels)",)
        raw = _raw_labels_from_file(labels, len(x))
    elif raw is not None:
        where = "its class labels" if path.suffix.lower() in LABELLED_SEQUENCE_FILES else "column 'label'"
        _check_class_labels(raw, f"{path}: {where}")
    return ReadArrays(kind, x, raw, features, read_as, notes, anomaly_labels)


def _encode_labels(raw_train, raw_test):
    """Class indices for train and test under one list of class names (sorted, numbers numerically)."""
    if raw_train is None:
        return None, None, None
    both = [str(v) for v in (raw_train if raw_test is None else np.concatenate([raw_train, raw_test]))]
    names = sorted(set(both), key=label_sort_key)
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index[v] for v in both], dtype=np.int64)
    y, y_test = codes[: len(raw_train)], (None if raw_test is None else codes[len(raw_train) :])
    return y, y_test, names


def data_kind(data: str, window=None) -> str:
    """The kind of samples `--data` holds (IMAGE, SEQUENCE or TABLE), from its name, its file's suffix and shape or
    CSV header alone, as `load_dataset` will read it: a stream (`window` given) yields sequence windows."""
    if window is not None:
        return SEQUENCE
    if data in ("cifar10", "digits") or _is_image_path(data):
        return IMAGE
    if data == "synthetic":
        return SEQUENCE
    path = Path(data)
    if not path.exists():
        raise AelabError(f"--data: {data!r} is neither cifar10, digits, synthetic nor an existing path")
    return _file_kind(path)


OTHER_FORMATS = (  # files users have, and how to bring them
    ((".gz", ".zip", ".bz2", ".xz", ".zst", ".7z", ".tar"), "; compressed: unpack it first"),
    ((".xlsx", ".xls", ".xlsm", ".ods"), "; a spreadsheet: save the sheet as CSV"),
    ((".json", ".jsonl", ".ndjson", ".feather", ".arrow", ".h5", ".hdf5", ".mat", ".pkl", ".pickle"),
     "; save it as CSV or parquet (a table, a stream), or its arrays with np.save"),
    ((".arff",), "; the UCR/UEA archives ship each set as .ts (and UCR's as .tsv) beside .arff: pass those; a Weka "
     "table: save it as CSV"),
)  # fmt: skip


def _file_kind(path: Path) -> str:
    """SEQUENCE or TABLE: what a file that is not images holds, by its suffix, an .npy's rank or a CSV's header
    (`_read_arrays` reads it so; `data_kind` tells the kind before reading)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return SEQUENCE if is_sequence_csv(path) else TABLE
    if suffix in LABELLED_SEQUENCE_FILES:  # the UCR/UEA archives' own files
        return SEQUENCE
    if suffix == ".npy":
        return SEQUENCE if _npy_ndim(path) == 3 else TABLE
    if suffix == ".parquet":
        return TABLE
    if suffix == ".txt":
        raise AelabError(f"{path}: a .txt of numbers is read as a stream; pass --window W (or --window auto)")
    if suffix == ".npz":
        raise npz_error(path)
    hint = next((h for suffixes, h in OTHER_FORMATS if suffix in suffixes), "")
    raise AelabError(f"{path}: not an image folder, .npy, .csv, .parquet, or the UCR/UEA archives' .tsv or .ts{hint}")


def file_notes(data: str) -> list[str]:
    """Lines for the user about a `--data` file that may not be read as its author meant: `column_notes` on the
    header of a file with named columns (a CSV or a parquet file), and an `.npy` of bytes read as sequences."""
    path = Path(data)
    if not path.is_file():
        return []
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header = csv_header(path)
        notes = column_notes(header)
        if not is_sequence_header(header) and (long_format := long_format_note(path)):
            notes.append(long_format)
        return notes
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            return column_notes(pq.read_schema(path).names)
        except Exception:  # unreadable: reading the data itself says why
            return []
    if suffix == ".npy":
        array = _npy_or_none(path)
        bytes_as_sequences = array is not None and array.ndim == 3 and array.dtype == np.uint8
        if bytes_as_sequences:  # MNIST-like files come as (N, 28, 28) bytes
            n, t, f = array.shape
            return [
                f"{path.name}: uint8 ({n}, {t}, {f}) read as {n} sequences of {t} steps x {f} features; "
                "grayscale images need a channel axis: np.save(path, x[..., None])"
            ]
    return []


def _npy_or_none(path: Path) -> np.ndarray | None:
    """The `.npy` at `path` memory-mapped, to tell its shape before reading it, or None where it is not one (a
    pickle, an .npz under another name, a broken file): the loader then says what is wrong with it."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if not isinstance(array, np.ndarray):
        array.close()
        return None
    return array


def _npy_ndim(path: Path) -> int:
    array = _npy_or_none(path)
    return -1 if array is None else array.ndim


def _named_or_images(data: str) -> bool:
    """A data set by name or images: not a file of sequences, rows or a stream (what --length and --window cut)."""
    return data in NAMED_DATA or _is_image_path(data)


def _is_image_path(data: str) -> bool:
    path = Path(data)
    if path.is_dir():
        return True
    if path.suffix.lower() == ".npy" and path.is_file():
        array = _npy_or_none(path)
        return array is not None and array.ndim == 4
    return False


def _image_path_pools(path: Path, labels, size=None):
    """(train pool, test pool or None) of an image path: a folder with `train/<class>/` (and optional
    `test/<class>/`), a folder of class sub-folders or of images alone, or an `.npy`."""
    if path.is_dir() and looks_like_image_folder(path):
        train = FolderPool.scan(path / "train", size=size)
        test = FolderPool.scan(path / "test", train.class_names, size) if (path / "test").is_dir() else None
        return train, test
    if path.is_dir() and path.name in ("train", "test") and looks_like_image_folder(path.parent):
        raise AelabError(f"{path}: points inside the image folder; pass its parent {path.parent}")
    return _image_pool(path, labels, size), None


def _image_test_pool(test_data, test_labels, size, class_names, labelled: bool):
    """The images of `--test-data` (a folder of class sub-folders or of images alone, or an `.npy`) as a test pool
    labelled with the training classes (unlabelled where the training images are)."""
    test_path = Path(test_data)
    if not test_path.exists():
        raise AelabError(f"--test-data: {test_path} does not exist")
    if not _is_image_path(str(test_path)):
        raise AelabError(f"--test-data: {test_path} is not an image folder or an .npy of images")
    test = _image_pool(test_path, test_labels, size, class_names)
    if not labelled:  # probes and coloured plots need labels on both sides
        test = replace(test, labels=None, class_names=None)
    return test


def _image_pool(path: Path, labels, size=None, class_names=None):
    """One pool of images from a folder (class sub-folders or images alone) or an `.npy` (N, H, W, C), labelled
    by `class_names` where given (a test set's labels must be among the training classes)."""
    if path.is_dir():
        return FolderPool.scan_any(path, class_names, size)
    if size is not None:
        raise AelabError("--image-size: applies to image folders; an .npy holds images of one size already")
    images = images_from_npy(path, mmap=True)  # rows are read when a split takes them
    validate_image_values(images, path)
    y, names = _labels_from_file(labels, len(images)) if labels else (None, None)
    if y is not None and class_names is not None:
        if unknown := tuple(sorted(set(names) - set(class_names))):  # a test set of other classes: unlabelled
            return ArrayPool(images, None, None, str(path), unknown_classes=unknown)
        y, names = np.array([class_names.index(names[i]) for i in y], dtype=np.int64), class_names
    return ArrayPool(images, y, names, str(path))


def _raw_labels_from_file(path, n: int) -> np.ndarray:
    y = flat_labels(load_npy(Path(path)))
    if y.ndim != 1 or len(y) != n:
        raise AelabError(f"{path}: labels must be a 1-D array of {n} entries, got shape {y.shape}")
    _check_class_labels(y, path)
    return y


def _check_class_labels(raw, origin) -> None:
    """Labels name classes (for the probes and the latent plot's colours): names or whole numbers. A continuous
    target would make each value a class of its own and every probe score 0%."""
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        return  # class names
    fractional = ~(np.isfinite(values) & (values == np.round(values)))
    if fractional.any():
        raise AelabError(
            f"{origin}: labels name classes, but {values[fractional][0]:g} is not a whole number (a continuous "
            "target? bin it into classes first)"
        )


def _labels_from_file(path, n: int):
    names, y = np.unique(_raw_labels_from_file(path, n), return_inverse=True)
    return y.astype(np.int64), [str(v) for v in names]


def _image_dataset(train_pool, test_pool, train_n, test_n, val_fraction, seed, spec, stream) -> Dataset:
    labels = train_pool.labels
    all_idx = np.arange(len(train_pool))
    if test_pool is None:  # no test set of its own: hold out a seeded, stratified share
        all_idx, test_idx = split_off(all_idx, labels, HELD_OUT_TEST_FRACTION, seed, "test split")
        test_idx = sample(test_idx, labels, test_n, seed, "--test-size")
        test_pool = train_pool
    else:
        test_idx = sample(np.arange(len(test_pool)), test_pool.labels, test_n, seed, "--test-size")
    pool_idx = sample(all_idx, labels, train_n, seed, "--train-size")
    train_idx, val_idx = split_off(pool_idx, labels, val_fraction, seed, "--val-fraction")

    first = train_pool.take(train_idx[:1], cache=False)  # (1, H, W, C): its size is checked before all are decoded
    if problem := image_size_problem(*first.shape[1:3]):  # else the model's config refused them without the data
        folder = Path(spec.data).is_dir()
        hint = "; pass --image-size HxW to scale and centre-crop them" if folder else "; scale them first"
        raise AelabError(f"{spec.data}: {problem}{hint}")
    if stream is None:
        stream = should_stream(len(train_idx) + len(val_idx) + len(test_idx), first.size)

    parts = ((train_pool, train_idx), (train_pool, val_idx), (test_pool, test_idx))
    train, val, test = (_image_split(pool, idx, stream) for pool, idx in parts)
    if 3 in {s.x.shape[1] for s in (train, val, test)}:  # a grayscale split beside colour ones
        train, val, test = (_in_colour(s) for s in (train, val, test))
    if test.x.shape[1:] != train.x.shape[1:]:
        origin = f"--test-data {spec.test_data}" if spec.test_data else spec.data  # where the test images came from
        (h, w), (test_h, test_w) = train.x.shape[2:], test.x.shape[2:]
        files = Path(spec.test_data or spec.data).is_dir()
        hint = f"pass --image-size {h}x{w} to scale and centre-crop both" if files else "scale them to one size first"
        raise AelabError(
            f"{origin}: train and test images differ in size: {h}x{w} for training, {test_h}x{test_w} to test; {hint}"
        )
    if isinstance(train.x, np.ndarray) and not np.ptp(train.x, axis=0).max() > 0:  # as Standardizer.fit refuses
        raise AelabError(f"{spec.data}: every training image is the same; there is nothing for a model to learn")
    return Dataset(IMAGE, train, val, test, train_pool.class_names, spec)


def _image_split(pool, idx, stream: bool) -> Split:
    """The images of `pool` at `idx`: decoded per batch from disk (`stream`) or in memory as floats in [0, 1]."""
    x = LazyImages(pool, idx) if stream else as_unit_float(pool.take(idx))
    return Split(x, None if pool.labels is None else pool.labels[idx])


def _in_colour(split: Split) -> Split:
    return Split(split.x.in_colour() if isinstance(split.x, LazyImages) else to_colour(split.x, axis=1), split.y)


def _array_dataset(
    kind, x, y, names, features, train_n, test_n, val_fraction, seed, spec, origin, normalization=None, test=None
) -> Dataset:
    """Sequences or table rows split by the protocol, each feature standardised with training statistics.
    `test`: (x, y) of a test set of its own; then all of `x` is the pool for train and validation."""
    what = "sequences" if kind == SEQUENCE else "rows"
    if len(x) < (2 if test is not None else 3):
        count = f"1 {what[:-1]} is" if len(x) == 1 else f"{len(x)} {what} are"
        raise AelabError(f"{origin}: {count} too few to split into train/val/test")
    rest = np.arange(len(x))
    if test is None:
        rest, test_idx = split_off(rest, y, HELD_OUT_TEST_FRACTION, seed, "test split")
        test_idx = sample(test_idx, y, test_n, seed, "--test-size")
    pool_idx = sample(rest, y, train_n, seed, "--train-size")
    train_idx, val_idx = split_off(pool_idx, y, val_fraction, seed, "--val-fraction")
    if normalization is None:
        normalization = Standardizer.fit(x[train_idx], origin)
    else:
        normalization.check(x.shape[-1], origin)

    def split(idx):
        return Split(normalization.apply(x[idx]), None if y is None else y[idx])

    if test is None:
        test_split = split(test_idx)
    else:
        x_test, y_test = test
        chosen = sample(np.arange(len(x_test)), y_test, test_n, seed, "--test-size")
        test_split = Split(normalization.apply(x_test[chosen]), None if y_test is None else y_test[chosen])
    return Dataset(kind, split(train_idx), split(val_idx), test_split, names, spec, normalization, features)


def _stream_dataset(spec: DataSpec, normalization: Standardizer | None) -> Dataset:
    """Windows of a stream. Without `spec.test_data` the last 20% of the stream is the test part; the validation
    part is the last `val_fraction` of what precedes it: time order is kept, the future never trains the past."""
    if spec.train_size is not None or spec.test_size is not None:
        raise AelabError("--train-size/--test-size: count samples; a stream is split by time (--val-fraction)")
    if _named_or_images(spec.data):
        raise AelabError(f"--window: {spec.data} is not a stream (a .csv or a 2-D .npy)")
    stream = read_stream(spec.data, spec.labels)
    notes = stream.notes
    if spec.test_data:  # its columns are checked against the training stream's when it is scaled below
        fit_part, test = stream, read_stream(spec.test_data, spec.test_labels)
        notes += test.notes
    elif stream.train_steps:  # the file's own split (the UCR anomaly archive): its anomaly-free start trains
        fit_part, test = stream.part(0, stream.train_steps), stream.part(stream.train_steps, len(stream))
    else:
        cut = round(len(stream) * (1 - HELD_OUT_TEST_FRACTION))
        fit_part, test = stream.part(0, cut), stream.part(cut, len(stream))
    cut = round(len(fit_part) * (1 - spec.val_fraction))
    train, val = fit_part.part(0, cut), fit_part.part(cut, len(fit_part))
    window, rule = (spec.window, None) if spec.window != "auto" else auto_window(train.values)
    stride = spec.stride or default_stride(window)
    if stride > window:  # steps between windows would go unscored
        raise ConfigError("stride", f"must be at most the window ({window} steps), got {stride}")
    for part, what in ((train, "training part"), (val, "validation part"), (test, "test part")):
        check_length(part, window, what)
    if spec.test_data:
        notes += rate_notes(test, step_record(fit_part), window)
    if normalization is None:
        normalization = Standardizer.fit(train.values, spec.data)
    notes += tuple(filter(None, [normalization.constant_note(stream.feature_names, Path(spec.data).name)]))
    train, val, test = (s.scaled(normalization, stream.feature_names) for s in (train, val, test))

    def split(part: Stream) -> Split:
        return Split(windows(part.values, window, stride), None)

    spec = spec.replace(window=window, stride=stride, window_rule=rule or spec.window_rule)
    return Dataset(
        SEQUENCE,
        split(train),
        split(val),
        split(test),
        None,
        spec,
        normalization,
        stream.feature_names,
        StreamParts(window, stride, val, test, train),
        notes=notes,
    )
