"""Per-feature standardisation with training statistics: the one place that fits, saves, reads and applies it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import AelabError

CONSTANT_SHARE = 1e-6  # a feature whose std is at most this share of its typical size is constant (float noise)


@dataclass(frozen=True, eq=False)
class Standardizer:
    """z = (x - mean) / std over the last axis (features), float32 statistics as saved in config.json."""

    mean: np.ndarray
    std: np.ndarray
    constant: np.ndarray | None = None  # (F,) bool: features constant on the split `fit` saw (not saved: a note)

    @classmethod
    def fit(cls, x_train: np.ndarray, origin) -> Standardizer:
        """Mean and std of each feature over every other axis. A feature constant on the training split is only
        centred, as scikit-learn's StandardScaler does: constant columns are common in tables (the border pixels of
        digits) and in recordings (a channel at rest), and it is the training data, not an error. Every feature
        constant is one (a stuck sensor, a column of ones): once centred the data are all zeros, which any model
        reconstructs exactly, and t-SNE of such codes crashed the process. `origin` names the data in that error.

        Constant is relative to the feature's own size (`CONSTANT_SHARE` of |mean| + std, i.e. a few float32
        rounding steps), not an absolute floor: a floor of 1e-8 called a signal measured in picoamperes (values
        about 1e-12) constant and refused the file."""
        axes = tuple(range(x_train.ndim - 1))
        if np.isnan(x_train).any():  # padded ragged sequences: statistics of the real steps
            mean = np.nanmean(x_train, axis=axes, dtype=np.float64)
            std = np.nanstd(x_train, axis=axes, dtype=np.float64)
        else:
            mean = x_train.mean(axis=axes, dtype=np.float64)
            std = x_train.std(axis=axes, dtype=np.float64)
        constant = std <= CONSTANT_SHARE * (np.abs(mean) + std)
        if constant.all():
            raise AelabError(
                f"{origin}: every feature is constant on the training split; there is nothing for a model to learn"
            )
        std[constant] = 1.0
        return cls(mean.astype(np.float32), std.astype(np.float32), constant)

    def constant_note(self, feature_names, origin) -> str | None:
        """A line naming the features `fit` found constant, if any: a stuck sensor or a column of one value is
        only centred, so a later change there counts in the feature's own units rather than in standard
        deviations, and nothing about it was learnt."""
        if self.constant is None or not self.constant.any():
            return None
        found = np.flatnonzero(self.constant)
        names = [repr(feature_names[i]) if feature_names else f"feature {i}" for i in found[:5]]
        shown = ", ".join(names) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        return (
            f"{origin}: constant on the training split, so only centred: {shown} (a later change there counts in its "
            "own units)"
        )

    @classmethod
    def from_dict(cls, record: dict | None) -> Standardizer | None:
        """The statistics a run saved as {"mean": [...], "std": [...]}, or None for data that is not scaled."""
        if record is None:
            return None
        return cls(np.asarray(record["mean"], np.float32), np.asarray(record["std"], np.float32))

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def check(self, n_features: int, origin) -> None:
        if n_features != self.n_features:
            raise AelabError(f"{origin}: {n_features} feature(s), the model was trained on {self.n_features}")

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def invert(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean
