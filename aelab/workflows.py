"""Multi-run workflows on top of `experiment`: re-evaluation, latent-size sweeps, and the whole lab."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import plots
from .data import NAMED_DATA, DataSpec, load_dataset, with_test_file
from .data.spec import TEST_LABELS_ALONE
from .errors import AelabError, ConfigError
from .evaluate import ErrorSums, PCABaseline, evaluate_model, pca_standing, row_batches
from .experiment import TRAINING_METRICS, data_spec_for, load_data_for, train_on
from .io import read_json, write_json
from .kinds import IMAGE
from .report import sweep_curves
from .run import check_out_dir, load_run, prepare_out_dir

LAB_MODELS = ("cnn", "lstm", "conv1d")
SEED_MODELS = ("cnn-seed", "lstm-seed")
SWEEP_MODELS = ("cnn", "lstm")
SWEEP_DIMS = (4, 8, 16, 32, 64)
PCA_CURVE_DIMS = (2, 4, 8, 16, 20, 32, 64, 128)


def parse_latent_dims(text: str) -> list[int]:
    try:
        dims = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise AelabError(f"--latent-dims: expected comma-separated integers, got {text!r}") from None
    if not dims or min(dims) <= 0:
        raise AelabError(f"--latent-dims: expected positive integers, got {text!r}")
    return sorted(set(dims))


def evaluate_run(
    run_dir,
    data: str | None = None,
    cifar10=None,
    labels=None,
    test_data=None,
    test_labels=None,
    echo: Callable[[str], None] = print,
) -> dict:
    """Recompute a run's metrics on its own test split (rebuilt from config.json), on `data` (a whole new data
    set), or on `test_data` (the whole file is the test set; training split, PCA and probes stay the run's)."""
    if test_labels is not None and test_data is None:
        raise ConfigError("test_labels", TEST_LABELS_ALONE)
    run = load_run(run_dir)
    if run.config.get("data") is None:  # an estimator's save: fitted on arrays, kept neither them nor metrics
        raise AelabError(
            f"{run_dir}: saved by an aelab estimator, which keeps no data spec or metrics to recompute; `aelab "
            "evaluate` takes `aelab train` runs (the estimator's own `score(X)` rates new data)"
        )
    spec = DataSpec.from_dict(run.config["data"], cifar10=cifar10)
    if labels:
        spec = spec.replace(labels=labels)
    if data is not None:
        spec = spec.replace(data=data, train_size=None, test_size=None, labels=labels, test_data=None, test_labels=None)
    elif spec.data not in NAMED_DATA and not Path(spec.data).exists():
        # a path as given when it trained, from another folder, or data moved since
        raise AelabError(
            f"{run_dir}: its data {spec.data} is not there (from {Path.cwd()}); run from the folder it trained in, "
            "or pass --data PATH"
        )
    dataset = load_dataset(spec, normalization=run.normalization)
    if test_data is not None:
        dataset = with_test_file(dataset, test_data, test_labels)
    for note in dataset.notes:
        echo(note)
    if note := dataset.probe_note():
        echo(note)
    if dataset.kind != run.input_kind or dataset.sample_shape != run.model.input_shape:
        raise AelabError(
            f"--data {spec.data}: samples {dataset.sample_shape} do not fit the model's input {run.model.input_shape}"
        )
    started = time.perf_counter()
    evaluation = evaluate_model(run.model, dataset, seed=spec.seed, references=False)  # the run keeps its own
    previous = run.metrics()
    metrics = {**evaluation.metrics, **{k: previous[k] for k in TRAINING_METRICS if k in previous}}
    if data is not None or test_data is not None:
        metrics["evaluated_on"] = str(test_data or data)
    write_json(run.path / "metrics.json", metrics)
    timings_path = run.path / "timings.json"
    timings = read_json(timings_path) if timings_path.exists() else {}
    write_json(timings_path, {**timings, "eval_seconds": time.perf_counter() - started})
    return metrics


def run_sweep(
    model: str,
    latent_dims,
    out,
    spec: DataSpec | None = None,
    *,
    force=False,
    dataset=None,
    echo: Callable[[str], None] = print,
    **train_args,
) -> list[dict]:
    """Train `model` once per latent size into out/latent-<d>/ and collect the curve in out/sweep.json.
    The data is `dataset` when given (the lab shares one), else loaded from `spec` (default: the model's);
    `train_args` (preset, epochs, lr, init, augment, ...) go to every run as `train_on` takes them."""
    out = Path(out)
    check_out_dir(out, force=force, resume=False)
    if dataset is None:
        dataset = load_data_for(model, spec or data_spec_for(model))
    prepare_out_dir(out, force=force, resume=False)  # once the data is read: bad data leaves the old sweep whole
    values = math.prod(dataset.train.x.shape[1:])
    too_large = [d for d in latent_dims if d > values]
    if too_large:  # before any training, not after the sizes that fit
        raise AelabError(f"--latent-dims: {', '.join(map(str, too_large))} exceed the {values} values per sample")
    seed = dataset.spec.seed
    rows = []
    for d in latent_dims:
        echo(f"--- sweep {model}: latent {d} ---")
        m = train_on(
            dataset,
            out / f"latent-{d}",
            model,
            latent_dim=d,
            seed=seed,
            force=force,
            echo=echo,
            **train_args,
        )
        timings = read_json(out / f"latent-{d}" / "timings.json")
        rows.append(
            {
                "latent_dim": d,
                "test_mse": m["test_mse"],
                "pca_test_mse": m["pca_test_mse"],
                "mse_vs_pca": m["mse_vs_pca"],  # evaluate_model's ratio, which minds a PCA error of 0
                "probe_logreg": m.get("probe_logreg"),
                "train_seconds": timings["train_seconds"],
            }
        )
    sweep = {"model": model, "dataset": dataset.spec.data, "rows": rows}
    write_json(out / "sweep.json", sweep)
    plots.rate_distortion(sweep_curves(sweep), out / "rate_distortion.png")
    echo(f"sweep {model} on {dataset.spec.data}:")
    echo(f"{'latent':>6}  {'test MSE':>10}  {'PCA MSE':>10}  {'vs PCA':>6}  {'probe':>6}  {'seconds':>7}")
    for r in rows:
        probe = "-" if r["probe_logreg"] is None else f"{r['probe_logreg']:.1%}"
        # both below float noise: a ratio of two noise figures (0.957x) would read as a win
        exact = pca_standing(r["test_mse"], r["pca_test_mse"]) == "exact"
        ratio = "exact" if exact else f"{r['mse_vs_pca']:.3f}x"
        echo(
            f"{r['latent_dim']:>6}  {r['test_mse']:>10.5g}  {r['pca_test_mse']:>10.5g}  "
            f"{ratio:>6}  {probe:>6}  {r['train_seconds']:>7.0f}"
        )
    echo(f"sweep written to {out} (sweep.json, rate_distortion.png)")
    return rows


def pca_curve(dataset, dims=PCA_CURVE_DIMS, seed: int = 42) -> dict:
    """PCA's test MSE at several latent sizes from one fit: the leading k axes are PCA with k components."""
    x_train, x_test = dataset.train.x, dataset.test.x
    input_dim = math.prod(x_test.shape[1:])
    dims = [d for d in dims if d <= min(input_dim, len(x_train))]
    clip = (0.0, 1.0) if dataset.kind == IMAGE else None
    pca = PCABaseline(max(dims), clip=clip, seed=seed).fit(x_train).pca_
    errors = [ErrorSums() for _ in dims]
    for xb in row_batches(x_test):
        flat = xb.reshape(len(xb), -1)
        centred = flat - pca.mean_
        for d, error in zip(dims, errors, strict=False):
            axes = pca.components_[:d]
            x_hat = centred @ axes.T @ axes + pca.mean_
            error.add(flat, np.clip(x_hat, *clip) if clip else x_hat)
    mses = [error.metrics(peak=1.0)["mse"] for error in errors]
    return {"dataset": dataset.spec.data, "latent_dims": dims, "test_mse": mses}


def run_lab(
    out,
    *,
    preset="lab",
    with_seed_models=False,
    with_sweep=False,
    cifar10=None,
    force=False,
    train_size=None,
    test_size=None,
    epochs=None,
    echo: Callable[[str], None] = print,
) -> None:
    """cnn on CIFAR-10, lstm and conv1d on the synthetic sequences (seed protocols unless sizes are given),
    then the comparison and the report. Sizes and epochs, when given, apply to every model (quick runs)."""
    from .report import render_lab

    out = Path(out)
    check_out_dir(out, force=force, resume=False)
    images = load_data_for("cnn", data_spec_for("cnn", cifar10=cifar10, train_size=train_size, test_size=test_size))
    sequences = load_data_for("lstm", data_spec_for("lstm", train_size=train_size, test_size=test_size))
    prepare_out_dir(out, force=force, resume=False)
    plan = [("cnn", images), ("lstm", sequences), ("conv1d", sequences)]
    if with_seed_models:
        plan += [("cnn-seed", images), ("lstm-seed", sequences)]
    for step, (model, dataset) in enumerate(plan, start=1):
        echo(f"=== [{step}/{len(plan)}] {model} on {dataset.spec.data} ===")
        train_on(dataset, out / model, model, preset=preset, epochs=epochs, force=True, echo=echo)
    write_json(out / "pca_curves.json", {"cifar10": pca_curve(images), "synthetic": pca_curve(sequences)})
    if with_sweep:
        for model in SWEEP_MODELS:
            dataset = images if model == "cnn" else sequences
            run_sweep(
                model,
                SWEEP_DIMS,
                out / f"sweep-{model}",
                preset=preset,
                epochs=epochs,
                force=True,
                dataset=dataset,
                echo=echo,
            )
    render_lab(out)
