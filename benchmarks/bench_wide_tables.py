"""`dense` on wide tables (many columns: gene expression, spectra): the first layer's width at the config's rule
(twice the columns, at most 512) against the cap of `DenseAutoencoder.MAX_LAYER_WEIGHTS` weights per layer.

Each table is made here from a fixed seed: 5 latent factors through tanh and one product term, plus noise; the first
80% of the rows train `AutoencoderTransformer(latent_dim=8)` (its default budget and starts, as `aelab train`), the
rest are the test rows; ratio = test MSE / PCA-8's fitted on all the standardised training rows (the estimator
holds 20% of them out for validation, so its own PCA start has fewer: on 80 rows it ends 1.04x this PCA).

    .venv/bin/python benchmarks/bench_wide_tables.py [--shapes 100x20000,2500x5000,6000x4000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import RESULTS, machine
from sklearn.decomposition import PCA

from aelab import AutoencoderTransformer
from aelab.models.dense import DenseAutoencoder


def wide_table(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(rows, 5))
    w = rng.normal(size=(5, columns)) / np.sqrt(5)
    x = np.tanh(z @ w) + 0.3 * np.sin(2 * z[:, :1] * z[:, 1:2]) + 0.1 * rng.normal(size=(rows, columns))
    return x.astype(np.float32)


def measure(x: np.ndarray, cap: int) -> dict:
    DenseAutoencoder.MAX_LAYER_WEIGHTS = cap
    n_train = int(0.8 * len(x))
    train, test = x[:n_train], x[n_train:]
    started = time.perf_counter()
    est = AutoencoderTransformer(latent_dim=8).fit(train)
    seconds = time.perf_counter() - started
    mse = float(((est.inverse_transform(est.transform(test)) - test) ** 2).mean())
    mean, std = train.mean(0), train.std(0)
    pca = PCA(8, random_state=0).fit((train - mean) / std)  # its randomized solver, seeded
    pca_mse = float(((pca.inverse_transform(pca.transform((test - mean) / std)) * std + mean - test) ** 2).mean())
    return {"hidden": est.model_.config.hidden_width, "fit_seconds": seconds, "test_mse": mse, "ratio": mse / pca_mse}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default="100x20000,2500x5000,6000x4000")
    args = parser.parse_args()
    cap = DenseAutoencoder.MAX_LAYER_WEIGHTS
    rows = []
    for shape in args.shapes.split(","):
        n, f = map(int, shape.split("x"))
        x = wide_table(n, f)
        for rule, limit in (("config width", 10**12), ("capped", cap)):
            row = {"rows": n, "columns": f, "rule": rule, **measure(x, limit)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    DenseAutoencoder.MAX_LAYER_WEIGHTS = cap
    (RESULTS / "wide-tables.json").write_text(json.dumps({"machine": machine(), "cap": cap, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
