"""Time shifts at a lower weight: does a PCA start that counts the unshifted sequences more keep the reconstruction
gain of time-shift and lose less of the logistic probe (issue 14's OSULeaf and CBF gap)?

PCA-20 on the training split of the generalization benchmark's runs (the same splits, seeds 42/43/44), fitted on
the training sequences in the `variants` of time-shift (9 shifts, the unshifted among them: a ninth of the rows, as
the anchored start is today) and with the unshifted sequences repeated to a third and to a half of the rows; test
MSE as a ratio to plain PCA-20's, and the logistic probe of each one's codes.

    .venv/bin/python benchmarks/bench_shift_weight.py
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from bench_generalization import SEEDS, UCR, cylinder_bell_funnel, ucr_sets
from common import write

from aelab.data import load_dataset
from aelab.data.augment import choose_augmentation, variants
from aelab.data.spec import DataSpec
from aelab.evaluate import PCABaseline, probe_accuracies
from aelab.padding import filled

UNSHIFTED_SHARES = {"ninth (today)": 1 / 9, "third": 1 / 3, "half": 1 / 2}
LATENT = 20


def spec(name: str, seed: int, tmp: Path) -> DataSpec:
    if name == "CBF":
        return DataSpec(
            str(tmp / "CBF_TRAIN_X.npy"),
            labels=str(tmp / "CBF_TRAIN_y.npy"),
            seed=seed,
            test_data=str(tmp / "CBF_TEST_X.npy"),
            test_labels=str(tmp / "CBF_TEST_y.npy"),
        )
    if (UCR / f"{name}_TRAIN.csv").exists():
        return DataSpec(str(UCR / f"{name}_TRAIN.csv"), test_data=str(UCR / f"{name}_TEST.csv"), seed=seed)
    labelled = (UCR / f"{name}_TRAIN_y.npy").exists()
    return DataSpec(
        str(UCR / f"{name}_TRAIN_X.npy"),
        test_data=str(UCR / f"{name}_TEST_X.npy"),
        seed=seed,
        labels=str(UCR / f"{name}_TRAIN_y.npy") if labelled else None,
        test_labels=str(UCR / f"{name}_TEST_y.npy") if labelled else None,
    )


def weighted_variants(x: np.ndarray, share: float) -> np.ndarray:
    """The time-shift variants of `x`, with the unshifted sequences repeated to about `share` of the rows."""
    shifted = variants(torch.as_tensor(x), "time-shift").numpy()
    copies = len(shifted) // len(x)  # the unshifted sequences are one of them
    extra = round(share * copies / (1 - share)) - 1 if share > 1 / copies else 0
    return np.concatenate([shifted, *[x] * extra])


def one_run(name: str, seed: int, tmp: Path) -> dict:
    dataset = load_dataset(spec(name, seed, tmp))
    x_train, x_test = dataset.train.x, dataset.test.x
    k = min(LATENT, len(x_train) - 1)

    def measure(fit_rows: np.ndarray) -> dict:
        pca = PCABaseline(k, seed=seed).fit(fit_rows).pca_
        codes = [pca.transform(filled(x.reshape(len(x), -1))) for x in (x_train, x_test)]
        flat = x_test.reshape(len(x_test), -1)
        real = ~np.isnan(flat)
        error = np.where(real, pca.inverse_transform(codes[1]) - filled(flat), 0.0) ** 2
        probe = None
        if dataset.has_labels:
            probe = probe_accuracies(codes[0], dataset.train.y, codes[1], dataset.test.y, seed)[0]
        return {"test_mse": float(error.sum() / real.sum()), "probe_logreg": probe}

    plain = measure(x_train)
    row = {"seed": seed, "choice": choose_augmentation("sequence", x_train, LATENT, seed).name, "plain": plain}
    for label, share in UNSHIFTED_SHARES.items():
        m = measure(weighted_variants(x_train, share))
        row[label] = {"ratio": m["test_mse"] / plain["test_mse"], "probe_logreg": m["probe_logreg"]}
    return row


def average(values) -> float | None:
    """The mean, or None for a set without labels (no probes)."""
    values = list(values)
    return None if None in values else statistics.fmean(values)


def main_bench() -> None:
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)  # CBF as bench_generalization writes it
        for split, n in (("TRAIN", 30), ("TEST", 900)):
            x, y = cylinder_bell_funnel(n, rng)
            np.save(Path(tmp) / f"CBF_{split}_X.npy", x)
            np.save(Path(tmp) / f"CBF_{split}_y.npy", y)
        for name in [*ucr_sets(), "CBF"]:
            runs = [one_run(name, seed, Path(tmp)) for seed in SEEDS]
            mean = {"plain_probe": average(r["plain"]["probe_logreg"] for r in runs)}
            for label in UNSHIFTED_SHARES:
                mean[label] = {key: average(r[label][key] for r in runs) for key in ("ratio", "probe_logreg")}
            sets[name] = {"runs": runs, "mean": mean}
            print(name, mean, flush=True)
    write("shift-weight", {"latent": LATENT, "seeds": SEEDS, "sets": sets})


if __name__ == "__main__":
    main_bench()
