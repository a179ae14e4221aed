"""Use a trained run on new data: encode, reconstruct, score. Inputs stream in batches and outputs are
written through a temporary file that is renamed into place only when complete.

Inputs: an image folder (read lazily, recursively), one image file, an `.npy` of images (N, H, W, C) or of
sequences (N, T, F) (memory-mapped), a sequence CSV, a table, or, for a run trained on a stream, a stream (a CSV,
`.parquet`, `.txt` or 2-D `.npy`) whose results come per time step (scores, reconstructions) or per window (codes).
Outputs: `.npy`, `.csv` or `.parquet`; an image run's reconstructions also as a folder of PNG files.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from . import plots
from .anomaly import CEILING_FACTOR, anomaly_metrics, step_scores
from .data import DataSpec, load_dataset
from .data.csvfile import flags_of
from .data.images import IMAGE_SUFFIXES, LUMA, image_files_under, read_image, validate_image_values
from .data.npy import ArrayRows, NpyChunks
from .data.sequences import LABELLED_SEQUENCE_FILES, check_padding, sequences_from_csv
from .data.streams import (
    Stream,
    check_length,
    mean_over_windows,
    per_window,
    rate_notes,
    read_stream,
    window_starts,
)
from .data.tables import category_columns, category_names, in_training_column_order, read_table
from .errors import AelabError
from .evaluate import PCABaseline, encode, per_sample_mse, reconstruct
from .io import atomic_path, check_writable
from .kinds import IMAGE, TABLE
from .padding import filled, fit_length, masked_like
from .run import Run, load_run
from .stats import EXACT_MSE

OUTPUT_SUFFIXES = (".npy", ".csv", ".parquet")


class Source:
    """N samples in model layout, produced batch by batch; `raw_dtype` says how to write reconstructions back."""

    def __init__(
        self, n: int, batches, raw_dtype=np.float32, ragged: bool = False, names=None, steps=None, notes=(), flags=None
    ):
        self.n = n
        self.flags: np.ndarray | None = flags  # a table's is_anomaly column, 0/1 per sample: `score` reports on it
        self.notes: tuple[str, ...] = notes  # lines for the user about how the input was read
        self._batches = batches
        self.raw_dtype = raw_dtype
        self.ragged = ragged  # sequences padded with NaN (aelab.padding)
        # (column, one per sample): image files' paths, a CSV's sequence ids or a table's id column, written beside
        # each output row, which is otherwise known only by its index; None where rows have no names (an .npy)
        self.names: tuple[str, list[str]] | None = names
        self.steps: list[list[str]] | None = steps  # a CSV's sequences: each one's t values as written

    def name_columns(self, start: int, stop: int) -> list[np.ndarray]:
        """The names of samples start..stop as a column to append to table outputs, or no column."""
        return [] if self.names is None else [np.asarray(self.names[1][start:stop], dtype=object)]

    def name_header(self) -> list[str]:
        return [] if self.names is None else [self.names[0]]

    def __iter__(self) -> Iterator[np.ndarray]:
        return self._batches()


def _image_files(root: Path) -> list[Path]:
    files = image_files_under(root)
    if not files:
        raise AelabError(f"{root}: no image files to read")
    return files


def _image_source(run: Run, path: Path, resize: bool, batch_size: int) -> Source:
    channels, height, width = run.model.input_shape
    crop = bool((run.config.get("data") or {}).get("image_size"))  # the run's --image-size: cover and crop alike
    size = (height, width) if resize or crop else None

    def fit(img: np.ndarray, origin) -> np.ndarray:  # (H, W, C) uint8; read_image already matched the channels
        if img.shape[:2] != (height, width):
            raise AelabError(
                f"{origin}: image is {img.shape[1]}x{img.shape[0]}, the model takes {width}x{height} (pass --resize)"
            )
        return img

    if path.suffix.lower() == ".npy":
        arr = NpyChunks(path)
        if arr.ndim != 4:
            raise AelabError(f"{path}: expected images (N, H, W, C), got shape {arr.shape}")
        if arr.shape[3] not in (1, 3, 4):
            raise AelabError(f"{path}: {arr.shape[3]} channels; images need 1 (gray), 3 (RGB) or 4 (RGBA)")
        if not (arr.dtype == np.uint8 or np.issubdtype(arr.dtype, np.floating)):
            raise AelabError(f"{path}: images must be uint8 or float in [0, 1], got {arr.dtype}")

        def batches():
            for i in range(0, len(arr), batch_size):
                chunk = arr.read(i, i + batch_size)
                validate_image_values(chunk, f"{path} (samples {i}..{i + len(chunk) - 1})")
                x = chunk[..., :3] if chunk.shape[3] == 4 else chunk  # drop alpha
                x = torch.from_numpy(x.astype(np.float32) / (255.0 if chunk.dtype == np.uint8 else 1.0)).permute(
                    0, 3, 1, 2
                )
                if x.shape[1] == 1 and channels == 3:
                    x = x.expand(-1, 3, -1, -1)
                elif x.shape[1] == 3 and channels == 1:  # a grayscale model reads colour as its luminance
                    x = (x * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
                if x.shape[1] != channels:
                    raise AelabError(f"{path}: {x.shape[1]} channels, the model takes {channels}")
                if x.shape[2:] != (height, width):
                    if not resize:
                        raise AelabError(
                            f"{path}: images are {x.shape[3]}x{x.shape[2]}, the model takes {width}x{height} "
                            "(pass --resize)"
                        )
                    x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
                yield x.contiguous().numpy()

        return Source(len(arr), batches, np.uint8 if arr.dtype == np.uint8 else np.float32)

    files = _image_files(path) if path.is_dir() else [path]

    def batches():
        for i in range(0, len(files), batch_size):
            imgs = [fit(read_image(f, channels=channels, size=size, crop=crop), f) for f in files[i : i + batch_size]]
            yield np.stack(imgs).astype(np.float32).transpose(0, 3, 1, 2) / 255.0

    names = [f.relative_to(path).as_posix() if path.is_dir() else f.name for f in files]
    return Source(len(files), batches, np.uint8, names=("file", names))


def _sequence_source(run: Run, path: Path, batch_size: int) -> Source:
    seq_len, n_features = run.model.input_shape
    scaler = run.normalization
    ragged, names, steps = False, None, None
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = NpyChunks(path)
    elif suffix == ".csv" or suffix in LABELLED_SEQUENCE_FILES:  # ragged sequences come padded (NaN)
        if suffix == ".csv":
            read = sequences_from_csv(path)
            names, steps = ("sequence_id", read.ids), read.steps
            x = in_training_column_order(read.x, read.features, run.config.get("feature_names"), path)
        else:  # the UCR/UEA archives' files; their labels are not needed here
            x = LABELLED_SEQUENCE_FILES[suffix](path)[0]
        if x.shape[2] == n_features:  # to the run's length
            x = fit_length(x, seq_len, bool((run.config.get("data") or {}).get("length")), path)
        arr, ragged = ArrayRows(x), bool(np.isnan(x).any())
    else:
        raise AelabError(f"{path}: sequences must come as .npy (N, T, F), .csv, or the UCR/UEA archives' .tsv or .ts")
    if arr.ndim != 3:
        hint = ""
        if arr.shape == (seq_len, n_features):
            hint = "; one sequence? save it as (1, T, F): x[None]"
        elif arr.ndim == 2 and arr.shape[1] == n_features:
            hint = f"; one long series? cut it into sequences of {seq_len} steps, or train on it as a stream (--window)"
        raise AelabError(
            f"{path}: a {arr.ndim}-D array {arr.shape}, the model takes sequences "
            f"(N, T={seq_len}, F={n_features}){hint}"
        )
    if arr.shape[1:] != (seq_len, n_features):
        raise AelabError(f"{path}: sequences of shape {arr.shape[1:]}, the model takes (T={seq_len}, F={n_features})")

    def batches():
        for i in range(0, len(arr), batch_size):
            chunk = arr.read(i, i + batch_size).astype(np.float32)
            if not ragged:  # an .npy may hold sequences padded with NaN at their end (as the UCR archive does)
                check_padding(chunk, path, first=i)
            yield scaler.apply(chunk)

    return Source(len(arr), batches, ragged=ragged, names=names, steps=steps)


def _table_source(run: Run, path: Path, batch_size: int) -> Source:
    """Rows of a table file, checked against the training table's columns and standardised like them."""
    (n_features,) = run.model.input_shape
    table = read_table(path, run.config.get("categories", {}))
    x = in_training_column_order(table.x, table.feature_names, run.config.get("feature_names"), path)
    if x.shape[1] != n_features:
        raise AelabError(f"{path}: {x.shape[1]} columns, the model was trained on {n_features}")
    scaled = run.normalization.apply(x)

    def batches():
        for i in range(0, len(scaled), batch_size):
            yield scaled[i : i + batch_size]

    flags = flags_of(table.labels) if table.label_column == "is_anomaly" else None
    return Source(len(scaled), batches, names=table.ids, notes=table.notes, flags=flags)


def open_input(run: Run, path, resize: bool = False, batch_size: int = 256) -> Source:
    path = Path(path)
    if not path.exists():
        raise AelabError(f"{path}: no such file or directory")
    if path.is_file() and path.stat().st_size == 0:
        raise AelabError(f"{path}: empty file")
    if batch_size <= 0:
        raise AelabError(f"--batch-size: must be positive, got {batch_size}")
    if run.input_kind == IMAGE:
        return _image_source(run, path, resize, batch_size)
    if resize:
        raise AelabError("--resize: applies to images only")
    if run.input_kind == TABLE:
        return _table_source(run, path, batch_size)
    return _sequence_source(run, path, batch_size)


class Writer:
    """Stream rows (or arrays) into `.npy`, `.csv` or `.parquet`, committed by rename on success."""

    def __init__(self, path: Path, n: int, columns: list[str] | None, row_shape: tuple, dtype):
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in OUTPUT_SUFFIXES:
            raise AelabError(f"-o {path}: unsupported output type; use one of {', '.join(OUTPUT_SUFFIXES)}")
        if self.suffix != ".npy" and columns is None:
            raise AelabError(f"-o {path}: this output has no table form; write .npy")
        if not self.path.parent.exists():
            raise AelabError(f"-o {path}: folder {self.path.parent} does not exist")
        self.n, self.columns, self.row_shape, self.dtype = n, columns, row_shape, dtype

    def __enter__(self):
        self._ctx = atomic_path(self.path)
        self.tmp = self._ctx.__enter__()
        self.offset = 0
        if self.suffix == ".npy":
            self._out = np.lib.format.open_memmap(
                self.tmp, mode="w+", dtype=self.dtype, shape=(self.n, *self.row_shape)
            )
        elif self.suffix == ".csv":
            self._file = open(self.tmp, "w", newline="")
            self._csv = csv.writer(self._file)
            self._csv.writerow(self.columns)
        else:
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise AelabError("-o *.parquet needs pyarrow: pip install 'aelab[parquet]'") from None
            self._pa = pa
            self._parquet = None
            self._pq = pq
        return self

    def write(self, rows: np.ndarray, table_rows=None):
        """`rows`: (n, *row_shape) for .npy; `table_rows`: a list of column arrays for .csv/.parquet."""
        if self.suffix == ".npy":
            self._out[self.offset : self.offset + len(rows)] = rows
            self.offset += len(rows)
            return
        if self.suffix == ".csv":
            self._csv.writerows(zip(*[c.tolist() for c in table_rows], strict=False))
            return
        table = self._pa.table({name: col for name, col in zip(self.columns, table_rows, strict=False)})
        if self._parquet is None:
            self._parquet = self._pq.ParquetWriter(self.tmp, table.schema)
        self._parquet.write_table(table)

    def __exit__(self, exc_type, exc, tb):
        if self.suffix == ".npy":
            self._out.flush()
            del self._out
        elif self.suffix == ".csv":
            self._file.close()
        elif self._parquet is not None:
            self._parquet.close()
        return self._ctx.__exit__(exc_type, exc, tb)


@torch.no_grad()
def _run_batches(run: Run, source: Source, fn):
    run.model.eval()
    for x in source:
        yield x, fn(torch.from_numpy(np.ascontiguousarray(filled(x)))).numpy()


def _open_stream(run: Run, path, resize: bool, batch_size: int) -> Stream:
    """The stream at `path`, checked against the run's training columns and standardised like them."""
    if resize:
        raise AelabError("--resize: applies to images only")
    if batch_size <= 0:
        raise AelabError(f"--batch-size: must be positive, got {batch_size}")
    stream = read_stream(path).scaled(run.normalization, run.config.get("feature_names"))
    check_length(stream, run.window[0], "stream")
    return replace(stream, notes=stream.notes + rate_notes(stream, run.config.get("stream_step"), run.window[0]))


def _step_column(stream: Stream, output) -> tuple[str, np.ndarray | list]:
    """What labels each output row: the stream's timestamps where it has them (not in an .npy), else the index."""
    if stream.timestamps is not None and Path(output).suffix.lower() != ".npy":
        return "timestamp", stream.timestamps
    return "index", np.arange(len(stream))


def _write_columns(output, names: list[str], columns: list, dtype=None, chunk: int = 65_536) -> None:
    """Write equal-length columns as rows, `chunk` rows at a time (a stream's output may be long); `dtype` is the
    record type of an .npy output (needed only for one)."""
    n = len(columns[0])
    with Writer(output, n, names, (), dtype) as out:
        for i in range(0, n, chunk):
            parts = [np.asarray(c[i : i + chunk]) for c in columns]
            records = None
            if out.suffix == ".npy":
                records = np.empty(len(parts[0]), dtype)
                for name, part in zip(names, parts, strict=True):
                    records[name] = part
            out.write(records, parts)


class Written(NamedTuple):
    """What `encode_file`, `reconstruct_file` and `score_file` wrote: `count` rows of `unit` (samples, a stream's
    windows or steps), and lines for the user about how the input was read."""

    count: int
    unit: str
    notes: tuple[str, ...] = ()


def check_not_input(input_path, output) -> None:
    """Refuse an output that is the input file itself: `aelab encode data.csv -o data.csv` replaced the user's data
    with its codes."""
    output, input_path = Path(output), Path(input_path)
    if output.exists() and input_path.exists() and output.samefile(input_path):
        raise AelabError(f"-o {output}: is the input file; name another file for the output")


def encode_file(run_dir, input_path, output, resize=False, batch_size=256) -> Written:
    check_not_input(input_path, output)
    run = load_run(run_dir)
    if run.window:
        return Written(_encode_stream(run, input_path, output, resize, batch_size), "windows")
    source = open_input(run, input_path, resize, batch_size)
    k = run.model.latent_dim
    columns = ["index"] + [f"z{i}" for i in range(k)] + source.name_header()
    with Writer(output, source.n, columns, (k,), np.float32) as out:
        start = 0
        for _, z in _run_batches(run, source, run.model.encode):
            stop = start + len(z)
            out.write(z, [np.arange(start, stop)] + [z[:, i] for i in range(k)] + source.name_columns(start, stop))
            start = stop
    return Written(source.n, "samples", source.notes)


def reconstruct_file(run_dir, input_path, output, resize=False, batch_size=256) -> Written:
    """Reconstructions in the input's own scale: uint8 or [0, 1] images (N, H, W, C); sequences and table rows
    un-standardised (a table comes back with its feature columns, a category's as its most likely value)."""
    check_not_input(input_path, output)
    run = load_run(run_dir)
    if run.window:
        return Written(_reconstruct_stream(run, input_path, output, resize, batch_size), "steps")
    source = open_input(run, input_path, resize, batch_size)
    return Written(_reconstruct_samples(run, source, input_path, output), "samples", source.notes)


def _reconstruct_samples(run: Run, source: Source, input_path, output) -> int:
    if run.input_kind == IMAGE:
        if Path(output).suffix == "" or Path(output).is_dir():
            return _write_image_folder(run, source, Path(output))
        if Path(output).suffix.lower() in IMAGE_SUFFIXES:
            return _write_one_image(run, source, input_path, Path(output))
        c, h, w = run.model.input_shape
        with Writer(output, source.n, None, (h, w, c), source.raw_dtype) as out:
            for _, x_hat in _run_batches(run, source, run.model):
                img = x_hat.transpose(0, 2, 3, 1)
                out.write(np.round(img * 255).astype(np.uint8) if source.raw_dtype == np.uint8 else img)
        return source.n
    scaler = run.normalization
    if run.input_kind == TABLE:
        (f,) = run.model.input_shape
        features = run.config.get("feature_names") or [f"f{i}" for i in range(f)]
        categories = run.config.get("categories", {})
        columns = category_names(features, categories)  # a category's value in one column
        with Writer(output, source.n, columns, (f,), np.float32) as out:
            for _, x_hat in _run_batches(run, source, run.model):
                rows = scaler.invert(x_hat)
                out.write(rows, category_columns(features, rows, categories))
        return source.n
    t, f = run.model.input_shape
    features = run.config.get("feature_names") or [f"f{i}" for i in range(f)]
    if source.ragged and Path(output).suffix.lower() == ".npy":
        raise AelabError(f"-o {output}: {input_path} holds sequences of unequal length; write .csv or .parquet")
    with Writer(output, source.n, ["sequence_id", "t", *features], (t, f), np.float32) as out:
        start = 0
        for x, x_hat in _run_batches(run, source, run.model):
            seqs = masked_like(scaler.invert(x_hat), x)  # padded steps stay NaN in an .npy
            real = ~np.isnan(x).any(axis=2)  # (B, T): each sequence at its own length
            stop = start + len(seqs)
            if source.steps is None:  # an .npy's sequences: numbered, steps from 0
                ids = np.repeat(np.arange(start, stop), t)[real.ravel()]
                steps = np.tile(np.arange(t), len(seqs))[real.ravel()]
            else:  # a CSV's: its own ids and t values
                lengths = real.sum(1)
                ids = np.repeat(np.asarray(source.names[1][start:stop], dtype=object), lengths)
                steps = np.asarray([s for i, n in enumerate(lengths) for s in source.steps[start + i][:n]], object)
            flat = seqs.reshape(-1, f)[real.ravel()]
            out.write(seqs, [ids, steps] + [flat[:, j] for j in range(f)])
            start = stop
    return source.n


def _write_one_image(run: Run, source: Source, input_path, out: Path) -> int:
    """The reconstruction of one input image as the image file `out`, in the format its suffix names. `out` must be
    new: a photo of the user's (the input itself, named by mistake) is never overwritten."""
    if source.n != 1:
        raise AelabError(
            f"-o {out}: {input_path} holds {source.n:,} images; name a folder to get one PNG per image, or an .npy "
            "for them all"
        )
    if out.exists():
        raise AelabError(f"-o {out}: exists; name a new file for the reconstruction")
    image_format = Image.registered_extensions()[out.suffix.lower()]
    if image_format not in Image.SAVE:
        raise AelabError(f"-o {out}: Pillow reads {out.suffix} files but does not write them; name a .png")
    ((_, x_hat),) = _run_batches(run, source, run.model)
    img = np.round(x_hat[0].transpose(1, 2, 0) * 255).astype(np.uint8)
    with atomic_path(out) as tmp:
        Image.fromarray(img[..., 0] if img.shape[2] == 1 else img).save(tmp, format=image_format)
    return 1


def _write_image_folder(run: Run, source: Source, out: Path) -> int:
    """One PNG per reconstruction in the folder `out`, named as its input (a folder's files as its own paths, with
    sub-folders; an .npy's by index), written into a staging folder beside `out` and renamed into place when all
    are written. `out` must be new or empty: images of the user's are never overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AelabError(f"-o {out}: exists and is not an empty folder; name a new folder for the images")
    names = source.names[1] if source.names is not None else [f"{i:06d}" for i in range(source.n)]
    files = [Path(name).with_suffix(".png") for name in names]
    if len(set(files)) < len(files):  # a.jpg beside a.png: keep each whole name
        files = [Path(f"{name}.png") for name in names]
    staging = out.parent / f".{out.name}.partial"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise AelabError(f"-o {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        done = 0
        for _, x_hat in _run_batches(run, source, run.model):
            for img in np.round(x_hat.transpose(0, 2, 3, 1) * 255).astype(np.uint8):
                target = staging / files[done]
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(img[..., 0] if img.shape[2] == 1 else img).save(target)
                done += 1
        if out.exists():
            out.rmdir()
        staging.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return source.n


def score_file(
    run_dir, input_path, output, resize=False, batch_size=256, percentile: float = 99.0, plot=None, echo=None
) -> Written:
    """Per-sample reconstruction MSE; flagged when above the given percentile of the run's validation errors
    (`Run.threshold`). A stream run scores per time step (see `aelab.anomaly`), can draw the result (`plot`) and,
    for a stream with an `is_anomaly` column, reports (through `echo`) how well the scores find it, beside the PCA
    detector's."""
    check_not_input(input_path, output)
    run = load_run(run_dir)
    found = run.threshold(percentile)
    threshold = found.value
    if plot is not None and Path(plot).suffix.lower() != ".png":
        raise AelabError(f"--plot {plot}: must be a .png file")
    if plot is not None:
        check_writable(plot, "--plot")  # before the scores are written
    if found.left_out and echo is not None:
        echo(
            f"threshold {threshold:.4g}: the {percentile:g}th percentile of the validation part's per-step scores "
            f"without the {found.left_out} over {CEILING_FACTOR:g}x the training part's 99th percentile "
            f"({found.ceiling:.4g}): an anomaly within the validation part"
        )
    if run.window:
        n, flagged = _score_stream(run, input_path, output, resize, batch_size, threshold, plot, echo)
        unit, reference, notes = "steps", "the validation part's per-step scores", ()
    else:
        source = open_input(run, input_path, resize, batch_size)
        scores = _score_samples(run, source, output, threshold)
        n, flagged = len(scores), int((scores > threshold).sum())
        if plot is not None:
            plots.sample_scores(scores, threshold, run.val_errors(), plot, Path(input_path).name, source.flags)
        unit, reference, notes = "samples", "the validation samples' errors", source.notes
        if echo is not None and source.flags is not None:

            def pca_scores(pca):
                return np.concatenate([per_sample_mse(b, pca.reconstruct(b)) for b in source])

            echo(_labelled_summary(run, scores, source.flags, input_path, pca_scores, over_time=False))
    if echo is not None:
        if threshold <= EXACT_MSE:
            reference = (
                f"float noise: the {percentile:g}th percentile of {reference} is below it (exact reconstructions)"
            )
        else:
            reference = f"the {percentile:g}th percentile of {reference}"
        echo(
            f"{flagged:,} of {n:,} {unit} flagged ({flagged / max(n, 1):.2%}): score over {threshold:.4g}, {reference}"
        )
    return Written(n, unit, notes)


def _score_samples(run: Run, source: Source, output, threshold: float) -> np.ndarray:
    """The score of each sample of `source`, written to `output` with whether it is over `threshold`."""
    dtype = np.dtype([("index", np.int64), ("score", np.float64), ("is_anomaly", np.bool_)])
    scores = np.empty(source.n)
    with Writer(output, source.n, ["index", "score", "is_anomaly", *source.name_header()], (), dtype) as out:
        start = 0
        for x, x_hat in _run_batches(run, source, run.model):
            score = per_sample_mse(x, x_hat)
            stop = start + len(x)
            index = np.arange(start, stop)
            rows = np.empty(len(x), dtype)
            rows["index"], rows["score"], rows["is_anomaly"] = index, score, score > threshold
            out.write(rows, [index, score, score > threshold, *source.name_columns(start, stop)])
            scores[start:stop] = score
            start = stop
    return scores


def _score_stream(run: Run, input_path, output, resize, batch_size, threshold: float, plot, echo) -> tuple[int, int]:
    """(steps, flagged) of the stream at `input_path`, each step's score written to `output`."""
    stream = _open_stream(run, input_path, resize, batch_size)
    if echo is not None:
        for note in stream.notes:
            echo(note)
    window, stride = run.window
    scores = step_scores(lambda b: reconstruct(run.model, b, batch_size), stream.values, window, stride, batch_size)
    flagged = scores > threshold
    name, steps = _step_column(stream, output)
    dtype = np.dtype([(name, np.int64), ("score", np.float64), ("is_anomaly", np.bool_)])  # .npy: by index
    _write_columns(output, [name, "score", "is_anomaly"], [steps, scores, flagged], dtype)
    if plot is not None:
        raw = run.normalization.invert(stream.values)
        plots.stream_scores(
            raw, scores, threshold, flagged, plot, Path(input_path).name, stream.feature_names, stream.times,
            stream.dated, stream.is_anomaly,
        )  # fmt: skip
    if echo is not None and stream.is_anomaly is not None:

        def pca_scores(pca):
            return step_scores(pca.reconstruct, stream.values, window, stride, batch_size)

        echo(_labelled_summary(run, scores, stream.is_anomaly, stream.origin, pca_scores))
    return len(stream), int(flagged.sum())


def _labelled_summary(run: Run, scores, flags, origin, pca_scores_of, over_time: bool = True) -> str:
    """One line: the anomaly metrics of `scores` against the input's is_anomaly `flags` (a stream's steps, or a
    table's rows: `over_time` False), beside those of the PCA detector refitted on the run's training split (when
    its training data is still where the run says), whose scores `pca_scores_of(pca)` gives."""
    found = anomaly_metrics(scores, flags, over_time=over_time)
    if not found:
        return f"{origin}: is_anomaly marks no anomaly (or only anomalies); no anomaly metrics"
    try:
        train = load_dataset(DataSpec.from_dict(run.config["data"]), normalization=run.normalization).train.x
    except AelabError as exc:
        train, why = None, str(exc)
    baseline = {}
    if train is not None:
        seed = run.config["data"].get("seed", 42)  # fitted as the run's own baseline was
        pca = PCABaseline(run.model.latent_dim, clip=run.model.output_range, seed=seed).fit(train)
        baseline = anomaly_metrics(pca_scores_of(pca), flags, over_time=over_time)
    parts = []
    for key, value in found.items():
        label = key.removeprefix("anomaly_")
        parts.append(f"{label} {value:.3f}" + (f" (PCA {baseline[key]:.3f})" if key in baseline else ""))
    line = "anomaly metrics: " + ", ".join(parts)
    return line if train is not None else line + f" (no PCA beside them: {why})"


def _encode_stream(run: Run, input_path, output, resize, batch_size) -> int:
    """One code per window (the scoring stride), labelled by the window's first step."""
    stream = _open_stream(run, input_path, resize, batch_size)
    window, stride = run.window
    starts = window_starts(len(stream), window, stride)
    k = run.model.latent_dim
    codes = per_window(stream.values, window, stride, lambda b: encode(run.model, b), batch_size)
    name, steps = _step_column(stream, output)
    first = [steps[i] for i in starts] if isinstance(steps, list) else steps[starts]
    with Writer(output, len(codes), [name] + [f"z{i}" for i in range(k)], (k,), np.float32) as out:
        out.write(codes, [np.asarray(first)] + [codes[:, i] for i in range(k)])
    return len(codes)


def _reconstruct_stream(run: Run, input_path, output, resize, batch_size) -> int:
    """The stream per time step (the mean over its covering windows), in the input's own scale and columns."""
    stream = _open_stream(run, input_path, resize, batch_size)
    window, stride = run.window
    x_hat = run.normalization.invert(
        mean_over_windows(stream.values, window, stride, lambda b: reconstruct(run.model, b, batch_size), batch_size)
    ).astype(np.float32)
    f = x_hat.shape[1]
    features = run.config.get("feature_names") or [f"f{i}" for i in range(f)]
    if Path(output).suffix.lower() == ".npy":
        with Writer(output, len(x_hat), None, (f,), np.float32) as out:
            out.write(x_hat)
        return len(x_hat)
    name, steps = _step_column(stream, output)
    _write_columns(output, [name, *features], [steps, *(x_hat[:, j] for j in range(f))])
    return len(x_hat)
