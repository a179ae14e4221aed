"""Seeded, class-stratified splitting: train/val/test index sets from a pool of samples."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from ..errors import AelabError

HELD_OUT_TEST_FRACTION = 0.2  # test share for data without its own test set


def _stratify(labels):
    if labels is None:
        return None
    _, counts = np.unique(labels, return_counts=True)
    return labels if counts.min() >= 2 else None


def sample(indices: np.ndarray, labels, size: int | None, seed: int, what: str) -> np.ndarray:
    """A seeded, class-stratified subset of `indices` of `size` elements (None: all, in a seeded order)."""
    n = len(indices)
    if size is None or size == n:
        return np.random.default_rng(seed).permutation(indices)
    if size > n:
        raise AelabError(f"{what}: asked for {size} samples, only {n} are available")
    sub_labels = None if labels is None else labels[indices]
    n_classes = 0 if sub_labels is None else len(np.unique(sub_labels))
    if size < n_classes:
        raise AelabError(f"{what}: {size} samples cannot cover the {n_classes} classes")
    strat = _stratify(sub_labels) if size >= n_classes and n - size >= n_classes else None
    chosen, _ = train_test_split(indices, train_size=size, stratify=strat, random_state=seed)
    return chosen


def split_off(indices, labels, fraction: float, seed: int, what: str):
    """Split `indices` into (rest, held_out) with `fraction` held out, stratified where possible."""
    n_out = int(round(fraction * len(indices)))
    if n_out < 1 or n_out >= len(indices):
        raise AelabError(f"{what}: a fraction of {fraction} of {len(indices)} samples leaves an empty split")
    sub_labels = None if labels is None else labels[indices]
    n_classes = 0 if sub_labels is None else len(np.unique(sub_labels))
    strat = _stratify(sub_labels) if min(n_out, len(indices) - n_out) >= n_classes else None
    rest, held = train_test_split(indices, test_size=n_out, stratify=strat, random_state=seed)
    return rest, held
