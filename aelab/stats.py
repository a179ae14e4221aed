"""The test aelab decides with wherever a candidate must beat a reference on the same samples: a one-sided paired
z-test on per-sample errors. Small splits rank candidates by noise; a gain counts only when it is larger than its
own spread."""

from __future__ import annotations

import math

import numpy as np

# How many standard errors of the per-sample differences a candidate must gain to replace its reference
CLEARLY_BETTER_Z = 2.0


def paired_z(errors, reference_errors) -> float:
    """The mean per-sample gain of `errors` over `reference_errors` (both (N,), CPU tensors or arrays), in
    standard errors of the paired differences; +-inf for a gain without spread."""
    gain = np.asarray(reference_errors, dtype=np.float64) - np.asarray(errors, dtype=np.float64)
    mean = float(gain.mean())
    spread = float(gain.std(ddof=1)) / math.sqrt(len(gain)) if len(gain) > 1 else 0.0
    if spread > 0:
        return mean / spread
    return math.copysign(math.inf, mean) if mean else 0.0


def clearly_better(errors, reference_errors, z: float = CLEARLY_BETTER_Z) -> bool:
    """Whether `errors` beat `reference_errors`, sample by sample, by more than `z` standard errors."""
    return paired_z(errors, reference_errors) > z
