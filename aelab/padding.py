"""Ragged sequences: padded to one length with NaN, the marker of "no value here".

The model never sees the marker: padded steps enter it as 0, which after z-scoring is the feature's training mean,
and every loss and metric counts real values only. NaN as the marker, rather than a mask beside the data, keeps
one array per split through loading, batching, DDP and streaming alike, and real data cannot contain it (loaders
refuse NaN in a file, except an `.npy` of sequences padded that way itself: see `misplaced_value`).
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import AelabError


def model_input(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(what the model sees, mask of real values or None when nothing is padded)."""
    real = ~torch.isnan(x)
    if bool(real.all()):
        return x, None
    return torch.where(real, x, torch.zeros((), dtype=x.dtype, device=x.device)), real


def filled(x: np.ndarray) -> np.ndarray:
    """`x` with padding as the model sees it (0); `x` itself when nothing is padded."""
    return np.where(np.isnan(x), np.float32(0), x) if np.isnan(x).any() else x


def masked_like(x_hat: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A reconstruction with the padding of its input put back, so padded steps count nowhere."""
    return np.where(np.isnan(x), np.nan, x_hat) if np.isnan(x).any() else x_hat


def pad_sequences(sequences: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """(N, T, F) float32 from sequences (t_i, F): each cut to `length` when given, and padded with NaN to `length`
    (or to the longest)."""
    steps = length or max(len(s) for s in sequences)
    out = np.full((len(sequences), steps, sequences[0].shape[1]), np.nan, dtype=np.float32)
    for i, s in enumerate(sequences):
        out[i, : min(len(s), steps)] = s[:steps]
    return out


def padded_list(x, origin) -> np.ndarray | None:
    """Where `x` is a list (or tuple) of sequences (t_i, F), as Python code holds sequences of unequal length, those
    as one (N, T, F) float32 array padded with NaN at their end to the longest, as a CSV of ragged sequences is read
    (`np.asarray` refused them: "inhomogeneous shape"); None for anything else."""
    if not isinstance(x, (list, tuple)) or not x:
        return None
    try:
        shapes = [np.shape(sequence) for sequence in x]
    except ValueError:  # an element ragged itself: the caller's conversion names it
        return None
    if any(len(shape) != 2 for shape in shapes):
        return None
    if len({shape[1] for shape in shapes}) > 1:
        counts = " and ".join(map(str, sorted({shape[1] for shape in shapes})))
        raise AelabError(f"{origin}: sequences of {counts} features; every sequence needs the same features")
    try:
        return pad_sequences([np.asarray(sequence, dtype=np.float32) for sequence in x])
    except (TypeError, ValueError) as exc:
        raise AelabError(f"{origin}: a sequence that does not hold numbers ({exc})") from None


def misplaced_value(x: np.ndarray) -> tuple[int, int] | None:
    """(sequence, step) of the first sequence in (N, T, F) `x` whose NaN or inf values are not padding, and the step
    where they start; None when all are. Padding is NaN in every feature from some step to the last, after at least
    one real step: how aelab pads ragged sequences, and how the UCR archive stores its sequences of unequal length."""
    finite = np.isfinite(x)
    if finite.all():
        return None
    real = finite.all(axis=2)  # (N, T)
    length = np.where(real.all(axis=1), x.shape[1], real.argmin(axis=1))  # (N,) real steps before the first gap
    after = np.arange(x.shape[1])[None, :] >= length[:, None]
    broken = np.flatnonzero((after & ~np.isnan(x).all(axis=2)).any(axis=1) | (length == 0))
    return (int(broken[0]), int(length[broken[0]])) if len(broken) else None


def lengths(x: np.ndarray) -> np.ndarray:
    """Real steps of each padded sequence (N,)."""
    return (~np.isnan(x).any(axis=2)).sum(axis=1)


def fit_length(x: np.ndarray, steps: int, cut: bool, origin, remedy: str = "train with --length to cut") -> np.ndarray:
    """Sequences (N, T, F) brought to `steps`: padded with NaN when shorter; cut when longer only if `cut` (the run
    was trained with `--length`), else refused, since dropping steps silently would change what is scored."""
    if x.shape[1] == steps:
        return x
    if x.shape[1] > steps:
        if not cut:
            raise AelabError(f"{origin}: sequences of up to {x.shape[1]} steps, the model takes {steps} ({remedy})")
        return np.ascontiguousarray(x[:, :steps])
    return np.concatenate([x, np.full((len(x), steps - x.shape[1], x.shape[2]), np.nan, np.float32)], axis=1)
