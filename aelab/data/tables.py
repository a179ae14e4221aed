"""Tables: one sample per row, numeric feature columns. From a CSV (without `sequence_id, t`), a `.parquet` file
or a 2-D `.npy`. The columns `label`, `is_anomaly` and `timestamp` are never features: `label` (else
`is_anomaly`) becomes the labels. Nor are columns that number the rows (`is_row_index`), in any file with named
columns. A column of text with few different values (`MAX_CATEGORIES`) is a category: one 0/1 feature per value,
named `column=value`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AelabError
from . import csvfile
from .csvfile import csv_reader, feature_value, is_number, named_width, not_numeric_hint, open_csv, read_csv_rows
from .npy import load_npy, numeric_float32

NOT_FEATURES = ("label", "is_anomaly", "timestamp")
SEQUENCE_COLUMNS = ("sequence_id", "t")  # the first columns of a CSV of sequences
ROW_INDEX_NAMES = ("id", "index")  # in any case
PANDAS_INDEX = re.compile(r"Unnamed: \d+|__index_level_\d+__")
LABEL_COLUMNS = ("label", "is_anomaly")  # the first present gives the labels
MISSING_CELLS = ("", "nan", "NaN", "NA", "null")  # CSV cells that mean "no value here"
MAX_CATEGORIES = 50  # different texts a column may hold to be read as categories; more: an identifier, free text
CATEGORY_MARK = "="  # a category's feature is named column=value


@dataclass
class Table:
    x: np.ndarray  # (N, F) float32
    labels: np.ndarray | None  # (N,) raw values of the label column
    feature_names: list[str] | None  # None for a .npy, whose columns have no names
    ids: tuple[str, list[str]] | None = None  # an `id` column (any case): its name and cells, to name output rows
    categories: dict[str, list[str]] = field(default_factory=dict)  # text columns read as categories: their values
    notes: tuple[str, ...] = ()  # lines for the user: values of a category that training lacked
    label_column: str | None = None  # the column `labels` came from: "label", or "is_anomaly" (0/1 flags)


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
    return tuple(name for name in header if not is_row_index(name))[:2] == SEQUENCE_COLUMNS


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
        if name.lower() in NOT_FEATURES and name not in NOT_FEATURES:  # 'Label': a feature, its labels unread
            notes.append(
                f"column {name!r} is read as a feature: aelab reads {name.lower()!r} by that name, in lower case; "
                "rename it"
            )
        elif name.lower() in LABEL_LIKE:
            notes.append(
                f"column {name!r} is read as a feature; if it holds labels, name it label (classes) or is_anomaly (0/1)"
            )
    sequence_columns = tuple(name for name in names if not is_row_index(name))[:2]
    if tuple(name.lower() for name in sequence_columns) == SEQUENCE_COLUMNS != sequence_columns:
        shown = ", ".join(map(repr, sequence_columns))
        notes.append(
            f"columns {shown} are read as features of a table: sequences one step per row are read from columns "
            "named sequence_id, t, in lower case; rename them"
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


def read_table(path, categories: dict[str, list[str]] | None = None) -> Table:
    """The table at `path`. Its text columns are read as `categories` (column -> values: a trained model's, so that
    new rows get its 0/1 features), or where that is None, as the categories they hold."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x = load_npy(path)
        if x.ndim != 2:
            series = "; one series? read it as a stream of windows with --window W (or auto)" * (x.ndim == 1)
            raise AelabError(f"{path}: a table is a 2-D array (rows, columns), got shape {x.shape}{series}")
        return Table(_numeric(x, path, None), None, None)
    if suffix == ".parquet":
        return table_from_columns(path, parquet_columns(path), categories)
    if suffix == ".csv":
        return table_from_columns(path, _csv_columns(path), categories)
    raise AelabError(f"{path}: a table must be .csv, .parquet or a 2-D .npy")


def _csv_columns(path: Path) -> dict[str, list[str]]:
    header, rows = read_csv_rows(path)
    if len(set(header)) != len(header):
        raise AelabError(f"{path}: repeated column names in the header")
    body = [r for r in rows if r]
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise csvfile.width_error(f"{path}:{line}:", row, header)
    return {name: [r[i] for r in body] for i, name in enumerate(header)}


def parquet_columns(path: Path) -> dict[str, list]:
    try:
        import pyarrow.parquet as pq
        import pyarrow.types as pa_types
    except ImportError:
        raise AelabError(f"{path}: reading .parquet needs pyarrow: pip install 'aelab[parquet]'") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise AelabError(f"{path}: unreadable parquet ({exc})") from None
    for name, kind in zip(table.column_names, table.schema.types, strict=True):
        if pa_types.is_nested(kind):  # a list or record per cell stopped in an internal error ("unhashable type")
            raise AelabError(
                f"{path}: column {name!r} holds {kind} values, not one number or text per cell: spread it into "
                "columns of its own, or drop it"
            )
    return {name: table.column(name).to_pylist() for name in table.column_names}


def table_from_columns(path: Path, columns: dict[str, list], categories: dict[str, list[str]] | None = None) -> Table:
    """The table of named `columns` (a CSV's or a parquet file's): its features (text columns as `categories`, see
    `read_table`; {}: numbers only), labels and row ids."""
    if not columns:
        raise AelabError(f"{path}: no columns (an empty file?)")
    features = feature_columns(columns)
    if not features:
        raise AelabError(f"{path}: no feature columns (only {', '.join(columns)})")
    n = len(columns[features[0]])
    if n == 0:
        raise AelabError(f"{path}: no data rows")
    blocks, names, read_as_categories, notes = [], [], {}, []
    for name in features:
        cells = columns[name]
        values = _new_categories(path, name, cells) if categories is None else categories.get(name)
        if values is not None:
            block, note = _one_hot(path, name, cells, values)
            blocks.append(block)
            notes += [note] if note else []
            names += [f"{name}{CATEGORY_MARK}{value}" for value in values]
            read_as_categories[name] = values
        else:
            blocks.append(_column_values(path, name, cells)[:, None])
            names.append(name)
    x = np.concatenate(blocks, axis=1).astype(np.float32)
    label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    labels = None if label_column is None else np.asarray([str(v) for v in columns[label_column]])
    id_column = next((c for c in columns if c.lower() == "id"), None)
    ids = None if id_column is None else (id_column, [str(v) for v in columns[id_column]])
    return Table(x, labels, names, ids, read_as_categories, tuple(notes), label_column)


def _missing(cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() in MISSING_CELLS)


def _missing_error(path: Path, name: str, cells: list, i: int) -> AelabError:
    count = sum(map(_missing, cells))
    return AelabError(
        f"{path}: column {name!r} has a missing value in data row {i + 1} ({count} of its {len(cells)} rows); "
        "fill or drop them"
    )


def category_note(categories: dict[str, list[str]]) -> str:
    """A line for the user naming the columns read as `categories`."""
    shown = ", ".join(f"{name!r} ({len(values)} values)" for name, values in categories.items())
    return (
        f"read as categories, one 0/1 feature each value (named column{CATEGORY_MARK}value): {shown}; class labels "
        "are never a feature in a column named label"
    )


def _table_columns(names: list[str], categories: dict[str, list[str]]):
    """(column, first feature, its values or None) for each column of a table whose features are `names`: a
    category's 0/1 features (`column=value`, one per value) as one column, any other feature as itself."""
    starts = {f"{column}{CATEGORY_MARK}{values[0]}": column for column, values in categories.items()}
    j = 0
    while j < len(names):
        column = starts.get(names[j])
        values = None if column is None else categories[column]
        yield column or names[j], j, values
        j += 1 if values is None else len(values)


def category_names(names: list[str], categories: dict[str, list[str]]) -> list[str]:
    """The columns of a table whose features are `names`: each category as one column (`category_columns`)."""
    return [column for column, _, _ in _table_columns(names, categories)]


def category_columns(names: list[str], rows: np.ndarray, categories: dict[str, list[str]]) -> list[np.ndarray]:
    """The columns of table `rows` (N, F) whose features are `names` (`category_names`), each category's 0/1
    features back in one column of its value: the largest (a reconstruction's most likely value)."""
    return [
        rows[:, j] if values is None else np.asarray(values, dtype=object)[rows[:, j : j + len(values)].argmax(1)]
        for _, j, values in _table_columns(names, categories)
    ]


def is_text_column(cells: list) -> bool:
    """Whether a column holds words and no numbers: categories. Not a number column with a stray mark in it ('?' for
    a missing value), nor numbers with a decimal comma, nor dates or times: those stay the "not numeric" error that
    names the cell and says what to do."""
    first = next((cell for cell in cells if not _missing(cell)), None)
    if first is None or not is_word(first):  # a column of numbers says so in its first cell
        return False
    distinct = dict.fromkeys(cell for cell in cells if not _missing(cell))  # in order of appearance
    looked_at = itertools.islice(distinct, MAX_CATEGORIES + 1)  # enough to tell; a date is slow to rule out
    return all(is_word(cell) for cell in looked_at)


def is_word(cell) -> bool:
    """Whether `cell` is text: not missing, a number, a number with a decimal comma, nor a date or time."""
    if _missing(cell):
        return False
    try:
        feature_value(cell)
    except (TypeError, ValueError):
        return not not_numeric_hint(cell)
    return False


def _new_categories(path: Path, name: str, cells: list) -> list[str] | None:
    """The values of a text column (`is_text_column`), sorted; None for a column of numbers."""
    if not is_text_column(cells):
        return None
    values = sorted({str(cell).strip() for cell in cells if not _missing(cell)})
    if len(values) > MAX_CATEGORIES:
        shown = ", ".join(map(repr, values[:3]))
        raise AelabError(
            f"{path}: column {name!r} holds {len(values):,} different texts ({shown}, ...), more than the "
            f"{MAX_CATEGORIES} aelab reads as categories; an identifier or free text? drop it (or name it id)"
        )
    return values


def _one_hot(path: Path, name: str, cells: list, values: list[str]) -> tuple[np.ndarray, str | None]:
    """(N, len(values)) 0/1: which of `values` each cell holds, and a line for the user where some cells hold none
    of them (new rows with a category the training data lacked). Such a row gets 0 in every one of the column's
    features, as scikit-learn's OneHotEncoder(handle_unknown="ignore") gives it: it is scored, and an autoencoder
    that never saw the pattern reconstructs it badly, which is what `aelab score` should find. A missing cell is an
    error."""
    column = {value: j for j, value in enumerate(values)}
    x = np.zeros((len(cells), len(values)), dtype=np.float32)
    unseen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if _missing(cell):
            raise _missing_error(path, name, cells, i)
        j = column.get(str(cell).strip())
        if j is None:
            unseen.setdefault(str(cell).strip(), i + 1)
            continue
        x[i, j] = 1.0
    if not unseen:
        return x, None
    rows = int((x.sum(1) == 0).sum())
    shown = ", ".join(f"{value!r} (first in data row {row})" for value, row in list(unseen.items())[:3])
    more = f" and {len(unseen) - 3} more" if len(unseen) > 3 else ""
    return x, (
        f"{path}: column {name!r} holds values the training data did not have in {rows:,} row(s): {shown}{more}; "
        "read as none of its categories"
    )


def _column_values(path: Path, name: str, cells: list) -> np.ndarray:
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        if _missing(cell):
            raise _missing_error(path, name, cells, i)
        try:
            values[i] = feature_value(cell)
        except (TypeError, ValueError):
            hint = not_numeric_hint(cell) or (
                "; a column of text is no feature here: drop it"
                if is_text_column(cells)  # a stream's, or one a model trained on as numbers
                else "; other cells are numbers: a mark for a missing value? fill or drop it"
            )
            shown = cell if isinstance(cell, str) else str(cell)  # a parquet cell's datetime as it reads, not its repr
            raise AelabError(f"{path}: column {name!r} is not numeric ({shown!r} in data row {i + 1}){hint}") from None
        if not -csvfile.FLOAT32_MAX <= values[i] <= csvfile.FLOAT32_MAX:
            raise AelabError(f"{path}: column {name!r} has {csvfile.float32_problem(values[i])} in data row {i + 1}")
    return values


def _numeric(x: np.ndarray, path, names) -> np.ndarray:
    x, bad = numeric_float32(x, path, "table")
    if bad is not None:
        row, col = bad
        column = names[col] if names else f"column {col}"
        raise AelabError(f"{path}: {column} has a missing or infinite value in row {row}")
    return x
