"""Issue 16: `dense` on scikit-learn's bundled tables beside PCA, and `AutoencoderOutlierDetector` beside
IsolationForest and PCA's reconstruction error on outlier tasks. Seeds 0-4, mean and spread.

Reconstruction: `aelab train dense --data TABLE.csv --latent-dim K --seed S` (K = 2, 8) on digits (64 columns),
breast_cancer (30) and wine (13); test MSE on the run's held-out 20% beside PCA-K fitted on the same training rows.
Outliers: digits with each class in turn as inliers plus 5% outliers drawn from the other classes, and
breast_cancer with benign inliers plus 5% malignant; every detector is fitted on the contaminated rows
(standardised) and scored by AUROC on them, as in the ODDS benchmarks.

Beside them, `--other-tasks` runs the detectors on tasks they were not designed on (`other_outlier_tasks`, the
detector's default latent size) into results/tables-other.json.

    .venv/bin/python benchmarks/bench_tables.py [--seeds 0,1,2,3,4] [--skip-reconstruction | --other-tasks]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, machine
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from aelab import AutoencoderOutlierDetector
from aelab.cli import main
from aelab.models.dense import default_table_latent

TABLES = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}
LATENTS = (2, 8)
OUTLIER_SHARE = 0.05


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"c{j}" for j in range(x.shape[1])] + ["label"])
        writer.writerows([*row, label] for row, label in zip(x.tolist(), y.tolist(), strict=True))
    return path


def reconstruction(seeds, work: Path) -> list[dict]:
    rows = []
    for name, load in TABLES.items():
        data = load()
        path = write_csv(work / f"{name}.csv", data.data, data.target)
        for k in LATENTS:
            runs = []
            for seed in seeds:
                out = work / f"{name}-{k}-{seed}"
                argv = ["train", "dense", "--data", str(path), "--latent-dim", str(k), "--seed", str(seed)]
                assert main([*argv, "--out", str(out), "--force"]) == 0
                m = json.loads((out / "metrics.json").read_text())
                t = json.loads((out / "timings.json").read_text())
                keys = ("test_mse", "pca_test_mse", "probe_logreg", "pca_probe_logreg")
                runs.append({"seed": seed, **{key: m.get(key) for key in keys}, "ratio": m["mse_vs_pca"],
                             "train_seconds": t["train_seconds"]})  # fmt: skip
            ratios = [r["ratio"] for r in runs]
            rows.append({"table": name, "latent_dim": k, "runs": runs, "ratio_mean": statistics.fmean(ratios),
                         "ratio_min": min(ratios), "ratio_max": max(ratios)})  # fmt: skip
            print(f"{name:14s} latent {k}: dense/PCA {statistics.fmean(ratios):.3f} [{min(ratios):.3f}, "
                  f"{max(ratios):.3f}]", flush=True)  # fmt: skip
    return rows


def planted(rng, inliers: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X, is_outlier): `inliers` and, drawn from `others` with `rng`, outliers making OUTLIER_SHARE of X."""
    n_out = max(1, int(round(OUTLIER_SHARE * len(inliers) / (1 - OUTLIER_SHARE))))
    outliers = others[rng.choice(len(others), n_out, replace=False)]
    return np.vstack([inliers, outliers]), np.r_[np.zeros(len(inliers)), np.ones(n_out)]


def outlier_tasks(seed: int):
    """(task name, X, is_outlier) for every task, outliers drawn with `seed`."""
    rng = np.random.default_rng(seed)
    digits = load_digits()
    for c in range(10):
        yield f"digits-{c}", *planted(rng, digits.data[digits.target == c], digits.data[digits.target != c])
    cancer = load_breast_cancer()  # target 1 = benign
    yield "breast_cancer", *planted(rng, cancer.data[cancer.target == 1], cancer.data[cancer.target == 0])


def other_outlier_tasks(seed: int):
    """Tasks the detector was not designed on, beside the issue's: each class of wine and iris as inliers with 5%
    from the others, breast_cancer with *malignant* inliers, and rank-3 data in 10 columns with three planted kinds
    of outlier (one column far off, far out along the data's own directions, off the data's subspace)."""
    rng = np.random.default_rng(seed)
    for name, load in (("wine", load_wine), ("iris", load_iris)):
        data = load()
        for c in np.unique(data.target):
            yield f"{name}-{c}", *planted(rng, data.data[data.target == c], data.data[data.target != c])
    cancer = load_breast_cancer()
    yield "breast_cancer-malignant", *planted(rng, cancer.data[cancer.target == 0], cancer.data[cancer.target == 1])
    basis = rng.normal(size=(3, 10))
    inliers = rng.normal(size=(300, 3)) @ basis + 0.1 * rng.normal(size=(300, 10))
    spikes = rng.normal(size=(15, 3)) @ basis + 0.1 * rng.normal(size=(15, 10))
    spikes[np.arange(15), rng.integers(0, 10, 15)] += rng.choice([-1, 1], 15) * 4 * inliers.std(0).mean()
    far = rng.normal(size=(15, 3)) * 3 @ basis + 0.1 * rng.normal(size=(15, 10))
    off = rng.normal(size=(15, 10)) * inliers.std(0)
    truth = np.r_[np.zeros(300), np.ones(15)]
    for name, outliers in (("one-column-far", spikes), ("along-the-data", far), ("off-the-data", off)):
        yield name, np.vstack([inliers, outliers]), truth


def pca_scores(x: np.ndarray, seed: int, k: int) -> np.ndarray:
    pca = PCA(k, random_state=seed).fit(x)
    return np.mean((pca.inverse_transform(pca.transform(x)) - x) ** 2, axis=1)


def detectors(seed: int, k: int) -> dict:
    """name -> function(X standardised) giving outlier scores (higher = more anomalous)."""

    def autoencoder(x):
        det = AutoencoderOutlierDetector(latent_dim=k, contamination=OUTLIER_SHARE, seed=seed).fit(x)
        return -det.score_samples(x)

    found = {
        "aelab_dense": autoencoder,
        "isolation_forest": lambda x: -IsolationForest(random_state=seed).fit(x).score_samples(x),
        "pca_error": lambda x: pca_scores(x, seed, k),
    }
    try:
        from pyod.models.auto_encoder import AutoEncoder

        found["pyod_autoencoder"] = lambda x: (
            AutoEncoder(contamination=OUTLIER_SHARE, random_state=seed).fit(x).decision_scores_
        )
    except ImportError:
        pass  # optional: pyod is not a dependency
    return found


def outliers(seeds, tasks=outlier_tasks, k: int | None = 8) -> list[dict]:
    """AUROC of every detector on every task; `k` None: the detector's default latent size (PCA of the same)."""
    rows = []
    for seed in seeds:
        for task, x, truth in tasks(seed):
            xs = StandardScaler().fit_transform(x)
            for name, detect in detectors(seed, k or default_table_latent(x.shape[1])).items():
                started = time.perf_counter()
                auroc = roc_auc_score(truth, detect(xs))
                rows.append({"task": task, "seed": seed, "detector": name, "auroc": auroc,
                             "seconds": time.perf_counter() - started})  # fmt: skip
        print(f"seed {seed}: " + ", ".join(
            f"{d} {statistics.fmean(r['auroc'] for r in rows if r['seed'] == seed and r['detector'] == d):.3f}"
            for d in sorted({r['detector'] for r in rows})), flush=True)  # fmt: skip
    return rows


def summarise(rows: list[dict]) -> dict:
    out = {}
    for d in sorted({r["detector"] for r in rows}):
        per_seed = [statistics.fmean(r["auroc"] for r in rows if r["detector"] == d and r["seed"] == s)
                    for s in sorted({r["seed"] for r in rows})]  # fmt: skip
        out[d] = {"mean_auroc": statistics.fmean(per_seed), "min_seed": min(per_seed), "max_seed": max(per_seed)}
    return out


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--skip-reconstruction", action="store_true")
    parser.add_argument("--other-tasks", action="store_true", help="only the detectors on other_outlier_tasks")
    parser.add_argument("--out", help="default: results/tables.json, or tables-other.json with --other-tasks")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.other_tasks:
        rows = outliers(seeds, other_outlier_tasks, k=None)
        result = {"machine": machine(), "seeds": seeds, "outliers": rows, "outlier_summary": summarise(rows)}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            recon = [] if args.skip_reconstruction else reconstruction(seeds, Path(tmp))
        rows = outliers(seeds)
        result = {"machine": machine(), "seeds": seeds, "reconstruction": recon, "outliers": rows,
                  "outlier_summary": summarise(rows)}  # fmt: skip
    out = Path(args.out or RESULTS / ("tables-other.json" if args.other_tasks else "tables.json"))
    out.write_text(json.dumps(result, indent=2) + "\n")
    for d, s in result["outlier_summary"].items():
        print(f"{d:18s} mean AUROC {s['mean_auroc']:.3f} (seeds {s['min_seed']:.3f}-{s['max_seed']:.3f})")
    print(f"wrote {out}")


if __name__ == "__main__":
    main_bench()
