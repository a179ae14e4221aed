"""Issue 14: every default model on data it was not tuned for, beside PCA of the same size.

Each set of ../shared/data/ucr-dev (`NAME_TRAIN_X.npy`, with labels where it has them): fit on TRAIN, report on
TEST (`--test-data`), z-scored with TRAIN statistics, PCA fitted on the same training rows; sequences at latent 20.
Also `digits` (cnn, latent 8), the lab's synthetic sequences (latent 20) and `synthetic-200`, the lab's generator
at another shape (1,000 sequences of 200 steps x 3 features, the lab's 64/16/20 split; latent 20) and `CBF`, the
UCR archive's Cylinder-Bell-Funnel generator at the archive's sizes (30 TRAIN, 900 TEST); `--cifar` adds the
CIFAR-10 seed protocol (cnn, latent 32; minutes per seed). Seeds 42, 43, 44: mean and spread. Everything runs
through `aelab train`, as a user would call it, so the numbers include the training budget, the default init (and a
random second start where the first did not move) and the augmentation each model chooses.

    .venv/bin/python benchmarks/bench_generalization.py [--models lstm,conv1d] [--inits default,pca,random]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from common import RESULTS, cli_train, machine

from aelab.data.sequences import synthetic

UCR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr-dev"
SEEDS = (42, 43, 44)


def ucr_sets() -> list[str]:
    arrays = [p.name[: -len("_TRAIN_X.npy")] for p in UCR.glob("*_TRAIN_X.npy")]
    return sorted(arrays + [p.name[: -len("_TRAIN.csv")] for p in UCR.glob("*_TRAIN.csv")])


def ucr_args(name: str) -> list[str]:
    """The TRAIN/TEST files of a set, with their labels where it has them (probes need labels; a CSV of
    sequences carries its own `label` column)."""
    if (UCR / f"{name}_TRAIN.csv").exists():
        return ["--data", str(UCR / f"{name}_TRAIN.csv"), "--test-data", str(UCR / f"{name}_TEST.csv")]
    args = ["--data", str(UCR / f"{name}_TRAIN_X.npy"), "--test-data", str(UCR / f"{name}_TEST_X.npy")]
    if (UCR / f"{name}_TRAIN_y.npy").exists():
        args += ["--labels", str(UCR / f"{name}_TRAIN_y.npy"), "--test-labels", str(UCR / f"{name}_TEST_y.npy")]
    return args


def cylinder_bell_funnel(n: int, rng: np.random.Generator, steps: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Saito's CBF, as the UCR archive's set was made: a plateau (cylinder), a rise (bell) or a fall (funnel) of
    height 6 + N(0, 1) from a ~ U{16..32} to b = a + U{32..96}, plus N(0, 1) noise per step; n/3 of each class."""
    y = np.arange(n) % 3
    t = np.arange(steps)
    x = rng.normal(size=(n, steps))
    for i in range(n):
        a = rng.integers(16, 33)
        b = a + rng.integers(32, 97)
        on = (t >= a) & (t <= b)
        shape = (np.ones(steps), (t - a) / (b - a), (b - t) / (b - a))[y[i]]
        x[i] += (6 + rng.normal()) * on * shape
    return x[:, :, None].astype(np.float32), y


def run_one(model: str, data_args: list[str], latent: int, seed: int, init: str, work: Path) -> dict:
    args = [*data_args, "--latent-dim", str(latent), "--seed", str(seed)]
    metrics, config, timings = cli_train(model, args, work / f"{model}-{seed}-{init}", init)
    return {
        "seed": seed,
        "test_mse": metrics["test_mse"],
        "pca_test_mse": metrics["pca_test_mse"],
        "ratio": metrics["mse_vs_pca"],
        "probe_logreg": metrics.get("probe_logreg"),
        "pca_probe_logreg": metrics.get("pca_probe_logreg"),
        "train_seconds": timings["train_seconds"],
        "epochs": config["train"]["epochs"],
        "best_epoch": metrics.get("best_epoch"),
        "init": config["model_config"].get("init", "random"),
        "augment": config["train"]["augment"],
        "random_start": metrics.get("random_start"),  # None: not tried (the first start moved, or was asked for)
    }


def summary(runs: list[dict]) -> dict:
    def stat(key):
        values = [r[key] for r in runs if r[key] is not None]
        if not values:
            return None
        return {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}

    return {k: stat(k) for k in ("ratio", "test_mse", "pca_test_mse", "probe_logreg", "pca_probe_logreg",
                                 "train_seconds")}  # fmt: skip


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="lstm,conv1d,cnn")
    parser.add_argument("--inits", default="default", help="comma-separated: default, pca, random")
    parser.add_argument(
        "--sets", default=None, help="comma-separated subset of the ucr-dev sets, digits, synthetic, synthetic-200, CBF"
    )
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--cifar", action="store_true", help="also the CIFAR-10 seed protocol (cnn, latent 32)")
    parser.add_argument("--out", default=str(RESULTS / "generalization.json"))
    args = parser.parse_args()
    models, inits = args.models.split(","), args.inits.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = [(name, "sequence", ucr_args(name), 20) for name in ucr_sets()]
    tasks += [("synthetic", "sequence", ["--data", "synthetic"], 20), ("digits", "image", ["--data", "digits"], 8)]
    tasks += [("synthetic-200", "sequence", None, 20), ("CBF", "sequence", None, 20)]  # written below, into tmp
    if args.cifar:
        tasks.append(("cifar10", "image", ["--data", "cifar10"], 32))
    if args.sets:
        keep = set(args.sets.split(","))
        tasks = [t for t in tasks if t[0] in keep]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        x, y, _ = synthetic(n=1000, steps=200, features=3)
        np.save(Path(tmp) / "synthetic-200.npy", x)
        np.save(Path(tmp) / "synthetic-200-labels.npy", y)
        other_shape = [
            "--data",
            str(Path(tmp) / "synthetic-200.npy"),
            "--labels",
            str(Path(tmp) / "synthetic-200-labels.npy"),
        ]
        rng = np.random.default_rng(0)
        for split, n in (("TRAIN", 30), ("TEST", 900)):
            x, y = cylinder_bell_funnel(n, rng)
            np.save(Path(tmp) / f"CBF_{split}_X.npy", x)
            np.save(Path(tmp) / f"CBF_{split}_y.npy", y)
        cbf = [f"{Path(tmp)}/CBF_{s}" for s in ("TRAIN_X.npy", "TEST_X.npy", "TRAIN_y.npy", "TEST_y.npy")]
        written = {
            "synthetic-200": other_shape,
            "CBF": ["--data", cbf[0], "--test-data", cbf[1], "--labels", cbf[2], "--test-labels", cbf[3]],
        }
        tasks = [(n, k, written[n] if a is None else a, d) for n, k, a, d in tasks]
        for name, kind, data_args, latent in tasks:
            for model in models:
                if (model == "cnn") != (kind == "image"):
                    continue
                for init in inits:
                    if model == "cnn" and init == "pca":
                        continue  # the cnn has no PCA start
                    runs = [run_one(model, data_args, latent, s, init, Path(tmp)) for s in seeds]
                    row = {"set": name, "model": model, "init": init, "latent_dim": latent, "runs": runs,
                           **summary(runs)}  # fmt: skip
                    rows.append(row)
                    r = row["ratio"]
                    print(f"{name:28s} {model:7s} {init:8s} ratio {r['mean']:.3f} [{r['min']:.3f}, {r['max']:.3f}] "
                          f"{row['train_seconds']['mean']:.1f}s", flush=True)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "seeds": seeds, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main_bench()
