"""Reading CSV files, with every failure one line naming the file."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import TextIO

from ..errors import AelabError

# Separators besides the comma that a .csv may use: spreadsheets in locales with a decimal comma write ';', and
# tab-separated files are often saved as .csv
OTHER_DELIMITERS = (";", "\t")


def csv_reader(f: TextIO):
    """A csv.reader over the open file `f`, split on commas unless its header line holds none and holds ';' or a
    tab."""
    header_line = f.readline()
    delimiter = "," if "," in header_line else next((d for d in OTHER_DELIMITERS if d in header_line), ",")
    return csv.reader(itertools.chain([header_line], f), delimiter=delimiter)


def decimal_comma_hint(cell) -> str:
    """What to add to a "not numeric" error when `cell` is a number written with a decimal comma ('1,5')."""
    text = str(cell).strip()
    try:
        float(text.replace(",", "."))
    except ValueError:
        return ""
    return "; aelab reads '.' as the decimal mark" if "," in text else ""


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header with surrounding spaces stripped, the rows after it)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv_reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise AelabError(f"{path}: cannot read CSV ({getattr(exc, 'strerror', None) or exc})") from None
    if not rows:
        raise AelabError(f"{path}: empty CSV")
    return [h.strip() for h in rows[0]], rows[1:]
