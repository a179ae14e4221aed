"""Splits that stay on disk: rows are read (and decoded) only when a batch asks for them.

Used when the data would not fit in memory, or on request (`--stream`). A `LazyImages` behaves like the
(N, C, H, W) float32 array an in-memory split holds, as far as training and evaluation use it: `len`,
`shape`, `dtype` and indexing by an integer array or a slice, which returns a NumPy array.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import AelabError
from .images import as_unit_float, to_colour

# Stream when the splits, as float32, would take more than this share of the machine's memory
MEMORY_SHARE = 0.25


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30  # a conservative guess where the OS does not say


def should_stream(n_samples: int, sample_values: int) -> bool:
    return n_samples * sample_values * 4 > MEMORY_SHARE * physical_memory()


class LazyImages:
    """The images `pool.take(indices[key])` as (n, C, H, W) float32 in [0, 1], decoded per request."""

    def __init__(self, pool, indices: np.ndarray):
        self.pool = pool
        self.indices = np.asarray(indices)
        first = as_unit_float(pool.take(self.indices[:1], cache=False))  # sets the shape `_read` serves
        self.shape = (len(self.indices), *first.shape[1:])
        self.dtype = np.dtype(np.float32)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.indices)

    def in_colour(self) -> LazyImages:
        """Serve grayscale images as three equal channels, to match colour splits of the same data."""
        self.shape = (self.shape[0], 3, *self.shape[2:])
        return self

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self._read(self.indices[[key]])[0]
        return self._read(self.indices[key])

    def _read(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.empty((0, *self.shape[1:]), dtype=np.float32)
        # Read in file order (sequential on disk), hand back in the order asked for
        order = np.argsort(rows, kind="stable")
        in_file_order = as_unit_float(self.pool.take(rows[order], cache=False))
        if in_file_order.shape[1] != self.shape[1]:
            if self.shape[1] == 1:
                raise AelabError(
                    f"{self.pool.origin}: colour images among grayscale ones; streaming takes the "
                    "channel count from the first image, so pass --in-memory to read them as colour"
                )
            in_file_order = to_colour(in_file_order, axis=1)
        images = np.empty_like(in_file_order)
        images[order] = in_file_order
        return images
