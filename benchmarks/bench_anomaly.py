"""Issue 15: anomaly detection on labelled streams (TimeEval-GutenTAG), aelab's stream models beside the PCA
detector and the matrix profile, and the cost of scoring a 1,000,000-step stream.

Streams: `gutentag_streams.py` (24: 4 base oscillations x 5 anomaly kinds univariate, and 4 with 3 features; 10,000
normal training steps, 10,000 test steps with exactly one anomaly; fixed seeds), generated once with a Python that
has timeeval-gutentag (`--gutentag-python`, or $AELAB_GUTENTAG_PYTHON) and cached under $AELAB_CACHE.

Per stream, all at aelab's defaults and on the same window W (`--window auto`, found on the training stream):
- `aelab train lstm` (the default stream model) and `conv1d`, each with the test stream as `--test-data`:
  per-step scores and their metrics as metrics.json reports them, and PCA's (`pca_anomaly_*`) beside them;
- the matrix profile: `stumpy.stump(test, W, T_B=train, ignore_trivial=False)` per feature (each test window's
  distance to its nearest training window), the per-step score the mean over the windows covering the step (as
  aelab reduces), and for several features the maximum over features.
Metrics: AUROC, AUPRC, best F1 without point adjustment, UCR hit (the top step within the anomaly +-100 steps).

The long-stream check trains lstm on 10,000 steps of a noisy sine and scores 1,000 and 1,000,000 steps with
`aelab score`, each in a fresh process, recording seconds and peak RSS.

    .venv/bin/pip install stumpy   # benchmark-only (the `bench` extra)
    .venv/bin/python benchmarks/bench_anomaly.py --gutentag-python ~/.venvs/gutentag/bin/python
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, machine

from aelab.anomaly import anomaly_metrics
from aelab.cli import main
from aelab.data.streams import read_stream
from aelab.io import cache_dir

MODELS = ("lstm", "conv1d")
KEYS = ("anomaly_auroc", "anomaly_auprc", "anomaly_best_f1", "ucr_hit")


def streams_dir(gutentag_python: str | None) -> Path:
    """The cached streams, generated first when missing."""
    folder = cache_dir() / "gutentag-streams"
    if len(list(folder.glob("*/test.csv"))) >= 24:
        return folder
    if not gutentag_python:
        raise SystemExit(f"{folder}: no streams; pass --gutentag-python (a Python with timeeval-gutentag)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([gutentag_python, str(Path(__file__).parent / "gutentag_streams.py"), str(folder)], check=True)
    return folder


def matrix_profile_scores(train: np.ndarray, test: np.ndarray, window: int) -> np.ndarray:
    import stumpy

    per_feature = []
    for j in range(test.shape[1]):
        profile = stumpy.stump(test[:, j].astype(np.float64), window, T_B=train[:, j].astype(np.float64),
                               ignore_trivial=False)[:, 0].astype(np.float64)  # fmt: skip
        profile[~np.isfinite(profile)] = np.nanmax(profile[np.isfinite(profile)])  # flat windows
        per_feature.append(_spread(profile, window, len(test)))
    return np.max(per_feature, axis=0)


def _spread(window_scores: np.ndarray, window: int, n_steps: int) -> np.ndarray:
    """Per step, the mean score of the windows (one starting at every step) that cover it, as aelab reduces."""
    sums = np.convolve(window_scores, np.ones(window))[:n_steps]
    counts = np.convolve(np.ones(len(window_scores)), np.ones(window))[:n_steps]
    return sums / counts


def run_stream(folder: Path, work: Path) -> dict:
    row = {"stream": folder.name}
    train_csv, test_csv = folder / "train.csv", folder / "test.csv"
    for model in MODELS:
        out = work / f"{folder.name}-{model}"
        started = time.perf_counter()
        code = main(["train", model, "--data", str(train_csv), "--test-data", str(test_csv), "--window", "auto",
                     "--out", str(out), "--force"])  # fmt: skip
        assert code == 0, f"{folder.name} {model}: exit {code}"
        seconds = time.perf_counter() - started
        metrics = json.loads((out / "metrics.json").read_text())
        row[model] = {k: metrics[k] for k in KEYS} | {"seconds": seconds, "mse_vs_pca": metrics["mse_vs_pca"]}
        row["pca"] = {k: metrics["pca_" + k] for k in KEYS}
        data = json.loads((out / "config.json").read_text())["data"]
        row["window"], row["stride"] = data["window"], data["stride"]
    train, test = read_stream(train_csv), read_stream(test_csv)
    started = time.perf_counter()
    scores = matrix_profile_scores(train.values, test.values, row["window"])
    row["matrix_profile"] = {k: anomaly_metrics(scores, test.is_anomaly)[k] for k in KEYS}
    row["matrix_profile"]["seconds"] = time.perf_counter() - started
    print(json.dumps({k: v for k, v in row.items()}), flush=True)
    return row


def write_sine(path: Path, steps: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "value"])
        for start in range(0, steps, 100_000):
            t = np.arange(start, min(steps, start + 100_000))
            x = np.sin(2 * np.pi * t / 48) + 0.1 * rng.normal(size=len(t))
            writer.writerows(zip(t.tolist(), np.round(x, 5).tolist(), strict=True))
    return path


def long_stream(work: Path) -> dict:
    """Seconds and peak RSS of `aelab score` on 1,000 and 1,000,000 steps, each in a process of its own."""
    train = write_sine(work / "long-train.csv", 10_000, 0)
    run = work / "long-run"
    assert main(["train", "lstm", "--data", str(train), "--window", "auto", "--out", str(run), "--force"]) == 0
    result = {"window": json.loads((run / "config.json").read_text())["data"]["window"]}
    for steps in (1_000, 1_000_000):
        stream = write_sine(work / f"long-{steps}.csv", steps, 1)
        # peak RSS from /proc (VmHWM): getrusage's ru_maxrss survives exec and would report this parent's peak
        code = (
            "import time; from aelab.cli import main; t = time.perf_counter(); "
            f"assert main(['score', {str(run)!r}, {str(stream)!r}, '-o', {str(work / 'scores.csv')!r}]) == 0; "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            "print(time.perf_counter() - t, hwm)"
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        seconds, rss_kib = out.strip().splitlines()[-1].split()
        result[f"steps_{steps}"] = {"seconds": float(seconds), "peak_rss_mb": int(rss_kib) / 1024}
        print(steps, result[f"steps_{steps}"], flush=True)
    result["rss_growth_mb"] = result["steps_1000000"]["peak_rss_mb"] - result["steps_1000"]["peak_rss_mb"]
    return result


def summary(rows: list[dict]) -> dict:
    methods = (*MODELS, "pca", "matrix_profile")
    return {m: {k: statistics.mean(r[m][k] for r in rows) for k in KEYS} for m in methods}


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gutentag-python", default=os.environ.get("AELAB_GUTENTAG_PYTHON"))
    parser.add_argument("--only", default=None, help="comma-separated stream names")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--long-only", action="store_true", help="rerun the long-stream check into the results")
    args = parser.parse_args()
    if args.long_only:
        result = json.loads((RESULTS / "anomaly.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            result["long_stream"] = long_stream(Path(tmp))
        (RESULTS / "anomaly.json").write_text(json.dumps(result, indent=1) + "\n")
        return
    folders = sorted(p.parent for p in streams_dir(args.gutentag_python).glob("*/test.csv"))
    if args.only:
        folders = [f for f in folders if f.name in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_stream(folder, Path(tmp)) for folder in folders]
        long = None if args.skip_long else long_stream(Path(tmp))
    result = {"machine": machine(), "streams": rows, "mean": summary(rows), "long_stream": long}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "anomaly.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["mean"], indent=1))


if __name__ == "__main__":
    main_bench()
