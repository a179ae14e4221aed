"""Anomaly scores per time step of a stream, and how well they find labelled anomalies.

A step's score is its own squared reconstruction error (mean over features), averaged over every window that
covers it. The step's own error, not its windows' mean error, so that a short anomaly lifts the steps it is made
of rather than a window's length around them; the average over windows, so that a step is not judged by where
in one window it happened to fall (a window's first and last steps reconstruct worse than its middle).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from .data.streams import mean_over_windows
from .errors import ConfigError
from .stats import EXACT_MSE

UCR_MARGIN = 100  # ucr_hit: the top-scoring step within the labelled anomaly +-100 steps, as the UCR archive scores
# A validation score above this many times the training part's 99th percentile is an anomaly, not normal variation
CEILING_FACTOR = 10.0


def step_scores(reconstruct, values: np.ndarray, window: int, stride: int, batch_size: int = 256) -> np.ndarray:
    """(T,) scores of stream `values` (T, F); `reconstruct` maps windows (B, W, F) to their reconstructions."""

    def errors(x: np.ndarray) -> np.ndarray:
        return np.mean((reconstruct(x) - x) ** 2, axis=-1, dtype=np.float64)

    return mean_over_windows(values, window, stride, errors, batch_size)


class Threshold(NamedTuple):
    value: float
    left_out: int  # validation scores above the ceiling, which the percentile was taken without
    ceiling: float | None


def threshold(val_errors: np.ndarray, percentile: float, train_errors: np.ndarray | None = None) -> Threshold:
    """The `percentile` of the validation errors, the score above which `aelab score` flags. Where the training
    part's per-step scores are given (a stream run), validation scores over CEILING_FACTOR times their 99th
    percentile are left out first: those are an anomaly within the validation part, not the normal variation that
    a threshold should sit above (unless they are most of it: then the part differs from training as a whole).

    A stream trained whole holds its anomalies wherever they fall, and time order puts a stretch of it in the
    validation part. Measured on the 24 GutenTAG streams each joined into one (normal part, then the part with an
    anomaly; trained and scored whole; `benchmarks/bench_threshold.py`): the anomaly fell in the validation part of
    13, where its 100 steps are 3% of 3,200, so the 99th percentile lay inside it (sine-mean: 1.68 where the
    validation median is 0.0025; 30 of its 100 steps flagged, now all). Mean F1 of the flags 0.226 -> 0.281, recall
    0.43 -> 0.55, normal steps flagged 0.69% -> 0.79%; trained on a clean stream, 0.339 -> 0.337 and 0.96% -> 0.97%.
    The training part, fitted but far longer, keeps the heavy tail of normal data that no model predicts (CBF's
    random shapes: a validation 99th percentile 20 times its 90th), so a ceiling set from it leaves those scores
    in, where one set from the validation scores' own body took them for anomalies and flagged 2-7 times as many
    normal steps. The threshold is at least EXACT_MSE: where a model reconstructs its data exactly (a table of fewer
    independent columns than the code has numbers), the errors are float noise, and their percentile flagged 4% of
    such a table's rows."""
    if not isinstance(percentile, numbers.Real) or isinstance(percentile, bool) or not 0 < percentile <= 100:
        raise ConfigError("percentile", f"must lie in (0, 100], got {percentile!r}")
    ceiling = None
    kept = val_errors
    if train_errors is not None and len(train_errors):
        ceiling = CEILING_FACTOR * float(np.percentile(train_errors, 99))
        kept = val_errors[val_errors <= ceiling]
        if len(kept) < len(val_errors) / 2:  # most of the part over it: not an anomaly but a part unlike training
            kept = val_errors
    value = max(float(np.percentile(kept, percentile)), EXACT_MSE)  # errors of exact reconstructions are noise
    return Threshold(value, len(val_errors) - len(kept), ceiling)


def anomaly_segments(labels: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of 1s."""
    padded = np.concatenate([[0], labels.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def best_f1(scores: np.ndarray, labels: np.ndarray) -> float:
    """The best F1 over all thresholds."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(f1.max())


def point_adjusted(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Scores under point adjustment: flagging any step of an anomaly counts as flagging all of it, which for every
    threshold at once is each anomalous step taking its segment's highest score. Lenient by design (a detector
    that flags one step in a long anomaly gets full recall for it); reported beside the unadjusted F1, never alone."""
    adjusted = scores.astype(np.float64).copy()
    for start, stop in anomaly_segments(labels):
        adjusted[start:stop] = adjusted[start:stop].max()
    return adjusted


def anomaly_metrics(scores: np.ndarray, labels: np.ndarray, prefix: str = "", over_time: bool = True) -> dict:
    """AUROC, AUPRC, best F1 without and with point adjustment, and (one anomaly only) the UCR hit; empty when the
    labels hold no anomaly or nothing else, where none of these is defined. Scores of samples rather than of time
    steps (`over_time` False: a table's rows) have no stretches to adjust or hit: the first three only."""
    labels = np.asarray(labels).astype(np.int8)
    if labels.min() == labels.max():
        return {}
    metrics = {
        "anomaly_auroc": float(roc_auc_score(labels, scores)),
        "anomaly_auprc": float(average_precision_score(labels, scores)),
        "anomaly_best_f1": best_f1(scores, labels),
    }
    if not over_time:
        return {prefix + key: value for key, value in metrics.items()}
    metrics["anomaly_best_f1_pa"] = best_f1(point_adjusted(scores, labels), labels)
    segments = anomaly_segments(labels)
    if len(segments) == 1:
        (start, stop), top = segments[0], int(np.argmax(scores))
        metrics["ucr_hit"] = float(start - UCR_MARGIN <= top < stop + UCR_MARGIN)
    return {prefix + key: value for key, value in metrics.items()}
