"""Shared by the benchmark scripts: train a model the way `aelab train` does, recording test MSE per epoch."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from dataclasses import replace
from pathlib import Path

import torch

from aelab.cli import main
from aelab.data.augment import get_contrastive_view
from aelab.evaluate import evaluate_model
from aelab.experiment import build_model
from aelab.presets import train_config
from aelab.train import Trainer, evaluate_loss

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def cli_train(model: str, args: list[str], out: Path, init: str = "default") -> tuple[dict, dict, dict]:
    """`aelab train MODEL ARGS [--init INIT] --out OUT --force` in this process ("default": the model's own start);
    the run's metrics, config and timings."""
    argv = ["train", model, *args, *(["--init", init] if init != "default" else []), "--out", str(out), "--force"]
    if main(argv) != 0:
        raise SystemExit(f"failed: aelab {' '.join(argv)}")
    metrics, config, timings = (
        json.loads((out / f"{name}.json").read_text()) for name in ("metrics", "config", "timings")
    )
    return metrics, config, timings


def timed_training(name: str, dataset, preset: str = "lab", **overrides) -> dict:
    """Train `name` with its preset; return metrics, wall time and the (seconds, test MSE) curve."""
    started = time.perf_counter()
    latent_dim = overrides.pop("latent_dim", None)  # a model setting, not a training one
    cfg = train_config(name, preset, **overrides)
    built = build_model(name, dataset, latent_dim, preset, 42, None, cfg.augment)
    model, cfg = built.model, replace(cfg, augment=built.augmentation.name)
    x_train = torch.from_numpy(dataset.train.x)
    x_test = torch.from_numpy(dataset.test.x)
    init_seconds = time.perf_counter() - started
    curve = []

    def record(epoch, m, history):
        curve.append(
            {"epoch": epoch, "seconds": init_seconds + sum(history["seconds"]), "test_mse": evaluate_loss(m, x_test)[0]}
        )

    trainer = Trainer(model, cfg, progress=True)
    trainer.fit(
        x_train,
        torch.from_numpy(dataset.val.x),
        on_epoch_end=record,
        view=get_contrastive_view(dataset.kind) if cfg.contrastive else None,
        **built.fit_options(),
    )
    train_seconds = init_seconds + sum(trainer.history["seconds"])
    model.cpu().eval()
    metrics = evaluate_model(model, dataset, references=False).metrics
    return {
        "model": name,
        "preset": preset,
        "train_config": cfg.to_dict(),
        "train_seconds": train_seconds,
        "epochs": len(trainer.history["loss"]),
        "metrics": metrics,
        "curve": curve,
    }


def time_to(curve: list[dict], mse: float) -> float | None:
    """Seconds of training until the test MSE first reached `mse` (None: never)."""
    return next((p["seconds"] for p in curve if p["test_mse"] <= mse), None)


def write(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path.write_text(json.dumps({"machine": machine(), "peak_rss_mb": peak_mb, **payload}, indent=2) + "\n")
    print(f"wrote {path}")
    return path
