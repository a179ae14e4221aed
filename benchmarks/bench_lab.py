"""Issue 5: wall time of `aelab lab` (no flags but the output folder) and whether every autoencoder beats PCA.

Run: python benchmarks/bench_lab.py [--preset best] [--out DIR]  ->  benchmarks/results/lab[-best].json
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import write


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="lab")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out or f"runs/bench-lab-{args.preset}")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "aelab", "lab", "--out", str(out), "--preset", args.preset, "--force"], check=True
    )
    seconds = time.perf_counter() - started
    rows = json.loads((out / "comparison.json").read_text())
    models = [r for r in rows if r["architecture"] != "PCA"]
    verdicts = {}
    for r in models:
        metrics = json.loads((out / r["model"] / "metrics.json").read_text())
        verdicts[r["model"]] = {
            "test_mse": metrics["test_mse"],
            "pca_test_mse": metrics["pca_test_mse"],
            "mse_vs_pca": metrics["mse_vs_pca"],
            "beats_pca": metrics["beats_pca"],
            "train_seconds": r["train_seconds"],
            "probe_logreg": metrics.get("probe_logreg"),
        }
    result = {
        "preset": args.preset,
        "wall_seconds": seconds,
        "limit_seconds": 631,
        "within_limit": seconds <= 631,
        "all_beat_pca": all(v["beats_pca"] for v in verdicts.values()),
        "models": verdicts,
    }
    print(json.dumps(result, indent=2))
    write("lab" if args.preset == "lab" else f"lab-{args.preset}", result)


if __name__ == "__main__":
    main()
