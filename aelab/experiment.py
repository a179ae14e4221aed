"""One training run end to end: data -> model -> trainer -> evaluation -> plots -> run directory.

Final artefacts are written to a staging folder inside the run directory and moved into place only when
all of them exist, so a failed or interrupted run leaves its checkpoint and nothing half-made.
"""

from __future__ import annotations

import copy
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from . import plots
from .data import DEFAULT_DATA, Dataset, DataSpec, file_notes, load_dataset
from .data.augment import (
    AUTO,
    AugmentationChoice,
    check_applies,
    choose_augmentation,
    get_augmentation,
    get_contrastive_view,
)
from .data.streams import step_record
from .distributed import barrier, is_main
from .errors import AelabError, ConfigError, TrainingDiverged
from .evaluate import MATCH_BAND, anchor_to_pca, augmented_codes_note, evaluate_model, pca_verdict
from .kinds import IMAGE, SEQUENCE, TABLE
from .models import Autoencoder, config_dict, create_model, model_class, shape_config
from .models.dense import default_table_latent
from .presets import default_init, model_settings, train_config, training_budget
from .run import CHECKPOINTS, prepare_out_dir, publish, run_config, write_run_files
from .stats import EXACT_MSE, clearly_better
from .summary import format_table
from .train import Trainer, per_sample_errors


def data_spec_for(model_name: str, data: str | None = None, **options) -> DataSpec:
    """The spec of `data`, or of the default data of the model's input kind when `data` is None."""
    kind = model_class(model_name).input_kind
    if data is None and options.get("window") is not None:
        raise ConfigError("data", "--window reads a stream; pass the stream's file with --data")
    if data is None and kind not in DEFAULT_DATA:
        raise ConfigError("data", f"model {model_name!r} takes {kind}s and has no default data; pass a file")
    return DataSpec(data or DEFAULT_DATA[kind], **options)


def load_data_for(model_name: str, spec: DataSpec) -> Dataset:
    kind = model_class(model_name).input_kind
    dataset = load_dataset(spec)
    if dataset.kind != kind:
        hint = ""
        if dataset.kind == TABLE and kind == SEQUENCE:
            stream = "one stream? pass --window W or --window auto to cut it into windows"
            if str(spec.data).lower().endswith(".npy"):
                hint = f" (sequences of one feature? save them as (N, T, 1): x[..., None]; {stream})"
            else:
                hint = f" (sequences? a CSV of them starts with the columns sequence_id,t; {stream})"
        elif dataset.stream is not None:
            hint = " (--window cuts a stream into sequence windows, for lstm or conv1d)"
        elif dataset.kind == SEQUENCE and kind == IMAGE and str(spec.data).lower().endswith(".npy"):
            hint = " (grayscale images (N, H, W)? an .npy of images is (N, H, W, C): save x[..., None])"
        raise AelabError(f"--data {spec.data}: holds {dataset.kind}s, but model {model_name!r} takes {kind}s{hint}")
    return dataset


def build_model(
    model_name: str,
    dataset: Dataset,
    latent_dim: int | None,
    preset: str,
    seed: int,
    init: str | None = None,
    augment: str = "none",
):
    """The model for `dataset`'s samples and its augmentation (see `new_model`)."""
    if latent_dim is None and dataset.stream is not None:
        latent_dim = stream_latent(*dataset.sample_shape)
    if latent_dim is None and dataset.categories:
        # A category of k values is k 0/1 features that sum to 1: k - 1 numbers. Counted as k, a table of 4 numbers
        # and two categories (3 and 2 values) got a code of 8 for its 7 numbers: every row, outliers too, came back
        # exactly and its scores were float noise; with 6, 30 planted outliers score at AUROC 0.68
        latent_dim = default_table_latent(dataset.sample_shape[0] - len(dataset.categories))
    return new_model(model_name, dataset.train.x, latent_dim, preset, seed, init, augment)


def stream_latent(window: int, n_features: int) -> int:
    """The default latent size for a stream's windows: at least 8x fewer numbers than a window holds (at most 20,
    the sequence default). A detector scores what its bottleneck cannot pass; with the sequence default of 20, a
    20-step window went through whole and PCA-20 scored the GutenTAG ecg-frequency stream at AUROC 0.25."""
    return max(2, min(20, window * n_features // 8))


class NewModel(NamedTuple):
    model: Autoencoder
    augmentation: AugmentationChoice
    pca_weights: dict | None  # an anchored model as the plain PCA, where it starts as the PCA of augmented data

    def fit_options(self) -> dict:
        """What `Trainer.fit` needs of how the model was built: the augmentation it trains with, the plain PCA it
        may return to, and whether its augmented start was confirmed."""
        return {
            "augment": get_augmentation(self.augmentation.name, self.model.input_kind),
            "pca_weights": self.pca_weights,
            "start_confirmed": self.augmentation.confirmed,
        }


def new_model(
    model_name: str,
    x_train,
    latent_dim: int | None,
    preset: str,
    seed: int,
    init: str | None = None,
    augment: str = "none",
) -> NewModel:
    """A model sized for the samples of `x_train`, initialised from `seed`, and the augmentation it trains with
    (`augment`, or for "auto" the one `choose_augmentation` finds for the data at the model's latent size); with
    init "pca" (a model's default or asked for), anchored to the PCA of `x_train` as it will be trained on, and
    when that is augmented, `pca_weights` hold the model as the plain PCA of `x_train` (`fit_options` passes all
    of it to `Trainer.fit`). The CLI and the estimator build models only here."""
    torch.manual_seed(seed)  # weight initialisation is part of the run's seed
    cls = model_class(model_name)
    shape = shape_config(cls.input_kind, tuple(x_train.shape[1:]))
    settings = model_settings(model_name, preset)
    settings["latent_dim"] = latent_dim if latent_dim is not None else cls.default_latent(tuple(x_train.shape[1:]))
    if init is not None:
        settings["init"] = init
    model = create_model(model_name, **shape, **cls.adapt(settings, shape))
    if augment == AUTO:
        augmentation = choose_augmentation(cls.input_kind, x_train, model.latent_dim, seed)
    else:
        augmentation = AugmentationChoice(augment, "as set")
    transform = get_augmentation(augmentation.name, cls.input_kind)
    pca_weights = None
    if transform is not None and getattr(model, "pca_path", None) is not None:
        anchor_to_pca(model, x_train, seed)
        pca_weights = copy.deepcopy(model.state_dict())
    anchor_to_pca(model, x_train, seed, augmentation.name if transform is not None else None)
    return NewModel(model, augmentation, pca_weights)


# metrics.json keys about how the run trained, which `aelab evaluate` carries over rather than recomputes
TRAINING_METRICS = (
    "epochs",
    "best_epoch",
    "pca_fallback",
    "trained_val_mse",
    "pca_val_mse",
    "random_start",
    "random_start_val_mse",
    "anchored_val_mse",
)
RANDOM_START_CHECKPOINT = "random-start.pt"  # beside last.pt: the second start of `random_start_unless_beaten`
SECOND_START = "training did not move the model from its PCA start; training it again from random weights, same budget"


class PCAFallback(NamedTuple):
    model: Autoencoder  # the trained model's architecture anchored to the training split's PCA: it *is* that PCA
    val_mse: float  # the trained model's validation MSE
    pca_val_mse: float


def pca_unless_beaten(
    model_name: str, model: Autoencoder, x_train, x_val, preset: str, seed: int
) -> PCAFallback | None:
    """For a model trained from random weights: the same architecture anchored to the PCA of `x_train` when the
    trained model does not clearly beat that PCA on `x_val` (`aelab.stats.clearly_better`, as an anchored model
    must beat its start), else None.

    Small data starts from PCA and keeps it unless training beats it (`default_init`); from a random start on
    thousands of samples a model can end far behind: measured, the default lstm at 30x PCA-20's test MSE on 3,601
    sine-and-drift sequences of 500 steps (still improving when its 1,022 steps ran out; anchored it stays at PCA)
    and 18x on 8,926 of 96 steps, conv1d 1.3-1.4x on both. Returning to PCA makes "never worse than PCA" hold for
    every default run; the run says so, and --init random keeps the trained model."""
    cls = model_class(model_name)
    if cls.seed_replica or not cls.can_start_from_pca() or getattr(model.config, "init", None) != "random":
        return None
    if len(x_val) < 2:  # nothing to judge by
        return None
    twin = new_model(model_name, x_train, model.latent_dim, preset, seed, init="pca").model.eval()
    errors, pca_errors = per_sample_errors(model, as_source(x_val)), per_sample_errors(twin, as_source(x_val))
    if clearly_better(errors, pca_errors):
        return None
    return PCAFallback(twin, float(errors.mean()), float(pca_errors.mean()))


class RandomStart(NamedTuple):
    built: NewModel  # the model trained from random weights, on the same budget and augmentation
    history: dict
    best_epoch: int
    val_mse: float | None  # its validation MSE (None: its training diverged)
    anchored_val_mse: float  # the anchored model's, which kept its PCA start
    kept: bool  # clearly better on validation: it replaces the anchored model


def random_start_unless_beaten(
    model_name: str, anchored: Autoencoder, x_train, x_val, preset: str, seed: int, augment: str, fit
) -> RandomStart | None:
    """For a default run anchored to PCA whose training never beat its start (best epoch 0): the same model
    trained from random weights (as `--init random` trains it) by `fit(built) -> (history, best_epoch)`, kept
    where it clearly beats the anchored model on `x_val` (`aelab.stats.clearly_better`), else None where no such
    start exists.

    The anchored model's linear path begins at PCA's training error, which on data with fewer samples than values
    is already below what a model that generalises reaches, and its non-linear branches then fit the residual's
    noise: on the lab's generator at 800 training sequences of 200 steps x 3 features the anchored lstm and conv1d
    stayed at PCA-20's test error (1.000x, seeds 42-44) while from random weights they reached 0.835x and 0.818x
    (benchmarks/results/random-start.json). On the small UCR sets the anchored start is the better one, so both are
    tried, at twice the training time where the first did not move; not where the anchored model is exact."""
    cls = model_class(model_name)
    if cls.seed_replica or getattr(anchored.config, "init", None) != "pca" or len(x_val) < 2:
        return None
    anchored_errors = per_sample_errors(anchored, as_source(x_val))
    if anchored_errors.mean() < EXACT_MSE:  # exact to float precision: no start can beat it
        return None
    built = new_model(model_name, x_train, anchored.latent_dim, preset, seed, init="random", augment=augment)
    try:
        history, best_epoch = fit(built)
    except TrainingDiverged:  # the second start is a chance, not a requirement: the anchored model stands
        return RandomStart(built, {}, 0, None, float(anchored_errors.mean()), False)
    errors = per_sample_errors(built.model, as_source(x_val))
    kept = clearly_better(errors, anchored_errors)
    return RandomStart(built, history, best_epoch, float(errors.mean()), float(anchored_errors.mean()), kept)


def train_on(
    dataset: Dataset,
    out,
    model_name: str,
    *,
    latent_dim: int | None = None,
    preset: str = "lab",
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    weight_decay: float | None = None,
    precision: str | None = None,
    contrastive: float | None = None,
    init: str | None = None,
    augment: str | None = None,
    seed: int = 42,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    echo: Callable[[str], None] = print,
) -> dict:
    """Train `model_name` on `dataset` into run directory `out`; return its metrics."""
    out = Path(out)
    main = is_main()
    if not main:
        echo = _silent
    cfg = train_config(
        model_name,
        preset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        precision=precision,
        contrastive=contrastive,
        augment=augment,
        seed=seed,
    )
    check_applies(cfg.augment, dataset.kind)
    n_train = len(dataset.train.x)
    if batch_size is not None and batch_size > n_train:
        raise AelabError(f"--batch-size: {batch_size} exceeds the {n_train} training samples")
    view = get_contrastive_view(dataset.kind) if cfg.contrastive else None
    cfg, budget = training_budget(model_name, cfg, n_train, epochs_given=epochs is not None)
    if dataset.stream is not None and cfg.augment == AUTO:  # a stream's windows already start every `stride` steps
        cfg = replace(cfg, augment="none")
    init_given = init is not None
    init = init or default_init(model_name, budget)
    built = build_model(model_name, dataset, latent_dim, preset, seed, init, cfg.augment)
    model, augmentation = built.model, built.augmentation
    chose_augmentation, cfg = cfg.augment == AUTO, replace(cfg, augment=augmentation.name)
    if main:
        prepare_out_dir(out, force=force, resume=resume)
    barrier()
    echo(format_table(model))
    if dataset.stream is not None:
        spec = dataset.spec
        echo(f"stream: windows of {spec.window} steps ({spec.window_rule or 'given'}), stride {spec.stride}")
    for note in (*file_notes(dataset.spec.data), *dataset.notes):
        echo(note)
    echo(budget.describe())
    if chose_augmentation:
        echo(augmentation.describe())

    checkpoint = out / CHECKPOINTS / "last.pt"
    if resume and not checkpoint.exists():
        raise AelabError(f"--resume: {checkpoint} does not exist; start without --resume")
    started = time.perf_counter()

    def fit(this: NewModel, checkpoint: Path, say: str | None = None) -> tuple[dict, int]:
        if say:
            echo(say)
        identity = {
            "model": model_name,
            **{f"model.{k}": v for k, v in config_dict(this.model.config).items()},
            **{f"data.{k}": v for k, v in dataset.spec.to_dict().items()},
        }
        trainer = Trainer(this.model, cfg, checkpoint=checkpoint, progress=progress, workers=workers, identity=identity)
        train, val = as_source(dataset.train.x), as_source(dataset.val.x)
        history = trainer.fit(train, val, resume=resume, view=view, **this.fit_options())
        this.model.cpu().eval()
        return history, trainer.best_epoch

    history, best_epoch = fit(built, checkpoint)
    second = None
    if not init_given and best_epoch == 0:  # a default PCA start that training did not move: try a random one
        second = random_start_unless_beaten(
            model_name, model, dataset.train.x, dataset.val.x, preset, seed, augmentation.name,
            lambda other: fit(other, out / CHECKPOINTS / RANDOM_START_CHECKPOINT, SECOND_START),
        )  # fmt: skip
    if second is not None and second.kept:
        model, history, best_epoch = second.built.model, second.history, second.best_epoch
    train_seconds = time.perf_counter() - started
    if not main:  # rank 0 evaluates and writes; the other ranks are done
        return {}
    fallback = None
    if not init_given:  # a default start ends no worse than PCA; an asked-for one is kept as trained
        fallback = pca_unless_beaten(model_name, model, dataset.train.x, dataset.val.x, preset, seed)
    if fallback is not None:
        model, best_epoch = fallback.model, 0

    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    try:
        evaluation = evaluate_model(model, dataset, seed=seed)
        metrics = {**evaluation.metrics, "epochs": len(history["loss"]), "best_epoch": best_epoch}
        if second is not None:
            metrics.update(
                random_start_val_mse=second.val_mse, anchored_val_mse=second.anchored_val_mse, random_start=second.kept
            )
        if fallback is not None:
            metrics.update(pca_fallback=True, trained_val_mse=fallback.val_mse, pca_val_mse=fallback.pca_val_mse)
        _draw(staging, model_name, dataset, history, evaluation, seed)
        timings = {
            "train_seconds": train_seconds,
            "eval_seconds": time.perf_counter() - started,
            "pca_fit_seconds": evaluation.pca_fit_seconds,
        }
        config = run_config(
            model,
            train=cfg.to_dict(),
            budget=budget.to_dict(),
            preset=preset,
            data=dataset.spec,
            normalization=dataset.normalization,
            class_names=dataset.class_names,
            feature_names=dataset.feature_names,
            categories=dataset.categories,
            stream_step=None if dataset.stream is None else step_record(dataset.stream.train),
        )
        write_run_files(
            staging, config, model, history, metrics, timings, evaluation.val_errors, evaluation.train_errors
        )
        publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    echo(summary_line(model_name, metrics, train_seconds, getattr(model.config, "init", None), cfg.augment))
    if note := augmented_codes_note(metrics, cfg.augment):
        echo(f"{model_name}: {note}")
    if note := dataset.probe_note():
        echo(note)
    return metrics


def as_source(x):
    """In-memory splits train as tensors; streamed ones (aelab.data.lazy) are read batch by batch."""
    return torch.from_numpy(x) if isinstance(x, np.ndarray) else x


def _silent(_msg: str) -> None:
    pass


def _draw(staging: Path, name: str, dataset: Dataset, history: dict, ev, seed: int) -> None:
    plots.history(history, staging / "plots" / "history.png", name)
    draw = {IMAGE: plots.image_reconstructions, SEQUENCE: plots.sequence_reconstructions}.get(
        dataset.kind, plots.table_reconstructions
    )
    draw(
        ev.shown, ev.shown_reconstruction, ev.shown_pca_reconstruction, staging / "plots" / "reconstructions.png", name
    )
    plots.latent_space(ev.test_codes, dataset.test.y, dataset.class_names, staging / "plots" / "latent.png", name, seed)


def summary_line(name: str, m: dict, seconds: float, init: str | None = None, augment: str = "none") -> str:
    line = (
        f"{name}: test MSE {m['test_mse']:.5g} vs PCA-{m['latent_dim']} {m['pca_test_mse']:.5g}: "
        f"{pca_verdict(m['test_mse'], m['pca_test_mse'])}; "
        f"trained {m['epochs']} epoch{'s' * (m['epochs'] != 1)} in {seconds:.0f}s"
    )
    if init == "pca" and augment != "none" and m.get("best_epoch") == 0 and abs(m["mse_vs_pca"] - 1) > MATCH_BAND:
        # the gain, or loss, is that of the start: a PCA of augmented data, which training did not clearly beat
        line += f" (kept its start, PCA fitted to the training data with {augment}; training did not clearly beat it)"
    tried_both = m.get("random_start") is not None
    if m["mse_vs_pca"] > 1 + MATCH_BAND and m["pca_test_mse"] >= EXACT_MSE and init == "random" and not tried_both:
        line += " (--init pca starts from PCA's solution and keeps it unless training improves on it)"
    if tried_both:  # training did not move the PCA start, so a random one was tried
        random_val = m["random_start_val_mse"]
        reached = "diverged" if random_val is None else f"{random_val:.5g} validation MSE"
        tried = f"from random weights {reached}, from PCA {m['anchored_val_mse']:.5g}"
        line += f" ({tried}: {'the random start is kept' if m['random_start'] else 'PCA start kept'})"
    if m.get("pca_fallback"):
        line += (
            f" (from random weights it reached {m['trained_val_mse']:.5g} validation MSE, PCA {m['pca_val_mse']:.5g}:"
            " not clearly better, so the run keeps PCA's solution; --init random keeps the trained model)"
        )
    if "probe_logreg" in m:
        line += f"; logistic probe {m['probe_logreg']:.1%} (PCA {m['pca_probe_logreg']:.1%})"
    if "anomaly_auroc" in m:  # a labelled test stream's steps, or a table's rows flagged by is_anomaly
        line += f"; anomaly AUROC {m['anomaly_auroc']:.3f} (PCA {m['pca_anomaly_auroc']:.3f})"
    return line


def train(model_name: str, out, spec: DataSpec, **train_args) -> dict:
    """Load `spec` for `model_name` and train it into run directory `out`."""
    return train_on(load_data_for(model_name, spec), out, model_name, seed=spec.seed, **train_args)
