"""Reading CSV files, with every failure one line naming the file."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

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


def not_numeric_hint(cell, dates: bool = True, classes: bool = False) -> str:
    """What to add to a "not numeric" error when `cell` is a number written with a decimal comma ('1,5'), or (with
    `dates`: in a column that could be renamed) a date or time ('2024-01-31 12:00') in one not named `timestamp`,
    or other text (with `classes`: in a file whose `label` column gives class labels, as iris' 'species' would)."""
    text = str(cell).strip()
    try:
        float(text.replace(",", "."))
        return "; aelab reads '.' as the decimal mark" if "," in text else ""
    except ValueError:
        pass
    if not dates:
        return ""
    try:
        datetime.fromisoformat(text)
    except ValueError:
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
