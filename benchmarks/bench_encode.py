"""Issue 6: encoding throughput and memory with trained default models.

Measures `aelab encode` (as a user runs it, in a fresh process) on 10,000 CIFAR-10 test images (JPEG folder),
10,000 synthetic sequences, and a 1 GiB .npy of images (read in chunks), with each process's peak RSS beside
the RSS of a process that only loads the run (the baseline).

Run: python benchmarks/bench_encode.py IMAGE_RUN SEQUENCE_RUN  ->  benchmarks/results/encode.json
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import write

from aelab.data.sequences import synthetic

HERE = Path(__file__).resolve()
CIFAR = Path(os.environ.get("AELAB_CIFAR10") or HERE.parents[2] / "shared" / "data" / "cifar10-jpeg")
PEAK = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
)


def peak_rss_mb(*argv) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one fresh process."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, *map(str, argv)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024, time.perf_counter() - started


def encode(run, source, n, tmp) -> dict:
    rss, seconds = peak_rss_mb(sys.executable, "-m", "aelab", "encode", run, source, "-o", Path(tmp) / "codes.npy")
    return {"samples": n, "seconds": seconds, "samples_per_s": n / seconds, "peak_rss_mb": rss}


def main():
    image_run, sequence_run = sys.argv[1:3]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in (image_run, sequence_run):
            rss, _ = peak_rss_mb(sys.executable, "-c", f"import aelab; aelab.load_run({str(run)!r})")
            results[f"baseline_rss_mb {run}"] = rss
        results["cifar10 test folder (10,000 JPEGs)"] = encode(image_run, CIFAR / "test", 10_000, tmp)
        np.save(Path(tmp) / "seq.npy", synthetic(n=10_000, seed=7)[0])
        results["synthetic sequences (10,000)"] = encode(sequence_run, Path(tmp) / "seq.npy", 10_000, tmp)
        n_big = (1 << 30) // 3072 + 1  # just over 1 GiB of uint8 32x32x3 images, written in chunks
        big = np.lib.format.open_memmap(Path(tmp) / "big.npy", mode="w+", dtype=np.uint8, shape=(n_big, 32, 32, 3))
        rng = np.random.default_rng(0)
        for i in range(0, n_big, 50_000):
            big[i : i + 50_000] = rng.integers(0, 256, big[i : i + 50_000].shape, dtype=np.uint8)
        big.flush()
        del big
        result = encode(image_run, Path(tmp) / "big.npy", n_big, tmp)
        base = results[f"baseline_rss_mb {image_run}"]
        result.update(
            file_mb=n_big * 3072 / 2**20,
            baseline_rss_mb=base,
            within_baseline_plus_1gb=result["peak_rss_mb"] <= base + 1024,
        )
        results["1 GiB .npy of images, read in chunks"] = result
    for k, v in results.items():
        print(k, v)
    write("encode", {"runs": {"image": image_run, "sequence": sequence_run}, "results": results})


if __name__ == "__main__":
    main()
