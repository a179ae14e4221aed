"""Tables: one sample per row, numeric feature columns. From a CSV (without `sequence_id, t`), a `.parquet` file
or a 2-D `.npy`. The columns `label`, `is_anomaly` and `timestamp` are never features: `label` (else
`is_anomaly`) becomes the labels. Nor are columns that number the rows (`is_row_index`), in any file with named
columns."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AelabError
from .csvfile import csv_reader, feature_value, is_number, named_width, not_numeric_hint, open_csv, read_csv_rows
from .npy import load_npy, numeric_float32

NOT_FEATURES = ("label", "is_anomaly", "timestamp")
ROW_INDEX_NAMES = ("id", "index")  # in any case
PANDAS_INDEX = re.compile(r"Unnamed: \d+|__index_level_\d+__")
LABEL_COLUMNS = ("label", "is_anomaly")  # the first present gives the labels
MISSING_CELLS = ("", "nan", "NaN", "NA", "null")  # CSV cells that mean "no value here"


@dataclass
class Table:
    x: np.ndarray  # (N, F) float32
    labels: np.ndarray | None  # (N,) raw values of the label column
    feature_names: list[str] | None  # None for a .npy, whose columns have no names
    ids: tuple[str, list[str]] | None = None  # an `id` column (any case): its name and cells, to name output rows


def is_row_index(name: str) -> bool:
    """Whether a column numbers or names the rows rather than measuring them: one called id or index (in any case),
    or pandas' own index, which `DataFrame.to_csv` writes unless told `index=False`: a column without a name
    ('Unnamed: 0' once read and written again; '__index_level_0__' in a parquet file). Read as a feature it is a
    ramp, and new data (a test file, the rest of a stream) continues it beyond every value the model was trained
    on: every new row looks anomalous."""
    return name == "" or name.lower() in ROW_INDEX_NAMES or PANDAS_INDEX.fullmatch(name) is not None


def feature_columns(names) -> list[str]:
    """The columns of `names` that are features: all but `NOT_FEATURES` and row indexes."""
    return [name for name in names if name not in NOT_FEATURES and not is_row_index(name)]


def is_sequence_header(header: list[str]) -> bool:
    """A CSV of sequences: `sequence_id, t` first, after any row index (pandas writes its index first)."""
    return [name for name in header if not is_row_index(name)][:2] == ["sequence_id", "t"]


LABEL_LIKE = ("class", "target", "labels", "anomaly", "outlier")  # names that often hold labels, in any case


def column_notes(names) -> list[str]:
    """Lines for the user about a file's columns `names` that are not what they may seem: a header of numbers (a
    file saved without one), row indexes left out, and features whose names suggest labels (labels are read from a
    column named label or is_anomaly only)."""
    notes = []
    if names and all(map(is_number, names)):  # np.savetxt writes no header line; pandas and R read one all the same
        shown = ", ".join(name if len(name) <= 12 else name[:10] + "..." for name in names[:3])
        shown += ", ..." if len(names) > 3 else ""
        notes.append(
            f"the header line holds only numbers ({shown}): they name the columns; if the file has no header line, "
            "its first row is not read as data (add a header line)"
        )
    if index := [name for name in names if is_row_index(name)]:
        notes.append(f"not features: {', '.join(map(repr, index))} (row index)")
    for name in names:
        if name.lower() in LABEL_LIKE and name not in NOT_FEATURES:
            notes.append(
                f"column {name!r} is read as a feature; if it holds labels, name it label (classes) or is_anomaly (0/1)"
            )
    return notes


LONG_FORMAT_ROWS = 1000  # rows `long_format_note` reads: a table's first rows tell whether its ids repeat


def long_format_note(path: Path) -> str | None:
    """A line for the user when a CSV table's `id` column repeats its values in the first rows: sequences written
    one step per row (id, time, values), which aelab reads as sequences when the columns are `sequence_id, t`;
    read as a table, every row would be a sample of its own."""
    with open_csv(path) as f:
        reader = csv_reader(f)
        header = [h.strip() for h in next(reader, [])]
        column = next((i for i, name in enumerate(header) if name.lower() == "id"), None)
        if column is None:
            return None
        ids = [row[column] for row, _ in zip(reader, range(LONG_FORMAT_ROWS), strict=False) if len(row) > column]
    if len(set(ids)) == len(ids):
        return None
    return (
        f"column {header[column]!r} repeats its values ({len(set(ids))} ids in the first {len(ids)} rows): sequences "
        "one step per row? name the columns sequence_id, t to read them as sequences"
    )


def csv_header(path: Path) -> list[str]:
    """The names of a CSV's columns, without a spreadsheet's trailing unnamed ones (`named_width`)."""
    with open_csv(path) as f:
        header = [h.strip() for h in next(csv_reader(f), [])]
    return header[: named_width(header)]


def in_training_column_order(x: np.ndarray, names, trained, origin) -> np.ndarray:
    """`x`, whose last axis holds the columns `names`, with those columns in the order of `trained` (the training
    file's): the same names in another order are matched by name; a missing or unknown column is an error naming
    it. Unnamed columns (a .npy) are taken as they come."""
    if not names or not trained or list(names) == list(trained):
        return x
    missing = [c for c in trained if c not in names]
    unknown = [c for c in names if c not in trained]
    if missing or unknown:
        detail = "; ".join(f"{what} {cols}" for what, cols in (("missing", missing), ("unknown", unknown)) if cols)
        hint = ""
        if all(map(is_number, names)) or all(map(is_number, trained)):
            hint = "; a CSV's first line is its column names, and these are numbers: a file without a header line?"
        raise AelabError(f"{origin}: columns differ from the training data's ({detail}){hint}")
    return x[..., [list(names).index(c) for c in trained]]


def is_sequence_csv(path: Path) -> bool:
    return is_sequence_header(csv_header(path))


def read_table(path) -> Table:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x = load_npy(path)
        if x.ndim != 2:
            series = "; one series? read it as a stream of windows with --window W (or auto)" * (x.ndim == 1)
            raise AelabError(f"{path}: a table is a 2-D array (rows, columns), got shape {x.shape}{series}")
        return Table(_numeric(x, path, None), None, None)
    if suffix == ".parquet":
        return table_from_columns(path, parquet_columns(path))
    if suffix == ".csv":
        return table_from_columns(path, _csv_columns(path))
    raise AelabError(f"{path}: a table must be .csv, .parquet or a 2-D .npy")


def _csv_columns(path: Path) -> dict[str, list[str]]:
    header, rows = read_csv_rows(path)
    if len(set(header)) != len(header):
        raise AelabError(f"{path}: repeated column names in the header")
    body = [r for r in rows if r]
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise AelabError(f"{path}:{line}: {len(row)} cells, the header has {len(header)}")
    return {name: [r[i] for r in body] for i, name in enumerate(header)}


def parquet_columns(path: Path) -> dict[str, list]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise AelabError(f"{path}: reading .parquet needs pyarrow: pip install 'aelab[parquet]'") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise AelabError(f"{path}: unreadable parquet ({exc})") from None
    return {name: table.column(name).to_pylist() for name in table.column_names}


def table_from_columns(path: Path, columns: dict[str, list]) -> Table:
    """The table of named `columns` (a CSV's or a parquet file's): its numeric features, labels and row ids."""
    if not columns:
        raise AelabError(f"{path}: no columns (an empty file?)")
    features = feature_columns(columns)
    if not features:
        raise AelabError(f"{path}: no feature columns (only {', '.join(columns)})")
    n = len(columns[features[0]])
    if n == 0:
        raise AelabError(f"{path}: no data rows")
    x = np.empty((n, len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        x[:, j] = _column_values(path, name, columns[name])
    label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    labels = None if label_column is None else np.asarray([str(v) for v in columns[label_column]])
    id_column = next((c for c in columns if c.lower() == "id"), None)
    ids = None if id_column is None else (id_column, [str(v) for v in columns[id_column]])
    return Table(x, labels, features, ids)


def _column_values(path: Path, name: str, cells: list) -> np.ndarray:
    def missing(cell) -> bool:
        return cell is None or (isinstance(cell, str) and cell.strip() in MISSING_CELLS)

    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        if missing(cell):
            count = sum(map(missing, cells))
            raise AelabError(
                f"{path}: column {name!r} has a missing value in data row {i + 1} ({count} of its {len(cells)} "
                "rows); fill or drop them"
            )
        try:
            values[i] = feature_value(cell)
        except (TypeError, ValueError):
            hint = not_numeric_hint(cell, classes=True)
            raise AelabError(f"{path}: column {name!r} is not numeric ({cell!r} in data row {i + 1}){hint}") from None
        if not math.isfinite(values[i]):
            raise AelabError(f"{path}: column {name!r} has a missing or infinite value in data row {i + 1}")
    return values


def _numeric(x: np.ndarray, path, names) -> np.ndarray:
    x, bad = numeric_float32(x, path, "table")
    if bad is not None:
        row, col = bad
        column = names[col] if names else f"column {col}"
        raise AelabError(f"{path}: {column} has a missing or infinite value in row {row}")
    return x
