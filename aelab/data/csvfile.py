"""Reading CSV files, with every failure one line naming the file."""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np

from ..errors import AelabError

# Separators besides the comma that a .csv may use: spreadsheets in locales with a decimal comma write ';', and
# tab-separated files are often saved as .csv
OTHER_DELIMITERS = (";", "\t")


@contextmanager
def open_csv(path: Path) -> Iterator[TextIO]:
    """`path` open as UTF-8 text for `csv_reader`, without the byte-order mark that Excel's "CSV UTF-8" puts before
    the first column's name (which would otherwise read as '\ufeffsequence_id'). A file that cannot be opened or
    decoded, while open or read, is one error naming it."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            yield f
    except UnicodeDecodeError as exc:
        raise AelabError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8") from None
    except OSError as exc:
        raise AelabError(f"{path}: cannot read CSV ({exc.strerror or exc})") from None


# a number with a decimal comma ('1,5', '-0,25e-3'), as spreadsheets write them where they separate cells by ';'
DECIMAL_COMMA = re.compile(r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*")
# a number with thousands separators, as a spreadsheet's number format exports it: '1,304.5' or '12,000,000', and
# where the decimal mark is a comma, '1.304,5'
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?|[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?")


def csv_reader(f: TextIO):
    """A csv.reader over the open file `f`, split on commas unless its header line holds none and holds ';' or a
    tab. In a file split on ';', numbers written with a decimal comma are read with a point: such files come from
    spreadsheets in locales that write '1,5', and there a comma can be nothing else."""
    header_line = f.readline()
    delimiter = "," if "," in header_line else next((d for d in OTHER_DELIMITERS if d in header_line), ",")
    rows = csv.reader(itertools.chain([header_line], f), delimiter=delimiter)
    if delimiter != ";":
        return rows
    return ([cell.replace(",", ".") if DECIMAL_COMMA.fullmatch(cell) else cell for cell in row] for row in rows)


def width_error(where: str, row: list[str], header: list[str]) -> AelabError:
    """A row of another width than the header, said after `where` ("FILE:LINE:", or words that run on into the
    count), and where the header is a comment line that a logger wrote above the real one, what to do about it."""
    comment = len(header) == 1 and header[0].lstrip().startswith("#")
    hint = "; the first line is a comment (#): remove it, the column names come first" if comment else ""
    return AelabError(f"{where} {len(row)} cells, the header has {len(header)}{hint}")


def _reads(parse, text: str) -> bool:
    """Whether `parse` (a reader that raises ValueError) reads `text`."""
    try:
        parse(text)
        return True
    except ValueError:
        return False


def is_number(text: str) -> bool:
    """Whether `text` is a number as `float` reads it."""
    return _reads(float, text)


BOOLEANS = {"true": 1.0, "false": 0.0}  # as pandas writes a bool column (True/False)
FLAGS = {"1": 1, "1.0": 1, "true": 1, "0": 0, "0.0": 0, "false": 0}  # an is_anomaly cell, in lower case


def flags_of(cells) -> np.ndarray | None:
    """(N,) int8 0/1 of an is_anomaly column's cells (`FLAGS`, as written by hand, numpy or pandas), or None where
    one is not a flag."""
    flags = [FLAGS.get(str(cell).strip().lower()) for cell in cells]
    return None if None in flags else np.array(flags, dtype=np.int8)


FLOAT32_MAX = float(np.finfo(np.float32).max)  # features are stored as float32: 1e300 is finite here, inf there


def float32_problem(value: float) -> str:
    """Why a feature `value` outside +-FLOAT32_MAX (NaN included: it fails every comparison) cannot be a float32
    feature, in words that follow "has": a finite number beyond float32's range would silently become infinite, and
    then NaN."""
    if math.isnan(value):
        return "a NaN value"
    if math.isinf(value):
        return "an infinite value"
    return f"a value beyond float32's range ({value:.3g}; at most +-3.4e38: rescale it)"


def feature_value(cell) -> float:
    """A feature cell as a number: what `float` reads, or a boolean as pandas writes it, 1 or 0 (a parquet file's
    booleans read so too). ValueError (TypeError for None) for anything else."""
    try:
        return float(cell)
    except ValueError:
        value = BOOLEANS.get(str(cell).strip().lower())
        if value is None:
            raise
        return value


def is_feature_value(text: str) -> bool:
    """Whether `feature_value` reads `text`."""
    return _reads(feature_value, text)


def time_value(text: str) -> float:
    """A time cell as a number: the number it holds, or its ISO date or time in seconds (a date without a time zone
    read as UTC, so that steps are even across daylight-saving changes). ValueError for anything else."""
    try:
        return float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text.strip())
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def is_time(text: str) -> bool:
    """Whether `time_value` reads `text`."""
    return _reads(time_value, text)


# Dates as loggers and spreadsheets write them besides ISO 8601 (which `time_value` reads): month or day first,
# with or without a time of day. A column is read in one layout throughout (see `time_values`).
_DAYS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m-%d-%Y", "%d-%m-%Y", "%Y/%m/%d", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y")
_HOURS = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", " %I:%M %p", " %I:%M:%S %p")
DATE_LAYOUTS = tuple(day + hour for day in _DAYS for hour in _HOURS)
LAYOUT_SAMPLE = 1000  # cells a layout must read before it is tried on the whole column


def time_values(cells: list[str]) -> tuple[np.ndarray, bool]:
    """A column of time cells read one way throughout, and whether they are dates: (N,) numbers as written, else
    seconds of ISO dates (`time_value`) or of the first of DATE_LAYOUTS to read every cell, a zone-less date read as
    UTC. Where the layouts with the day and the month either way round both read the column in time order, the one
    whose steps are most even wins: a logger samples at a steady rate, and read the other way round its days jump
    by months. ValueError naming the first cell that nothing reads."""
    try:
        return np.array([float(cell) for cell in cells], dtype=np.float64), False
    except ValueError:
        pass
    try:
        return np.array([time_value(cell) for cell in cells], dtype=np.float64), True
    except ValueError:
        pass
    readings = []
    for layout in DATE_LAYOUTS:
        if any(_date(cell, layout) is None for cell in cells[:LAYOUT_SAMPLE]):
            continue
        stamps = [_date(cell, layout) for cell in cells]
        if None not in stamps:
            readings.append(np.array([stamp.timestamp() for stamp in stamps]))
    if not readings:
        bad = next((i for i, cell in enumerate(cells) if not is_time(cell) and not _is_date(cell)), None)
        if bad is None:
            raise ValueError("its dates are written in more than one layout; write them all one way")
        raise ValueError(
            f"{cells[bad]!r} in data row {bad + 1} is neither a number nor a date (ISO 8601, or as 01/31/2024 13:00 "
            "or 31.01.2024 13:00)"
        )
    in_order = [r for r in readings if (np.diff(r) > 0).all()] or readings
    return min(in_order, key=lambda r: np.ptp(np.diff(r)) if len(r) > 1 else 0.0), True


def _date(text: str, layout: str) -> datetime | None:
    """`text` as a date in `layout`, read as UTC; None where it is not one."""
    try:
        return datetime.strptime(text.strip(), layout).replace(tzinfo=UTC)
    except ValueError:
        return None


def _is_date(text: str) -> bool:
    return any(_date(text, layout) is not None for layout in DATE_LAYOUTS)


def not_numeric_hint(cell, dates: bool = True, classes: bool = False) -> str:
    """What to add to a "not numeric" error when `cell` is a number written with thousands separators ('1,304.5'),
    with a decimal comma ('1,5'; '1,304' may be either, and is named as a decimal comma), or (with
    `dates`: in a column that could be renamed) a date or time ('2024-01-31 12:00') in one not named `timestamp`,
    or other text (with `classes`: in a file whose `label` column gives class labels, as iris' 'species' would)."""
    text = str(cell).strip()
    if THOUSANDS.fullmatch(text) and not DECIMAL_COMMA.fullmatch(text):
        return "; aelab reads numbers without thousands separators (1304.5, not 1,304.5)"
    try:
        float(text.replace(",", "."))
        return "; aelab reads '.' as the decimal mark" if "," in text else ""
    except ValueError:
        pass
    if not dates:
        return ""
    if not is_time(text) and not _is_date(text):
        return "; a column of classes gives the labels (never a feature) when it is named 'label'" if classes else ""
    return "; a date or time column is the time index (never a feature) when it is named 'timestamp'"


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header with surrounding spaces stripped, the rows after it), without the trailing columns that have neither
    a name nor a value in any row, as spreadsheets export them ('a,b,c,,')."""
    with open_csv(path) as f:
        rows = list(csv_reader(f))
    if not rows:
        raise AelabError(f"{path}: empty CSV")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    width = named_width(header)
    while width < len(header) and any("".join(row[width:]).strip() for row in body):
        width += 1  # an unnamed column with values is kept (and read as a row index)
    if width < len(header):
        header, body = header[:width], [row[:width] for row in body]
    return header, body


def named_width(header: list[str]) -> int:
    """The number of columns up to the last one with a name: spreadsheets export trailing columns with neither a
    name nor values ('a,b,c,,'), which are no columns at all."""
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    return width
