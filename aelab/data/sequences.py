"""Multivariate sequences (N, T, F): the lab's synthetic generator, `.npy` files and long-format CSV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import AelabError
from ..padding import misplaced_value, pad_sequences
from .csvfile import (
    FLOAT32_MAX,
    feature_value,
    float32_problem,
    is_feature_value,
    is_number,
    not_numeric_hint,
    open_csv,
    read_csv_rows,
    time_value,
    width_error,
)
from .npy import load_npy, numeric_float32
from .tables import feature_columns, is_sequence_header

SYNTHETIC_SHAPE = (5000, 50, 10)
NOISE_STD = 0.1


def synthetic(n: int = 5000, steps: int = 50, features: int = 10, seed: int = 42):
    """The lab's data: feature f of sequence n is sin(a t) + cos(b t) + N(0, 0.1), t = 0..T-1, a, b ~ U(0.1, 0.5).

    Label: decile (10 balanced classes) of the sequence's mean frequency, the mean of its 2F a's and b's.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.1, 0.5, (n, 1, features))
    b = rng.uniform(0.1, 0.5, (n, 1, features))
    t = np.arange(steps, dtype=np.float64)[None, :, None]
    x = np.sin(a * t) + np.cos(b * t) + rng.normal(0.0, NOISE_STD, (n, steps, features))
    mean_freq = (a.mean(axis=(1, 2)) + b.mean(axis=(1, 2))) / 2
    deciles = np.quantile(mean_freq, np.linspace(0, 1, 11)[1:-1])
    labels = np.searchsorted(deciles, mean_freq).astype(np.int64)
    return x.astype(np.float32), labels, [f"decile {i + 1}" for i in range(10)]


def validate_sequences(x: np.ndarray, origin) -> np.ndarray:
    """(N, T, F) float32 `x`, where NaN may only pad a sequence at its end (see `padding.misplaced_value`)."""
    if x.ndim != 3:
        raise AelabError(f"{origin}: expected sequences (N, T, F), got shape {x.shape}")
    x, bad = numeric_float32(x, origin, "sequence array")
    if bad is not None:
        check_padding(x, origin)
    return x


def check_padding(x: np.ndarray, origin, first: int = 0) -> None:
    """Refuse NaN or inf in (N, T, F) `x` (sequences `first`, `first + 1`, ... of `origin`) other than padding."""
    bad = misplaced_value(x)
    if bad is not None:
        raise AelabError(
            f"{origin}: sequence {first + bad[0]} has NaN or inf at step {bad[1]}; only NaN in every feature from a "
            "step to the end (padding after at least one real step) marks a shorter sequence: fill a gap (e.g. "
            "interpolate) or drop the sequence"
        )


def sequences_from_npy(path: Path) -> np.ndarray:
    return validate_sequences(load_npy(path), path)


UCR_MISSING = {"", "nan", "NaN", "NAN"}  # how the archive writes the padding of its shorter sequences


def sequences_from_ucr_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The UCR archive's own layout (2018): one univariate sequence per line, its class label first, then its
    values, tab-separated, no header line; shorter sequences end in NaN or stop early. Returns (N, T, 1) float32
    sequences, NaN-padded at their end as `pad_sequences` pads, and the labels (N,) as written."""
    labels, sequences = [], []
    with open_csv(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            label, *cells = line.rstrip("\r\n").split("\t")
            if not cells:
                raise AelabError(
                    f"{path}:{number}: no tab; a .tsv is read in the UCR archive's layout (a label, then the values, "
                    "tab-separated, no header line)"
                )
            values = np.empty(len(cells), dtype=np.float32)
            for j, cell in enumerate(cells):
                text = cell.strip()
                if text in UCR_MISSING:
                    values[j] = np.nan
                    continue
                try:
                    values[j] = float(text)
                except ValueError:
                    header = number == 1 and not any(is_number(c) for c in cells)
                    hint = "; a table or sequences with a header line? name the file .csv (tabs are read)" * header
                    raise AelabError(
                        f"{path}:{number}: value {cell!r} is not a number; a .tsv is read in the UCR archive's layout "
                        f"(a label, then the values, tab-separated, no header line){hint}"
                    ) from None
            while len(values) and np.isnan(values[-1]):  # the archive's padding, redone below to the longest
                values = values[:-1]
            if not len(values):
                raise AelabError(f"{path}:{number}: a sequence without values")
            labels.append(label.strip())
            sequences.append(values[:, None])
    if not sequences:
        raise AelabError(f"{path}: no sequences (empty file)")
    return validate_sequences(pad_sequences(sequences), path), np.asarray(labels)


def sequences_from_ts(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The `.ts` files of the UEA/UCR archives (sktime's format): `@` header lines, then after `@data` one case per
    line, its dimensions separated by `:` and each dimension's values by `,`, the class label last where
    `@classLabel true`; `?` or NaN marks a missing value. Returns (N, T, D) float32 sequences, NaN-padded at their end
    to the longest, and the labels (N,) as written (None without class labels)."""
    labelled = targets = in_data = False
    labels, sequences = [], []
    with open_csv(path) as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if not in_data:
                key, _, rest = text.partition(" ")
                key, on = key.lower(), rest.strip().lower().startswith("true")
                if not key.startswith("@"):
                    raise AelabError(f"{path}:{number}: expected '@' header lines and then '@data' (a .ts file)")
                if key == "@timestamps" and on:
                    raise AelabError(f"{path}:{number}: time-stamped .ts values are not read; write them without")
                labelled = on if key == "@classlabel" else labelled
                targets = on if key == "@targetlabel" else targets  # a regression target: not a class, not read
                in_data = key == "@data"
                continue
            fields = text.split(":")
            if labelled:
                labels.append(fields.pop().strip())
            elif targets:
                fields.pop()
            try:
                dims = [[_ts_value(v) for v in field.split(",")] for field in fields]
            except ValueError as exc:
                raise AelabError(f"{path}:{number}: value {str(exc)!r} is not a number") from None
            lengths = sorted({len(values) for values in dims})
            if len(lengths) > 1:  # padded with NaN, the shorter read as a gap "at step 29" of the case
                raise AelabError(
                    f"{path}:{number}: dimensions of {' and '.join(map(str, lengths))} values; every dimension of a "
                    "case needs a value per step (write '?' for a missing one)"
                )
            steps = lengths[0]
            case = np.full((steps, len(dims)), np.nan, dtype=np.float32)
            for j, values in enumerate(dims):
                case[: len(values), j] = values
            if sequences and case.shape[1] != sequences[0].shape[1]:
                raise AelabError(
                    f"{path}:{number}: {case.shape[1]} dimension(s), the first case has {sequences[0].shape[1]}"
                )
            real = np.flatnonzero(~np.isnan(case).all(1))
            if not len(real):
                raise AelabError(f"{path}:{number}: a case without values")
            sequences.append(case[: real[-1] + 1])  # trailing missing steps: padding, redone to the longest
    if not sequences:
        raise AelabError(f"{path}: no cases after '@data' (an empty or header-only .ts file)")
    return validate_sequences(pad_sequences(sequences), path), (np.asarray(labels) if labelled else None)


def _ts_value(text: str) -> float:
    text = text.strip()
    if text in ("?", "") or text.lower() == "nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ValueError(text) from None


LABELLED_SEQUENCE_FILES = {".tsv": sequences_from_ucr_tsv, ".ts": sequences_from_ts}  # suffix -> (x, labels)


class CsvSequences(NamedTuple):
    x: np.ndarray  # (N, T, F) float32, shorter sequences NaN-padded at their end
    y: np.ndarray | None  # (N,) class indices into class_names
    class_names: list[str] | None
    features: list[str]
    ids: list[str]  # each sequence's sequence_id as written, in the order the file first names them (x's rows)
    steps: list[list[str]]  # each sequence's t values as written, in time order (outputs write them back)


def sequences_from_csv(path: Path, length: int | None = None) -> CsvSequences:
    """Read `sequence_id, t, <features...>[, label]` rows into (N, T, F) sequences, with their labels, feature names,
    ids and steps (`CsvSequences`).

    Each sequence's steps t = t0, t0 + dt, ... have no gaps or duplicates. Sequences of unequal length come back
    padded with NaN to the longest, or to `length` (longer ones cut). Columns that are never features (`label`,
    `is_anomaly`, `timestamp`, a row index such as the one pandas writes first) are left out.
    """
    path = Path(path)
    header, body = read_csv_rows(path)
    if not is_sequence_header(header):
        raise AelabError(f"{path}: header must start with 'sequence_id,t', got {','.join(header[:2])!r}")
    features = feature_columns(header[header.index("t") + 1 :])
    if not features:
        raise AelabError(f"{path}: no feature columns after sequence_id,t")
    id_col, t_col = header.index("sequence_id"), header.index("t")
    feature_cols = [header.index(h) for h in features]
    label_col = header.index("label") if "label" in header else None

    series: dict[str, dict[float, tuple[list[float], str]]] = {}  # id -> t -> (values, t as written)
    labels: dict[str, str] = {}
    for line, row in enumerate(body, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise width_error(f"{path}:{line}:", row, header)
        sid = row[id_col]
        try:
            t = time_value(row[t_col])  # a step number or a time
        except ValueError:
            raise AelabError(f"{path}:{line}: t {row[t_col]!r} is neither a number nor an ISO date or time") from None
        try:
            values = [feature_value(row[c]) for c in feature_cols]
        except ValueError:
            bad = next(c for c in feature_cols if not is_feature_value(row[c]))
            hint = not_numeric_hint(row[bad], classes=True)
            raise AelabError(f"{path}:{line}: non-numeric value {row[bad]!r} in column {header[bad]}{hint}") from None
        if not math.isfinite(t):
            raise AelabError(f"{path}:{line}: t is {row[t_col]!r}, not a finite number")
        for c, value in zip(feature_cols, values, strict=True):
            if not -FLOAT32_MAX <= value <= FLOAT32_MAX:
                raise AelabError(f"{path}:{line}: column {header[c]} has {float32_problem(value)}")
        steps = series.setdefault(sid, {})
        if t in steps:
            raise AelabError(f"{path}:{line}: duplicate row for sequence_id={sid}, t={row[t_col]}")
        steps[t] = (values, row[t_col].strip())
        if label_col is not None:
            if labels.setdefault(sid, row[label_col]) != row[label_col]:
                raise AelabError(f"{path}:{line}: sequence {sid} changes label")
    if not series:
        raise AelabError(f"{path}: no data rows")

    for sid, steps in series.items():
        ts = np.array(sorted(steps))
        if len(ts) > 2 and not np.allclose(np.diff(ts), ts[1] - ts[0]):
            raise AelabError(f"{path}: sequence {sid} has a gap in t (uneven steps)")
    ids = list(series)
    # sequences of unequal length (ragged) are padded to the longest, or cut/padded to `length` (aelab.padding)
    ordered = [[series[sid][t] for t in sorted(series[sid])] for sid in ids]
    x = pad_sequences([np.array([values for values, _ in rows], np.float32) for rows in ordered], length)
    y, names = None, None
    if label_col is not None:
        raw = [labels[sid] for sid in ids]
        names = sorted(set(raw), key=label_sort_key)
        y = np.array([names.index(v) for v in raw], dtype=np.int64)
    return CsvSequences(x, y, names, features, ids, [[step for _, step in rows] for rows in ordered])


def label_sort_key(v: str):
    return (0, float(v), v) if is_number(v) else (1, 0.0, v)
