"""Streams: one long series (T, F) in time order, from a CSV or a `.parquet` file (optional `timestamp` column), a
`.txt` of numbers or a 2-D `.npy`, cut into windows that any sequence model takes.

Windows are strided views of the stream, never copies: a batch gathers its windows when the trainer indexes it,
so memory stays that of the stream itself however many windows overlap. Per-step results (anomaly scores,
reconstructions) come back by averaging over every window that covers a step (`mean_over_windows`).
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import AelabError, ConfigError
from .csvfile import (
    FLAGS,
    FLOAT32_MAX,
    csv_reader,
    feature_value,
    float32_problem,
    is_number,
    named_width,
    not_numeric_hint,
    open_csv,
    time_values,
    width_error,
)
from .npy import flat_labels, load_npy, numeric_float32
from .tables import (
    MISSING_CELLS,
    feature_columns,
    in_training_column_order,
    is_sequence_header,
    is_word,
    parquet_columns,
    table_from_columns,
)

# Default stride, training and scoring alike: an eighth of the window. Every step then lies in about 8 windows,
# enough to average out where in a window it falls, at an eighth of the cost of stride 1.
STRIDE_DIVISOR = 8
MIN_WINDOW = 16  # `--window auto` never goes below this (a window of a few steps sees no shape)
MAX_WINDOW = 2048  # nor above this: a day of minutes (1,440) is a real period; the models read long windows in patches
FALLBACK_WINDOW = 64  # `--window auto` on a stream with no clear period
MIN_PERIOD_ACF = 0.2  # an autocorrelation peak below this is no period
FUNDAMENTAL_SHARE = 0.9  # a peak at a fraction of the highest one's lag that reaches this share of it is the period


@dataclass
class Stream:
    values: np.ndarray  # (T, F) float32
    timestamps: list[str] | None  # the `timestamp` cells as written, to label output rows
    is_anomaly: np.ndarray | None  # (T,) int8, where the file says
    feature_names: list[str] | None
    origin: str
    train_steps: int | None = None  # where the file itself says its training part ends (the UCR anomaly archive)
    notes: tuple[str, ...] = ()  # lines for the user about how it was read (gaps in its timestamps)
    times: np.ndarray | None = None  # the timestamps read: seconds (UTC) where `dated`, else the numbers written
    dated: bool = False

    def __len__(self) -> int:
        return len(self.values)

    def scaled(self, normalization, feature_names) -> Stream:
        """This stream standardised with the training statistics (a `Standardizer`), its columns matched to the
        training stream's by name."""
        values = in_training_column_order(self.values, self.feature_names, feature_names, self.origin)
        normalization.check(values.shape[1], self.origin)
        return replace(
            self,
            values=np.ascontiguousarray(normalization.apply(values), dtype=np.float32),
            feature_names=feature_names or self.feature_names,
        )

    def part(self, start: int, stop: int) -> Stream:
        """Steps [start, stop) as a stream of their own."""
        return Stream(
            self.values[start:stop],
            None if self.timestamps is None else self.timestamps[start:stop],
            None if self.is_anomaly is None else self.is_anomaly[start:stop],
            self.feature_names,
            self.origin,
            times=None if self.times is None else self.times[start:stop],
            dated=self.dated,
        )


def read_stream(path, labels=None) -> Stream:
    """A stream from a CSV or a `.parquet` file (rows in time order), a `.txt` of numbers or a `.npy` of shape (T, F)
    or (T,); `labels` an `.npy` or `.txt` of (T,) 0/1 anomaly labels for a stream without its own."""
    path = Path(path)
    if not path.exists():
        raise AelabError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        stream = _stream_from_csv(path)
    elif suffix == ".npy":
        stream = stream_from_array(load_npy(path), path)
    elif suffix == ".txt":
        stream = _stream_from_txt(path)
    elif suffix == ".parquet":
        stream = _stream_from_parquet(path)
    else:
        raise AelabError(f"{path}: a stream must be a .csv, a .parquet, a .txt of numbers or an .npy of shape (T, F)")
    if labels:
        stream.is_anomaly = _labels(Path(labels), len(stream))
    return stream


def stream_from_array(x: np.ndarray, origin) -> Stream:
    """A stream from an array of numbers, (T, F) or (T,) for one feature: an `.npy`'s, a `.txt`'s or a caller's of
    `Run.score`. A gap (NaN or inf) is an error naming its step."""
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        hint = "; one series with a batch axis in front: take x[0]" if x.ndim == 3 and x.shape[0] == 1 else ""
        raise AelabError(f"{origin}: a stream is a 2-D array (steps, features), got shape {x.shape}{hint}")
    x, bad = numeric_float32(x, origin, "stream")
    if bad is not None:
        raise AelabError(f"{origin}: NaN or inf at step {bad[0]} (feature {bad[1]}); fill or drop the gap first")
    return Stream(x, None, None, None, str(origin))


# The UCR anomaly archive's file names: <id>_UCR_Anomaly_<name>_<training steps>_<first>_<last anomalous step>.txt,
# the steps counted from 1 (so the anomaly is steps first-1 .. last-1 from 0), the training part anomaly-free.
UCR_ANOMALY_NAME = re.compile(r"_UCR_Anomaly_.+_(\d+)_(\d+)_(\d+)\.txt$", re.IGNORECASE)


def _stream_from_txt(path: Path) -> Stream:
    """A `.txt` of numbers (`txt_numbers`). A file named as the UCR anomaly archive names them carries its split and
    its one anomaly."""
    stream = stream_from_array(txt_numbers(path), path)
    if match := UCR_ANOMALY_NAME.search(path.name):
        train, first, last = map(int, match.groups())
        if not 0 < train < first <= last <= len(stream):
            raise AelabError(
                f"{path}: its name gives {train} training steps and an anomaly at steps {first}-{last}, which do not "
                f"fit its {len(stream)} steps"
            )
        stream.is_anomaly = np.zeros(len(stream), dtype=np.int8)
        stream.is_anomaly[first - 1 : last] = 1
        stream.train_steps = train
    return stream


def _stream_from_csv(path: Path) -> Stream:
    """Read row by row into compact arrays, so that a long stream costs its numbers, not Python lists of text."""
    with open_csv(path) as f:
        reader = csv_reader(f)
        cells = [h.strip() for h in next(reader, [])]
        header = cells[: named_width(cells)]  # a spreadsheet's trailing unnamed columns: empty in every row below
        if not header:
            raise AelabError(f"{path}: empty CSV")
        if is_sequence_header(header):
            raise AelabError(f"{path}: holds sequences (sequence_id, t), not one stream; drop --window")
        if len(set(header)) != len(header):
            raise AelabError(f"{path}: repeated column names in the header")
        features = feature_columns(header)
        if not features:
            raise AelabError(f"{path}: no feature columns (only {', '.join(header)})")
        first = next(reader, [])  # its text columns, if any, must hold the same text in every row
        reader = itertools.chain([first], reader)
        fixed = {}  # column -> its text; a first row of another width is the error the loop below names
        if len(header) <= len(first) <= len(cells):
            fixed = {i: first[i].strip() for i in map(header.index, features) if is_word(first[i])}
        features = [h for h in features if header.index(h) not in fixed]
        if not features:
            raise AelabError(f"{path}: no columns of numbers (only {', '.join(header)})")
        feature_cols = [header.index(h) for h in features]
        time_col = header.index("timestamp") if "timestamp" in header else None
        label_name = next((c for c in ("is_anomaly", "label") if c in header), None)
        label_col = None if label_name is None else header.index(label_name)
        values = array("f")
        labels = array("b")
        stamps: list[str] = []
        for row_number, row in enumerate(reader, start=1):
            if not row:
                continue
            if len(header) < len(row) <= len(cells):  # cells under the header's trailing unnamed columns
                extra = next((i for i, cell in enumerate(row) if i >= len(header) and cell.strip()), None)
                if extra is not None:
                    raise AelabError(
                        f"{path}: data row {row_number} has a value ({row[extra]!r}) in column {extra + 1}, which the "
                        "header does not name; name it, or drop it"
                    )
                row = row[: len(header)]
            if len(row) != len(header):
                raise width_error(f"{path}: data row {row_number} has", row, header)
            for c, text in fixed.items():
                if row[c].strip() != text:
                    raise AelabError(
                        f"{path}: column {header[c]!r} holds text that changes ({text!r}, then {row[c]!r} in data row "
                        f"{row_number}); a stream's features are numbers: drop it"
                    )
            for c in feature_cols:
                values.append(_number(path, row[c], header[c], row_number))
            if time_col is not None:
                stamps.append(row[time_col].strip())
            if label_col is not None:
                labels.append(_flag(path, row[label_col], label_name, row_number))
    if not values:
        raise AelabError(f"{path}: no data rows")
    x = np.frombuffer(values, dtype=np.float32).reshape(-1, len(features)).copy()
    is_anomaly = np.frombuffer(labels, dtype=np.int8).copy() if label_col is not None else None
    notes = ()
    if fixed:
        shown = ", ".join(f"{header[c]!r} ({text!r})" for c, text in fixed.items())
        notes = (f"{path}: not features: {shown}, the same text in every row",)
    stream = Stream(x, None, is_anomaly, features, str(path), notes=notes)
    return _with_timestamps(stream, stamps) if time_col is not None else stream


def _stream_from_parquet(path: Path) -> Stream:
    """A parquet file's rows in time order, read as a CSV stream is: feature columns, an optional `timestamp` (a
    date-time column comes back as ISO text) and `is_anomaly` (or `label`) 0/1 per step."""
    columns = parquet_columns(path)
    table = table_from_columns(path, columns, {})  # its features, read as a parquet table's, numbers only
    label_name = next((c for c in ("is_anomaly", "label") if c in columns), None)
    is_anomaly = None
    if label_name is not None:
        flags = [_flag(path, str(cell), label_name, row) for row, cell in enumerate(columns[label_name], start=1)]
        is_anomaly = np.asarray(flags, dtype=np.int8)
    stream = Stream(table.x, None, is_anomaly, table.feature_names, str(path))
    if "timestamp" not in columns:
        return stream
    stamps = [cell.isoformat() if hasattr(cell, "isoformat") else str(cell) for cell in columns["timestamp"]]
    return _with_timestamps(stream, stamps)


def _number(path, cell: str, column: str, row: int) -> float:
    text = cell.strip()
    if text in MISSING_CELLS:
        raise AelabError(f"{path}: column {column!r} has a gap (missing value) in data row {row}; fill or drop it")
    try:
        value = feature_value(text)
    except ValueError:
        hint = not_numeric_hint(cell) or "; every column but timestamp, is_anomaly and label is a feature: drop it"
        raise AelabError(f"{path}: column {column!r} is not numeric ({cell!r} in data row {row}){hint}") from None
    if not -FLOAT32_MAX <= value <= FLOAT32_MAX:
        raise AelabError(f"{path}: column {column!r} has {float32_problem(value)} in data row {row}")
    return value


def _flag(path, cell: str, column: str, row: int) -> int:
    flag = FLAGS.get(cell.strip().lower())
    if flag is not None:
        return flag
    raise AelabError(f"{path}: column {column!r} must be 0 or 1 per step, got {cell!r} in data row {row}")


# A step this many times the usual one is a gap: a logger that skipped readings, or a stream joined from pieces
GAP_FACTOR = 1.5


def _with_timestamps(stream: Stream, stamps: list[str]) -> Stream:
    """`stream` with its `timestamp` cells and what they read as (`time_values`), which must increase strictly:
    rows out of order are a broken stream. Gaps in them are not an error, but windows count rows, not time, so a
    window across a gap joins readings that lie apart as if they were neighbours: a line for the user names them."""
    path = stream.origin
    try:
        keys, dated = time_values(stamps)
    except ValueError as exc:
        raise AelabError(f"{path}: column 'timestamp': {exc}") from None
    steps = np.diff(keys)
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 2
        raise AelabError(
            f"{path}: timestamp does not increase at data row {row} ({stamps[row - 2]!r} then {stamps[row - 1]!r}); "
            "rows must be in time order"
        )
    notes = _gap_notes(path, stamps, steps, dated)
    return replace(stream, timestamps=stamps, times=keys, dated=dated, notes=stream.notes + notes)


def _gap_notes(path, stamps: list[str], steps: np.ndarray, dated: bool) -> tuple[str, ...]:
    """A line naming the steps between timestamps (`steps`) over GAP_FACTOR times the usual one, if any."""
    if len(steps) < 2:
        return ()
    usual = float(np.median(steps))
    gaps = np.flatnonzero(steps > GAP_FACTOR * usual)
    if not len(gaps):
        return ()
    unit = _duration if dated else lambda value: f"{value:g}"
    first = int(gaps[0])
    return (
        f"{path}: {len(gaps)} gap{'s' * (len(gaps) > 1)} in its timestamps, the longest {unit(float(steps.max()))} "
        f"where a step is usually {unit(usual)} (the first after {stamps[first]}); windows count rows, not time, so "
        "one across a gap joins the readings either side of it",
    )


# A test stream whose usual step is more than this many times the training stream's, or less than its inverse, is
# sampled at another rate
RATE_FACTOR = 1.5


def step_record(stream: Stream) -> dict | None:
    """The median step between a stream's timestamps (seconds where `dated`) as a run keeps it (`stream_step` in
    config.json), or None without timestamps."""
    if stream.times is None or len(stream.times) < 3:
        return None
    return {"step": float(np.median(np.diff(stream.times))), "dated": stream.dated}


def rate_notes(test: Stream, trained: dict | None, window: int) -> tuple[str, ...]:
    """A line where `test` is sampled at another rate than the training stream (`trained`: its `step_record`):
    windows count rows, so at another rate a window holds another stretch of time, shapes the model never saw, and
    nothing said it."""
    ours = step_record(test)
    if ours is None or trained is None or ours["dated"] != trained.get("dated") or not trained.get("step", 0) > 0:
        return ()
    step, trained_step = ours["step"], trained["step"]
    ratio = step / trained_step
    if 1 / RATE_FACTOR <= ratio <= RATE_FACTOR:
        return ()
    unit = _duration if test.dated else (lambda value: f"{value:g}")
    return (
        f"{test.origin}: a step is usually {unit(step)}, the training stream's {unit(trained_step)}: a window of "
        f"{window} steps holds {ratio:.3g}x the time it did in training; resample one stream to the other's rate",
    )


def _duration(seconds: float) -> str:
    for size, name in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.3g} {name}"
    return f"{seconds:.3g} s"


def txt_numbers(path: Path) -> np.ndarray:
    """(T, F) float32 from numbers separated by spaces, tabs or commas: one row per line (every line as many numbers)
    or one series on one line, as SMD's machine files and the UCR anomaly archive's files come. Read line by line
    into one compact array, as `_stream_from_csv` reads."""
    values, width, lines = array("d"), None, 0
    with open_csv(path) as f:
        for number, line in enumerate(f, start=1):
            cells = line.replace(",", " ").split()
            if not cells:
                continue
            try:
                row = [float(c) for c in cells]
            except ValueError:
                bad = next(c for c in cells if not is_number(c))
                raise AelabError(f"{path}:{number}: {bad!r} is not a number; a .txt here holds numbers only") from None
            width = width or len(row)
            if len(row) != width:
                raise AelabError(f"{path}:{number}: {len(row)} numbers, the first line has {width}")
            values.extend(row)
            lines += 1
    if not lines:
        raise AelabError(f"{path}: no numbers (an empty file)")
    return np.frombuffer(values, dtype=np.float64).reshape(-1, 1 if lines == 1 else width).astype(np.float32)


def _labels(path: Path, n: int) -> np.ndarray:
    """(n,) 0/1 anomaly labels per step from an `.npy` or a `.txt` of numbers (one per line, as SMD's come)."""
    if path.suffix.lower() == ".txt":
        y = txt_numbers(path)
        y = y[:, 0] if y.shape[1] == 1 else y  # one label per line, or all of them on one line
    else:
        y = flat_labels(load_npy(path))
    if y.ndim != 1 or len(y) != n:
        raise AelabError(f"{path}: anomaly labels must be a 1-D array of {n} steps, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise AelabError(f"{path}: anomaly labels must be 0 or 1 per step")
    return y.astype(np.int8)


def parse_window(value) -> int | str | None:
    """`--window` (or `DataSpec.window`): a whole number of at least 2 steps (or its text), 'auto', or None (not a
    stream)."""
    if value is None or value == "auto":
        return value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError("window", f"expected a positive integer or 'auto', got {value!r}")
    if value < 2:
        raise ConfigError("window", f"must be at least 2 steps, got {value}")
    return value


def default_stride(window: int) -> int:
    return max(1, window // STRIDE_DIVISOR)


def _fundamental(acf: np.ndarray, period: int, start: int) -> int:
    """The shortest whole fraction of the autocorrelation's highest peak `period` (past lag `start`, where it first
    falls below zero) at which it also peaks, as high within FUNDAMENTAL_SHARE: the period rather than a multiple of
    it. On noisy data the peaks at every multiple of a period are equal but for the noise, and the highest was any of
    them: a sine of period 50 under noise of its own amplitude got windows of 100 or 201 steps, of period 24 under
    half that, 72; over a week of hourly data the weekly peak stood 1% above the daily one."""
    for k in range(period // (start + 1), 1, -1):
        lag = period / k
        reach = max(1, round(lag / 50))  # the highest peak's place is known to a step or so, its fraction's to 1/k
        lags = np.arange(max(start + 1, round(lag) - reach), min(len(acf) - 1, round(lag) + reach + 1))
        peaks = lags[(acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
        if len(peaks) and acf[peaks].max() >= FUNDAMENTAL_SHARE * acf[period]:
            return int(peaks[np.argmax(acf[peaks])])
    return period


def auto_window(values: np.ndarray) -> tuple[int, str]:
    """A window of one dominant period (by autocorrelation of the detrended features, averaged), at least MIN_WINDOW
    steps (whole periods); FALLBACK_WINDOW where no period stands out. Returns (W, how it was found)."""
    n = len(values)
    upper = min(MAX_WINDOW, n // 4)
    x = values[:200_000].astype(np.float64)
    # less each feature's straight-line trend, not only its mean: a sine of period 100 rising by 0.5 over 1,000
    # steps kept its autocorrelation above zero at every lag and fell back to 64 steps
    trend = np.stack([np.arange(len(x), dtype=np.float64), np.ones(len(x))], axis=1)
    x = x - trend @ np.linalg.lstsq(trend, x, rcond=None)[0]
    size = 1 << (2 * len(x) - 1).bit_length()
    spectrum = np.fft.rfft(x, size, axis=0)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=0)[: upper + 1]
    energy = acf[0]
    acf = (acf[:, energy > 0] / energy[energy > 0]).mean(axis=1) if (energy > 0).any() else np.zeros(len(acf))
    # the highest local peak after the autocorrelation first falls below zero
    below = np.flatnonzero(acf[1:] < 0)
    if len(below) and upper > 2:
        start = below[0] + 1
        lags = np.arange(start + 1, upper)
        peaks = lags[(acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1])] if len(lags) else lags
        if len(peaks):
            period = _fundamental(acf, int(peaks[np.argmax(acf[peaks])]), start)
            if acf[period] >= MIN_PERIOD_ACF:
                window = period * math.ceil(MIN_WINDOW / period)
                return min(window, max(upper, 2)), f"auto: dominant period {period} steps (autocorrelation)"
    window = max(2, min(FALLBACK_WINDOW, upper))
    return window, f"auto: no clear period, {window} steps"


def window_starts(n_steps: int, window: int, stride: int) -> np.ndarray:
    """Starts of the windows that cover every step (`stride` <= `window`): every `stride` steps, plus one ending at
    the last step."""
    starts = np.arange(0, n_steps - window + 1, stride)
    if starts[-1] != n_steps - window:
        starts = np.append(starts, n_steps - window)
    return starts


def windows(values: np.ndarray, window: int, stride: int) -> np.ndarray:
    """(n, window, F) windows starting every `stride` steps, as a view of `values` (T, F): nothing is copied.
    Steps after the last whole window are left out (fewer than `stride`); `window_starts` covers them."""
    values = np.ascontiguousarray(values)
    n = (len(values) - window) // stride + 1
    step, feature = values.strides
    return np.lib.stride_tricks.as_strided(values, (n, window, values.shape[1]), (stride * step, step, feature))


def per_window(values: np.ndarray, window: int, stride: int, fn, batch_size: int = 256) -> np.ndarray:
    """`fn` of the windows `window_starts` gives, one result per window: `fn` maps windows (B, W, F) to (B, ...).
    Memory: one batch of windows at a time."""
    starts = window_starts(len(values), window, stride)
    offsets = np.arange(window)
    batches = (starts[i : i + batch_size] for i in range(0, len(starts), batch_size))
    return np.concatenate([fn(values[first[:, None] + offsets]) for first in batches])


def check_length(stream: Stream, window: int, what: str) -> None:
    if len(stream) < window:
        raise AelabError(f"{stream.origin}: the {what} has {len(stream)} steps, shorter than one window ({window})")


def mean_over_windows(values: np.ndarray, window: int, stride: int, fn, batch_size: int = 256) -> np.ndarray:
    """Per step, the mean of `fn` over the windows covering it. `fn` maps windows (B, W, F) to per-step results
    (B, W, ...). Memory: one batch of windows and one float64 sum per step."""
    n_steps = len(values)
    starts = window_starts(n_steps, window, stride)
    offsets = np.arange(window)
    sums = counts = None
    for i in range(0, len(starts), batch_size):
        first = starts[i : i + batch_size]
        steps = first[:, None] + offsets  # (B, W) step of each window position
        result = np.asarray(fn(values[steps]), dtype=np.float64)
        if sums is None:
            sums = np.zeros((n_steps, *result.shape[2:]))
            counts = np.zeros(n_steps)
        low, high = int(first[0]), int(first[-1]) + window
        local = (steps - low).ravel()
        counts[low:high] += np.bincount(local, minlength=high - low)
        flat = result.reshape(len(local), -1)
        for j in range(flat.shape[1]):
            column = np.bincount(local, weights=flat[:, j], minlength=high - low)
            if sums.ndim == 1:
                sums[low:high] += column
            else:
                sums[low:high, j] += column
    return sums / (counts if sums.ndim == 1 else counts[:, None])
