"""Atomic file writes: every artefact appears whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import AelabError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    The file gets the mode a plain `open` would give it (0644 under umask 022; `mkstemp` alone makes 0600, which
    hides reports and codes from other users of a shared machine), and its contents reach the disk before the
    rename, so a power cut leaves the old file or the new one, never an empty "finished" file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_file_beside(path)
    except OSError as exc:  # a read-only or missing place: the user's path, not aelab's fault
        raise AelabError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable(path: str | os.PathLike, option: str) -> None:
    """Fail before any work if no file can be created at `path` (a missing or read-only folder), for an output that
    is written after another: a --plot drawn after the scores must not fail once the scores are on disk."""
    path = Path(path)
    try:
        os.unlink(_temp_file_beside(path))
    except OSError as exc:
        raise AelabError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


def _temp_file_beside(path: Path) -> str:
    """A new empty hidden file in `path`'s folder (OSError where none can be made there)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return tmp


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def cache_dir() -> Path:
    """Where decoded images and downloads are kept: $AELAB_CACHE, default ~/.cache/aelab (never beside the data)."""
    return Path(os.environ.get("AELAB_CACHE", Path.home() / ".cache" / "aelab")).expanduser()


def _plain(value):
    """A NumPy scalar or array as a JSON number or list: estimator parameters from a grid search over np.arange are
    np.int64, which `json` refuses."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_plain) + "\n")


def read_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text())
