"""Issue 14 beyond ucr-dev: the default sequence models on data of thousands of samples, where they start from
random weights, beside PCA of the same size.

ucr-dev's sets have 23-200 training sequences, so every default run there starts from PCA. Larger data takes a
random start (`aelab.presets.default_init`); this benchmark makes such data in the shapes of larger real sets
(FordA's 3,601 x 500 steps, ElectricDevices' 8,926 x 96) and one long 3-feature stream cut into 40-step windows,
and trains each default model twice through `aelab train`: as by default (a run that does not clearly beat PCA on
validation ends as PCA, `aelab.experiment.pca_unless_beaten`) and with `--init random` given (the trained model
kept: what the default was before). The data are sines of random frequency and phase plus a random-walk drift and
noise, made here from a fixed seed, so nothing is downloaded.

    .venv/bin/python benchmarks/bench_larger.py [--models lstm,conv1d]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from common import RESULTS, cli_train, machine


def sines(n: int, steps: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, steps, features) float32 sequences and a label: whether the first feature's frequency is above the
    middle of its range."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, steps)[None, :, None]
    freq = rng.uniform(1, 8, (n, 1, features))
    wave = rng.uniform(0.5, 2, (n, 1, features)) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, freq.shape))
    drift = 0.3 * np.cumsum(rng.normal(0, 0.05, (n, steps, features)), axis=1)
    x = wave + drift + 0.1 * rng.normal(size=(n, steps, features))
    return x.astype(np.float32), (freq[:, 0, 0] > 4.5).astype(np.int64)


def stream(steps: int = 40_000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    return np.stack(
        [
            np.sin(t / 17) + 0.1 * rng.normal(size=steps),
            np.cos(t / 23) * np.sin(t / 300) + 0.1 * rng.normal(size=steps),
            np.cumsum(rng.normal(0, 0.02, steps)),
        ],
        axis=1,
    )


def make_sets(root: Path) -> dict[str, list[str]]:
    sets = {}
    for name, shape in (("sines-3601x500", (3601, 500, 1)), ("sines-8926x96", (8926, 96, 1))):
        x, y = sines(*shape)
        np.save(root / f"{name}.npy", x)
        np.save(root / f"{name}_y.npy", y)
        sets[name] = ["--data", str(root / f"{name}.npy"), "--labels", str(root / f"{name}_y.npy")]
    np.savetxt(root / "stream.csv", stream(), delimiter=",", header="a,b,c", comments="", fmt="%.5f")
    sets["stream-40000x3-window40"] = ["--data", str(root / "stream.csv"), "--window", "40"]
    return sets


def run_one(model: str, data_args: list[str], init: str, work: Path) -> dict:
    metrics, config, timings = cli_train(model, data_args, work / f"{model}-{init}", init)
    return {
        "init": init,
        "ratio": metrics["mse_vs_pca"],
        "test_mse": metrics["test_mse"],
        "pca_test_mse": metrics["pca_test_mse"],
        "pca_fallback": metrics.get("pca_fallback", False),
        "trained_val_mse": metrics.get("trained_val_mse"),
        "pca_val_mse": metrics.get("pca_val_mse"),
        "probe_logreg": metrics.get("probe_logreg"),
        "pca_probe_logreg": metrics.get("pca_probe_logreg"),
        "latent_dim": metrics["latent_dim"],
        "steps": config["budget"]["steps"],
        "small_data": config["budget"]["small_data"],
        "train_seconds": timings["train_seconds"],
    }


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="lstm,conv1d")
    parser.add_argument("--inits", default="default,random", help="comma-separated: default, pca, random")
    parser.add_argument("--out", default=str(RESULTS / "larger.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data_args in make_sets(Path(tmp)).items():
            for model in args.models.split(","):
                for init in args.inits.split(","):
                    row = {"set": name, "model": model, **run_one(model, data_args, init, Path(tmp))}
                    rows.append(row)
                    print(f"{name:26s} {model:7s} {init:8s} ratio {row['ratio']:.3f} fallback {row['pca_fallback']} "
                          f"{row['train_seconds']:.1f}s", flush=True)  # fmt: skip
    out = Path(args.out)
    out.write_text(json.dumps({"machine": machine(), "seed": 42, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main_bench()
