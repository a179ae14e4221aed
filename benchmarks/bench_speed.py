"""Issue 7's speed table: which execution settings make training fastest without costing quality.

Part 1, throughput (training samples/s over 30 steps after 3 warm-up steps, batch 64, 32x32x3 images) of `cnn`
and `cnn-seed` under fp32/bf16 autocast, contiguous/channels_last layouts, 1/2 threads and torch.compile.
Part 2, time to quality: the default `cnn` trained on the seed protocol in fp32 and in bf16 (both channels_last,
the trainer's layout for images), with the seconds until the test MSE first reaches the notebook's 0.0168.
Part 3, reading: in-memory tensors vs streamed batches (decoded from the JPEG folder) with 0, 1 and 2 loader
workers, one epoch of 8,000 images each.

Run: AELAB_CIFAR10=../shared/data/cifar10-jpeg python benchmarks/bench_speed.py  ->  results/speed.json
"""

from __future__ import annotations

import time

import torch
from common import time_to, timed_training, write

from aelab.data import load_dataset
from aelab.models import create_model
from aelab.train import iterate_batches

NOTEBOOK_MSE = 0.0168
BATCH, STEPS, WARMUP = 64, 30, 3


def throughput(model_name: str, precision: str, channels_last: bool, threads: int, compile_model: bool) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = create_model(model_name, channels=3, height=32, width=32)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    forward = torch.compile(model) if compile_model else model
    x = torch.rand((STEPS + WARMUP) * BATCH, 3, 32, 32)

    def step(i):
        xb = x[i * BATCH : (i + 1) * BATCH].contiguous(memory_format=layout)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = (forward(xb).float() - xb).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    started = time.perf_counter()
    for i in range(WARMUP):
        step(i)
    warmup = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(WARMUP, WARMUP + STEPS):
        step(i)
    rate = STEPS * BATCH / (time.perf_counter() - started)
    return {
        "model": model_name,
        "precision": precision,
        "channels_last": channels_last,
        "threads": threads,
        "compile": compile_model,
        "samples_per_s": rate,
        "warmup_seconds": warmup,
    }


def reading(dataset_memory, dataset_stream, workers: int | None) -> dict:
    """Seconds to iterate one epoch of training batches (no model), in memory or streamed."""
    source = torch.from_numpy(dataset_memory.train.x) if workers is None else dataset_stream.train.x
    batches = torch.randperm(len(source)).split(BATCH)
    started = time.perf_counter()
    n = sum(len(b) for b in iterate_batches(source, batches, workers or 0))
    seconds = time.perf_counter() - started
    return {"source": "in-memory" if workers is None else f"streamed, {workers} workers", "samples_per_s": n / seconds}


def main():
    settings = [
        ("cnn", "fp32", False, 2, False),
        ("cnn", "fp32", True, 2, False),
        ("cnn", "bf16", False, 2, False),
        ("cnn", "bf16", True, 2, False),
        ("cnn", "bf16", True, 1, False),
        ("cnn", "bf16", True, 2, True),
        ("cnn-seed", "fp32", False, 2, False),
        ("cnn-seed", "fp32", True, 2, False),
        ("cnn-seed", "bf16", True, 2, False),
    ]
    table = []
    for s in settings:
        table.append(throughput(*s))
        print(table[-1], flush=True)
    torch.set_num_threads(2)

    memory = load_dataset("cifar10", stream=False)
    stream = load_dataset("cifar10", stream=True)
    loading = [reading(memory, stream, w) for w in (None, 0, 1, 2)]
    print(loading, flush=True)

    quality = {}
    for precision in ("fp32", "bf16"):
        run = timed_training("cnn", memory, "lab", precision=precision, epochs=6)
        quality[precision] = {
            "seconds_to_0.0168": time_to(run["curve"], NOTEBOOK_MSE),
            "test_mse_after_6_epochs": run["curve"][-1]["test_mse"],
            "seconds_per_epoch": run["train_seconds"] / run["epochs"],
        }
        print(precision, quality[precision], flush=True)
    write("speed", {"throughput": table, "reading": loading, "time_to_quality": quality})


if __name__ == "__main__":
    main()
