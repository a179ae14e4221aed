"""How long should a stream's windows be? The PCA detector on noisy periodic streams, windows of 1, 2 and 4 periods.

`--window auto` cuts a stream into windows of one dominant period (whole periods of at least 16 steps). This
measures what longer windows would change, before any rule moves: sine streams of period 50 under Gaussian noise
(0.3, 0.6, 1.0 of the sine's amplitude; seeds 0-2; 10,000 training steps, 10,000 test steps) with four anomalies of
one length L (25, 50, 100 or 200 steps: a doubled frequency, a doubled amplitude, a level shift of 1.5, the sine
gone), scored by the PCA reconstruction-error detector that every stream run reports beside its model
(`pca_anomaly_*` in metrics.json, through `aelab train`), at W = 50, 100 and 200 steps (`results/window.json`).
With `--gutentag-python`, the same detector on the anomaly benchmark's 24 GutenTAG streams (`bench_anomaly.py`) at
1, 2 and 4 times the window `--window auto` finds (`results/window-gutentag.json`).

    .venv/bin/python benchmarks/bench_window.py [--gutentag-python ~/.venvs/gutentag/bin/python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from bench_anomaly import streams_dir
from common import write

from aelab.cli import main
from aelab.data.streams import auto_window, read_stream

PERIOD = 50
NOISES = (0.3, 0.6, 1.0)
SEEDS = (0, 1, 2)
ANOMALY_LENGTHS = (25, 50, 100, 200)
WINDOWS = (50, 100, 200)
STARTS = {"frequency": 12_000, "amplitude": 14_000, "level": 16_000, "flat": 18_000}


def stream(seed: int, noise: float, length: int) -> tuple[np.ndarray, np.ndarray]:
    rng, t = np.random.default_rng(seed), np.arange(20_000)
    x, labels = np.sin(2 * np.pi * t / PERIOD) + noise * rng.normal(size=t.size), np.zeros(t.size, int)
    for kind, start in STARTS.items():
        span = slice(start, start + length)
        if kind == "frequency":
            x[span] = np.sin(4 * np.pi * t[span] / PERIOD) + noise * rng.normal(size=length)
        elif kind == "amplitude":
            x[span] *= 2
        elif kind == "level":
            x[span] += 1.5
        else:
            x[span] = noise * rng.normal(size=length)
        labels[span] = 1
    return x, labels


def written(x: np.ndarray, labels: np.ndarray, work: Path) -> tuple[Path, Path]:
    """The first 10,000 steps as a training CSV, the rest with their labels as a test CSV."""
    train, test = work / "train.csv", work / "test.csv"
    train.write_text("v\n" + "\n".join(f"{v:.6f}" for v in x[:10_000]) + "\n")
    test.write_text(
        "v,is_anomaly\n" + "\n".join(f"{v:.6f},{a}" for v, a in zip(x[10_000:], labels[10_000:], strict=True)) + "\n"
    )
    return train, test


def pca_metrics(train: Path, test: Path, window: int, work: Path) -> dict:
    out = work / "run"
    argv = ["train", "lstm", "--data", str(train), "--test-data", str(test), "--window", str(window), "--init", "pca",
            "--epochs", "1", "--out", str(out), "--force"]  # fmt: skip
    if main(argv) != 0:
        raise SystemExit(f"failed: aelab {' '.join(argv)}")
    m = json.loads((out / "metrics.json").read_text())
    return {key: m[f"pca_anomaly_{key}"] for key in ("auroc", "auprc", "best_f1")}


def gutentag(python: str) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder in sorted(p for p in streams_dir(python).iterdir() if p.is_dir()):
            auto, _ = auto_window(read_stream(folder / "train.csv").values)
            row = {"stream": folder.name, "auto_window": auto}
            for times in (1, 2, 4):
                row[f"x{times}"] = pca_metrics(folder / "train.csv", folder / "test.csv", auto * times, Path(tmp))
            rows.append(row)
            print(row, flush=True)
    mean = {f"x{t}": {k: statistics.fmean(r[f"x{t}"][k] for r in rows) for k in ("auroc", "auprc")} for t in (1, 2, 4)}
    print(mean)
    write("window-gutentag", {"rows": rows, "mean": mean})


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gutentag-python", default=None)
    if (python := parser.parse_args().gutentag_python) is not None:
        return gutentag(python)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for noise in NOISES:
            for length in ANOMALY_LENGTHS:
                for seed in SEEDS:
                    train, test = written(*stream(seed, noise, length), Path(tmp))
                    for window in WINDOWS:
                        found = pca_metrics(train, test, window, Path(tmp))
                        rows.append({"noise": noise, "anomaly_length": length, "seed": seed, "window": window, **found})
    mean = {}
    for noise in NOISES:
        for length in ANOMALY_LENGTHS:
            for window in WINDOWS:
                same = [r for r in rows if (r["noise"], r["anomaly_length"], r["window"]) == (noise, length, window)]
                key = f"noise {noise}, anomaly {length} steps, window {window}"
                mean[key] = {k: statistics.fmean(r[k] for r in same) for k in ("auroc", "auprc", "best_f1")}
                print(key, {k: round(v, 3) for k, v in mean[key].items()}, flush=True)
    write("window", {"period": PERIOD, "rows": rows, "mean": mean})


if __name__ == "__main__":
    main_bench()
