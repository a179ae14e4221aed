"""Feature quality vs reconstruction: default `cnn` trained with the contrastive term at several weights.

Seed protocol on CIFAR-10 (../shared/data/cifar10-jpeg, or $AELAB_CIFAR10); for each weight: test MSE against
PCA-32, and logistic / 5-NN probe accuracy on the 32-d codes beside PCA's.

Run: python benchmarks/bench_features.py [--weights 0,0.003,0.01]  ->  benchmarks/results/features.json
"""

import argparse
import os
from pathlib import Path

from common import timed_training, write

from aelab.data import load_dataset

DEFAULT_COPY = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpeg"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default="0,0.003,0.01", help="comma-separated --contrastive weights")
    args = parser.parse_args()
    data = load_dataset("cifar10", cifar10=os.environ.get("AELAB_CIFAR10") or str(DEFAULT_COPY))
    runs, table = {}, []
    for weight in (float(w) for w in args.weights.split(",")):
        run = timed_training("cnn", data, contrastive=weight)
        m = run["metrics"]
        row = {
            "contrastive": weight,
            "test_mse": m["test_mse"],
            "mse_vs_pca": m["mse_vs_pca"],
            "probe_logreg": m["probe_logreg"],
            "probe_knn": m["probe_knn"],
            "pca_probe_logreg": m["pca_probe_logreg"],
            "pca_probe_knn": m["pca_probe_knn"],
            "train_seconds": run["train_seconds"],
        }
        print(row, flush=True)
        runs[f"cnn --contrastive {weight}"] = run
        table.append(row)
    write("features", {"table": table, "runs": runs})


if __name__ == "__main__":
    main()
