"""Issue 7: training memory in memory vs streamed, on the full CIFAR-10 protocol (45,000/5,000/10,000 images).

Each setting is a fresh `aelab train cnn` process (1 epoch, full protocol, data read from the JPEG folder);
peak RSS comes from the child's rusage. In memory the splits cost 60,000 x 3,072 float32 values (737 MB);
streamed, each batch is decoded by a loader worker and only codes and a few plotted samples are kept.

Run: AELAB_CIFAR10=../shared/data/cifar10-jpeg python benchmarks/bench_stream.py  ->  results/stream.json
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import write

FULL = ["--train-size", "all", "--test-size", "all", "--val-fraction", "0.1"]


def run(mode: str, data: str, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "aelab",
        "train",
        "cnn",
        "--data",
        data,
        *FULL,
        "--epochs",
        "1",
        f"--{mode}",
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    timings = json.loads((out / "timings.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "mode": mode,
        "wall_seconds": seconds,
        "train_seconds": timings["train_seconds"],
        "peak_rss_mb": max(peak, before) / 1024,
        "test_mse": metrics["test_mse"],
        "note": "peak RSS is the max over this and earlier children; streamed runs first",
    }


def main():
    data = os.environ.get("AELAB_CIFAR10", "../shared/data/cifar10-jpeg")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run(mode, data, Path(tmp) / mode) for mode in ("stream", "in-memory")]
    for r in runs:
        print(r)
    write("stream", {"data": data, "runs": runs})


if __name__ == "__main__":
    main()
