"""Reading a CSV file whole, with every failure one line naming the file."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import AelabError


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header with surrounding spaces stripped, the rows after it)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise AelabError(f"{path}: cannot read CSV ({getattr(exc, 'strerror', None) or exc})") from None
    if not rows:
        raise AelabError(f"{path}: empty CSV")
    return [h.strip() for h in rows[0]], rows[1:]
