"""One generic trainer for every autoencoder. It needs a module with `forward` (the reconstruction) and, for the
optional contrastive term, `encode` and `decode`; the loss belongs to the `Objective`, not to the loop.

Adam, an optional learning-rate schedule, gradient clipping, an optional contrastive term (InfoNCE between the
codes of two views of each sample, for features that probe better), early stopping on the validation loss with the
best weights restored, a checkpoint after every epoch (atomic; loads with `torch.load(weights_only=True)`),
and a stop with a clear error when the loss stops being finite.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data.augment import AUGMENTATIONS, AUTO
from .data.spec import check_seed
from .distributed import all_sum, is_main, rank_and_world
from .errors import AelabError, ConfigError, TrainingDiverged
from .io import atomic_path
from .padding import model_input
from .stats import EXACT_MSE, clearly_better

SCHEDULES = ("none", "onecycle", "cosine")
PRECISIONS = ("fp32", "bf16")
CHECKPOINT_SHARE = 0.05  # checkpoints may take at most this share of the training time
LOG_LINES = 50  # at most about this many epoch lines in a log (where no live progress bar is drawn)
LONG_RUN_SECONDS = 600  # a log says how long the rest of a run takes when it is longer than this
CONTRASTIVE_TEMPERATURE = 0.2  # SimCLR's range for small batches; codes are compared by cosine similarity


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "none"
    patience: int | None = None  # epochs without val improvement before stopping; None: never stop early
    clip_grad_norm: float | None = None
    precision: str = "fp32"  # "bf16": autocast the forward pass (CPU and CUDA); weights and optimiser stay fp32
    augment: str = "none"  # a name from aelab.data.augment.AUGMENTATIONS, or "auto": chosen from the data before `fit`
    contrastive: float = 0.0  # weight of an InfoNCE term on the codes of two views (`fit(view=...)`); 0: off
    trim: float = 0.0  # share of each batch's worst-reconstructed samples left out of the loss (outlier detection)
    seed: int = 42

    def __post_init__(self):
        object.__setattr__(self, "seed", check_seed(self.seed))  # frozen
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # NumPy's integers (a grid search's) as ints
        for name in ("lr", "weight_decay", "contrastive", "trim", "clip_grad_norm"):  # '0.01' stopped in a comparison
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                if not (name == "clip_grad_norm" and value is None):
                    raise ConfigError(name, f"must be a number, got {value!r}")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ConfigError("lr", f"must be positive, got {self.lr}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ConfigError("weight_decay", f"must be 0 or more, got {self.weight_decay}")
        if not self.contrastive >= 0:
            raise ConfigError("contrastive", f"must be 0 or more, got {self.contrastive}")
        if not 0 <= self.trim <= 0.5:
            raise ConfigError("trim", f"must lie in [0, 0.5], got {self.trim}")
        if self.patience is not None and not (isinstance(self.patience, int) and self.patience > 0):
            raise ConfigError("patience", f"must be a positive integer or None, got {self.patience!r}")
        if self.clip_grad_norm is not None and not self.clip_grad_norm > 0:
            raise ConfigError("clip_grad_norm", f"must be positive or None, got {self.clip_grad_norm}")
        for name, choices in (("schedule", SCHEDULES), ("precision", PRECISIONS), ("augment", (*AUGMENTATIONS, AUTO))):
            if getattr(self, name) not in choices:
                raise ConfigError(name, f"unknown {name} {getattr(self, name)!r}; choose from {', '.join(choices)}")

    def to_dict(self):
        return asdict(self)


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return order.split(batch_size)


class _BatchReader(torch.utils.data.Dataset):
    """Batch i of a data source that lives on disk (e.g. `aelab.data.lazy.LazyImages`), for a DataLoader."""

    def __init__(self, source, batches):
        self.source, self.batches = source, batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        return torch.from_numpy(np.ascontiguousarray(self.source[self.batches[i].numpy()]))


def _one_thread(_worker_id):
    torch.set_num_threads(1)  # loader workers decode; the main process keeps the cores for compute


def default_workers() -> int:
    """Background readers for streamed data: none on <= 2 cores, where a reader competes with the two compute
    threads (measured: a 45,000-image epoch took 111 s with one reader vs 68 s in memory) and reading in the
    training process costs less; otherwise a quarter of the cores, at most 4."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores // 4)


def iterate_batches(x, batches, workers: int = 0):
    """Yield x[idx] for each index tensor in `batches`: sliced from a tensor, or read by `workers` background
    processes from any source that NumPy-indexes (a streamed split), so reading overlaps training."""
    if isinstance(x, torch.Tensor):
        yield from (x[idx] for idx in batches)
        return
    yield from torch.utils.data.DataLoader(
        _BatchReader(x, batches),
        batch_size=None,
        num_workers=workers,
        worker_init_fn=_one_thread if workers else None,
        prefetch_factor=4 if workers else None,
    )


def all_finite(loss: torch.Tensor) -> bool:
    """Whether the loss is finite on every rank: all ranks must stop together or none may."""
    finite = all_sum([float(torch.isfinite(loss))], loss.device)[0]
    return finite == rank_and_world()[1]


def info_nce(z: torch.Tensor, z_view: torch.Tensor, temperature: float = CONTRASTIVE_TEMPERATURE) -> torch.Tensor:
    """NT-Xent: each code must pick its own view's code out of the 2B - 1 others in the batch. (B, D) x 2 -> ()."""
    codes = F.normalize(torch.cat([z, z_view]).float(), dim=1)
    similarity = codes @ codes.T / temperature
    similarity.fill_diagonal_(float("-inf"))  # a code is not its own positive
    n = len(z)
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, positives)


@contextmanager
def _running_stats_frozen(model: nn.Module):
    """Batch norm still normalises a batch with its own statistics, but its running statistics (what eval mode
    uses) are left as they were: the altered views of the contrastive term must not stand in for the data.
    Without this the view pass, run last, set them; on the full protocol validation MSE rose from 0.0143 to
    0.0206 over 15 epochs while training MSE fell to 0.0121."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, count) in zip(norms, saved, strict=False):
            m.momentum = momentum
            m.num_batches_tracked.copy_(count)


def trimmed_mean(per_sample: torch.Tensor, trim: float) -> torch.Tensor:
    """The mean of the smallest (1 - trim) share of per-sample errors (at least one): the trimmed loss."""
    keep = max(1, math.ceil((1 - trim) * len(per_sample)))
    return per_sample.topk(keep, largest=False).values.mean()


def sample_mse(diff: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """Each sample's mean squared difference over its real values (all of them when `real` is None; `diff` is zero
    at padded ones, see `aelab.padding`)."""
    if real is None:
        return diff.pow(2).flatten(1).mean(1)
    return diff.pow(2).flatten(1).sum(1) / real.flatten(1).sum(1)


class Objective(nn.Module):
    """One training step's forward pass and its loss, as one module so that DDP sees every use of the parameters.

    Returns `(total, parts)`: the loss to minimise, and its named terms for the history (`loss`, the reconstruction
    MSE, reported as such with or without extra terms; `mae`; `contrastive` when a view batch is given). The model
    runs under autocast when `bf16`; the losses are computed in fp32 outside it.
    """

    def __init__(self, model: nn.Module, contrastive: float = 0.0, bf16: bool = False, trim: float = 0.0):
        super().__init__()
        self.model, self.contrastive, self.bf16, self.trim = model, contrastive, bf16, trim

    def forward(self, x, x_view=None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x, real = model_input(x)  # ragged sequences: padded steps count nowhere (aelab.padding)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            if x_view is None:
                x_hat, z, z_view = self.model(x), None, None
            else:  # training mode: `forward` is decode(encode(x)), so the codes can be kept for the extra term
                z = self.model.encode(x)
                with _running_stats_frozen(self.model):
                    z_view = self.model.encode(x_view)
                x_hat = self.model.decode(z)
        diff = x_hat.float() - x
        if real is None:
            mse, mae = diff.pow(2).mean(), diff.detach().abs().mean()
        else:
            diff = diff * real
            mse, mae = diff.pow(2).sum() / real.sum(), diff.detach().abs().sum() / real.sum()
        parts = {"loss": mse, "mae": mae}
        fit = mse
        if self.trim:  # the worst-reconstructed samples (outliers in contaminated data) do not pull the model to them
            fit = trimmed_mean(sample_mse(diff, real), self.trim)
        if z_view is None:
            return fit, parts
        parts["contrastive"] = info_nce(z, z_view)
        return fit + self.contrastive * parts["contrastive"], parts


@torch.no_grad()
def evaluate_loss(model: nn.Module, x: torch.Tensor, batch_size: int = 512, trim: float = 0.0) -> tuple[float, float]:
    """Mean squared and absolute error of the model's reconstruction of `x`, in eval mode; with `trim`, the squared
    error leaves out that share of the worst-reconstructed samples, as the trimmed training loss does."""
    was_training = model.training
    model.eval()
    sq = ab = 0.0
    n_values = 0
    per_sample = []
    device = next(model.parameters()).device
    for xb in iterate_batches(x, _batches(len(x), batch_size, None)):
        xb, real = model_input(xb.to(device))
        diff = model(xb) - xb
        if real is not None:
            diff = diff * real
        sq += diff.pow(2).sum().item()
        ab += diff.abs().sum().item()
        n_values += xb.numel() if real is None else int(real.sum())
        if trim:
            per_sample.append(sample_mse(diff, real).double().cpu())
    model.train(was_training)
    if trim:
        return float(trimmed_mean(torch.cat(per_sample), trim)), ab / n_values
    return sq / n_values, ab / n_values


@torch.no_grad()
def per_sample_errors(model: nn.Module, x, batch_size: int = 512) -> torch.Tensor:
    """(N,) float64 reconstruction MSE of each sample of `x` (over its real values), in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    errors = []
    for xb in iterate_batches(x, _batches(len(x), batch_size, None)):
        xb, real = model_input(xb.to(device))
        diff = model(xb) - xb
        errors.append(sample_mse(diff if real is None else diff * real, real).double().cpu())
    model.train(was_training)
    return torch.cat(errors)


# Adam moves every weight by about lr per step, whatever the weight's size. A PCA-anchored model's linear path holds
# unit axes over the D input values, entries of about 1/sqrt(D): at the cnn's lr 8e-3 a step moved them by 0.44x
# their size on 32x32 colour images (D = 3,072; 600 CIFAR-10 photos: training loss 0.012 -> 0.198 and back) and by
# 1.8x on 128x128 photos (loss 0.0037 -> 15 within 9 epochs). Capped at a tenth of their size per step, the same runs
# train smoothly (at most 0.013 and 0.0022) to the same result, and digits (D = 64) and most UCR sets keep the preset's
# lr: there the cap does not bind.
PCA_PATH_STEP = 0.1


def pca_path_lr(lr: float, input_dim: int) -> float:
    """The learning rate of a PCA-anchored model's linear path: the run's, capped so that a step moves the path's
    weights by at most PCA_PATH_STEP of their typical size 1/sqrt(input_dim)."""
    return min(lr, PCA_PATH_STEP / math.sqrt(input_dim))


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam; with `weight_decay`, AdamW's decoupled decay on the weights of convolutions and linear layers only.

    Decay pulls weights toward zero at a rate of its own, not scaled by Adam's per-weight step sizes as an L2 term in
    the loss would be (Loshchilov & Hutter); batch norm's scales and the biases are left free, as is usual. A
    PCA-anchored model's linear path is a group of its own: never decayed (decay would shrink its unit-length axes
    away from the PCA it starts as), at `pca_path_lr`. Without decay or a PCA path the optimizer is exactly the plain
    Adam of earlier runs, so their checkpoints resume.
    """
    path = getattr(model, "pca_path", None)
    path_params = list(path.parameters()) if path is not None else []
    in_path = {id(p) for p in path_params}
    rest = [p for p in model.parameters() if id(p) not in in_path]
    if cfg.weight_decay:
        groups = [
            dict(params=[p for p in rest if p.ndim > 1], weight_decay=cfg.weight_decay),
            dict(params=[p for p in rest if p.ndim <= 1], weight_decay=0.0),
        ]
    else:
        groups = [dict(params=rest)]
    if path_params:
        groups.append(dict(params=path_params, lr=pca_path_lr(cfg.lr, path.down.in_features), weight_decay=0.0))
    return (torch.optim.AdamW if cfg.weight_decay else torch.optim.Adam)(groups, lr=cfg.lr)


class Trainer:
    """Fit `model` to reconstruct `x_train`, watching `x_val`. History is a dict of per-epoch lists.

    `fit` runs `_train_epoch` then `_end_epoch` (validation, history, best weights, checkpoint, the
    `on_epoch_end` hook, early stopping) once per epoch.
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        checkpoint: str | os.PathLike | None = None,
        device: str = "auto",
        progress: bool = True,
        workers: int | None = None,
        identity: dict | None = None,
    ):
        self.model = model
        self.config = config
        self.checkpoint = Path(checkpoint) if checkpoint else None
        # what a resumed run must share with its checkpoint besides `config`: a flat record of the model and its
        # data (`aelab train` passes its model's name and config and its data spec), saved in the checkpoint
        self.identity = identity
        self.device = pick_device(device)
        self.progress = progress
        self.workers = default_workers() if workers is None else workers  # readers for data not in memory

    def fit(
        self,
        x_train: torch.Tensor,
        x_val: torch.Tensor,
        resume: bool = False,
        on_epoch_end=None,
        augment=None,
        view=None,
        pca_weights: dict | None = None,
        start_confirmed: bool = False,
    ) -> dict:
        """Train on tensors, or on sources read batch by batch (anything NumPy-indexable with `len` and `shape`,
        such as a streamed split). `augment(batch, generator) -> batch`, if given, transforms each training batch
        (the target is the augmented batch too); `view(batch, generator) -> batch` makes the second view of each
        sample for the contrastive term when `config.contrastive` > 0. `on_epoch_end(epoch, model, history)` runs
        after each epoch's bookkeeping and checkpoint (outside the timed part), e.g. for a benchmark's
        time-to-quality measurement; it may return True to stop training there, or raise to interrupt it.
        A PCA-anchored model returns to its start unless its best weights are clearly better on validation.
        `pca_weights`: for one anchored to the PCA of augmented data, its weights as the plain training split's PCA.
        Where that augmentation is as set, untested, the run returns to plain PCA instead of to the start; where
        `start_confirmed` (`choose_augmentation` confirmed it on held-out training samples), the start is the
        reference, and plain PCA replaces the run's weights only if it is clearly better on validation."""
        cfg = self.config
        if cfg.contrastive and view is None:
            raise AelabError("contrastive: a weight above 0 needs a `view` transform")
        torch.manual_seed(cfg.seed)
        # channels_last convolutions run ~20% faster on CPUs (measured in benchmarks/bench_speed.py) and suit
        # tensor cores; the layout is undone after training so saved weights stay contiguous.
        self._memory_format = torch.channels_last if len(x_train.shape) == 4 else torch.contiguous_format
        model = self.model.to(self.device, memory_format=self._memory_format)
        # Under torchrun every rank takes its share of each global batch; DDP averages the gradients,
        # which equals the global batch's mean gradient when the shares are equal.
        objective = Objective(model, cfg.contrastive, bf16=cfg.precision == "bf16", trim=cfg.trim)
        self._net = nn.parallel.DistributedDataParallel(objective) if rank_and_world()[1] > 1 else objective
        x_train, x_val = (x.to(self.device) if isinstance(x, torch.Tensor) else x for x in (x_train, x_val))
        steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
        self._optimizer = make_optimizer(model, cfg)
        self._scheduler = self._make_scheduler(steps_per_epoch)
        self._generator = torch.Generator().manual_seed(cfg.seed)
        keys = ("loss", "mae", "val_loss", "val_mae", "seconds") + (("contrastive",) if cfg.contrastive else ())
        state = dict(epoch=0, history={k: [] for k in keys}, best_val=math.inf, best_epoch=0, best_weights=None)
        # a PCA-anchored model (built the same way on resume) ends as PCA unless training clearly beats it
        anchored = getattr(getattr(model, "config", None), "init", None) == "pca"
        start_is_reference = anchored and (pca_weights is None or start_confirmed)
        reference = copy.deepcopy(model.state_dict()) if start_is_reference else pca_weights
        if resume and self.checkpoint and self.checkpoint.exists():
            state = self._restore()
        else:  # the starting weights are a candidate for the best: a PCA-anchored model starts as PCA
            initial_val, _ = evaluate_loss(model, x_val, trim=cfg.trim)
            if math.isfinite(initial_val):
                state.update(best_val=initial_val, best_weights=copy.deepcopy(model.state_dict()))

        self._saved_at, self._save_seconds = time.perf_counter(), 0.0
        # A live bar on a terminal; one line per epoch in logs, where a bar would print every update
        self._log = self.progress and is_main()
        self._bar = tqdm(
            total=cfg.epochs * steps_per_epoch,
            initial=state["epoch"] * steps_per_epoch,
            disable=not (self._log and sys.stderr.isatty()),
            unit="batch",
            dynamic_ncols=True,
            leave=False,
        )
        try:
            first = state["epoch"]
            for epoch in range(first, cfg.epochs):
                started = time.perf_counter()
                sums = self._train_epoch(x_train, epoch, augment, view)
                if epoch == first:
                    self._say_if_long(cfg.epochs - epoch - 1, time.perf_counter() - started)
                if self._end_epoch(state, sums, len(x_train), x_val, started, on_epoch_end):
                    break
        finally:
            self._bar.close()
            model.to(memory_format=torch.contiguous_format)
        if state["best_weights"] is not None:
            model.load_state_dict(state["best_weights"])
        # Return to the reference, a PCA solution, unless the best weights clearly beat it on validation. A small
        # validation set ranks epochs by noise: on UCR's PickupGesture (50 training sequences, 10 validating)
        # conv1d kept epochs 28-55 that were better on validation and 1.0002-1.013x PCA's test MSE. A start fitted
        # to data augmented as set, which no test confirmed, is held to the same test against plain PCA.
        if reference is not None and not (start_is_reference and state["best_epoch"] == 0):
            if self._clearly_better_of(reference, copy.deepcopy(model.state_dict()), x_val) is reference:
                state["best_epoch"] = 0
        # A confirmed augmentation won on held-out training samples; validation samples are one more check, and
        # put plain PCA in its place only by the same margin that any change of weights must show.
        if start_is_reference and pca_weights is not None:
            if self._clearly_better_of(copy.deepcopy(model.state_dict()), pca_weights, x_val) is pca_weights:
                state["best_epoch"] = 0
        self.history = state["history"]
        self.best_epoch = state["best_epoch"]
        return state["history"]

    def _clearly_better_of(self, incumbent: dict, challenger: dict, x_val) -> dict:
        """`challenger` if its per-sample validation errors clearly beat `incumbent`'s (`aelab.stats.clearly_better`),
        else `incumbent`; the model ends holding the one returned."""
        self.model.load_state_dict(challenger)
        challenger_errors = per_sample_errors(self.model, x_val)
        self.model.load_state_dict(incumbent)
        if not clearly_better(challenger_errors, per_sample_errors(self.model, x_val)):
            return incumbent
        self.model.load_state_dict(challenger)
        return challenger

    def _train_epoch(self, x_train, epoch: int, augment, view) -> dict[str, float]:
        """One pass over the training data; returns each loss term summed over the samples (this rank's)."""
        cfg, model, generator = self.config, self.model, self._generator
        rank, world = rank_and_world()
        model.train()
        sums: dict[str, float] = {}
        for xb in iterate_batches(x_train, _batches(len(x_train), cfg.batch_size, generator), self.workers):
            xb = xb.to(self.device)
            if augment is not None:  # on the global batch, so every rank's generator stays in step
                xb = augment(xb, generator)
            x_view = None
            if cfg.contrastive:  # drawn for the global batch too, like the augmentation
                x_view = view(xb, generator)[rank::world].contiguous(memory_format=self._memory_format)
            xb = xb[rank::world].contiguous(memory_format=self._memory_format)
            total, parts = self._net(xb, x_view)
            if not all_finite(total):
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}: the loss became {total.item()}; "
                    "try a lower --lr (the last good checkpoint is kept)"
                )
            # One optimizer step on the total; clipping bounds the step when a batch is unusual
            self._optimizer.zero_grad(set_to_none=True)
            total.backward()
            if cfg.clip_grad_norm:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
            self._optimizer.step()
            if self._scheduler is not None:
                self._scheduler.step()
            for name, value in parts.items():
                sums[name] = sums.get(name, 0.0) + value.item() * len(xb)
            self._bar.update(1)
        return sums

    def _say_if_long(self, epochs_left: int, epoch_seconds: float) -> None:
        """One line in a log (a live bar shows its own estimate) when the rest of the run will take long at the first
        epoch's pace: the budget never changes with time, which would break reproducibility and --resume, but the
        user may choose fewer epochs."""
        left = epochs_left * epoch_seconds
        if self._log and self._bar.disable and left > LONG_RUN_SECONDS:
            print(
                f"at {epoch_seconds:.1f}s per epoch, the {epochs_left} epochs left take up to about {left / 60:.0f} "
                "min (--epochs N trains fewer)",
                file=sys.stderr,
                flush=True,
            )

    def _end_epoch(self, state: dict, sums: dict, n_train: int, x_val, started: float, on_epoch_end) -> bool:
        """Validate, record the epoch, keep the best weights, checkpoint; True when training should stop."""
        cfg, epoch = self.config, state["epoch"] + 1
        val_loss, val_mae = evaluate_loss(self.model, x_val, trim=cfg.trim)
        if not math.isfinite(val_loss):
            raise TrainingDiverged(f"training diverged at epoch {epoch}: the validation loss is {val_loss}")
        # Every rank summed its share of the samples; the epoch's means are over all of them
        names = [k for k in ("loss", "mae", "contrastive") if k in state["history"]]
        totals = dict(zip(names, all_sum([sums.get(k, 0.0) for k in names], self.device), strict=False))
        h = state["history"]
        for name in names:
            h[name].append(totals[name] / n_train)
        h["val_loss"].append(val_loss)
        h["val_mae"].append(val_mae)
        h["seconds"].append(time.perf_counter() - started)
        self._bar.set_postfix(epoch=epoch, loss=f"{h['loss'][-1]:.4g}", val_loss=f"{val_loss:.4g}")
        every = max(1, cfg.epochs // LOG_LINES)  # a log of a long run on tiny data stays readable
        if self._log and self._bar.disable and (epoch % every == 0 or epoch == cfg.epochs):
            print(
                f"epoch {epoch}/{cfg.epochs}: loss {h['loss'][-1]:.5g}, val_loss {val_loss:.5g} "
                f"({h['seconds'][-1]:.1f}s)",
                file=sys.stderr,
                flush=True,
            )

        # The best weights so far are what training returns; the checkpoint lets --resume continue from here
        state["epoch"] = epoch
        if val_loss < state["best_val"]:
            state.update(best_val=val_loss, best_epoch=epoch, best_weights=copy.deepcopy(self.model.state_dict()))
        patience_over = cfg.patience is not None and state["epoch"] - state["best_epoch"] >= cfg.patience
        # A validation error at float noise leaves nothing to learn (1,000,000 rows of a rank-5 table trained all
        # 30 epochs, 329 s, exact from its PCA start on); with patience, its noise reset the count each epoch
        exact = state["best_val"] < EXACT_MSE
        # Checkpoint every epoch unless epochs are so short that saving would dominate (tiny data trains for
        # hundreds of one-batch epochs): then as often as keeps saving under CHECKPOINT_SHARE of the time
        since_save = time.perf_counter() - self._saved_at
        if since_save * CHECKPOINT_SHARE >= self._save_seconds or epoch == cfg.epochs or patience_over or exact:
            self.save_checkpoint(state)
        stop = bool(on_epoch_end(epoch, self.model, h)) if on_epoch_end is not None else False
        self.model.train()
        return stop or patience_over or exact

    def _make_scheduler(self, steps_per_epoch):
        cfg = self.config
        if cfg.schedule == "onecycle":
            max_lr = [group["lr"] for group in self._optimizer.param_groups]  # each group's own peak
            return torch.optim.lr_scheduler.OneCycleLR(
                self._optimizer, max_lr=max_lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15
            )
        if cfg.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self._optimizer, T_max=cfg.epochs * steps_per_epoch)
        return None  # "none"; TrainConfig refuses any other name

    def save_checkpoint(self, state: dict) -> None:
        """checkpoints/last.pt (rank 0 only), written whole or not at all."""
        if self.checkpoint is None or not is_main():
            return
        started = time.perf_counter()
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self._optimizer.state_dict(),
            "scheduler": self._scheduler.state_dict() if self._scheduler is not None else None,
            "generator": self._generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "epoch": state["epoch"],
            "history": state["history"],
            "best_val": state["best_val"],
            "best_epoch": state["best_epoch"],
            "best_weights": state["best_weights"],
            "train_config": self.config.to_dict(),
            "identity": self.identity,
        }
        with atomic_path(self.checkpoint) as tmp:
            torch.save(payload, tmp)
        self._saved_at = time.perf_counter()
        self._save_seconds = self._saved_at - started

    def _restore(self) -> dict:
        # Loaded to the CPU: the generator's and torch's RNG states must be CPU tensors, and load_state_dict moves
        # the model's and optimizer's tensors to the device the run trains on, as checkpoints from any device need.
        ckpt = torch.load(self.checkpoint, map_location="cpu", weights_only=True)
        # Resuming under other settings would splice two different runs into one history; name what differs.
        # (Keys a checkpoint from an older version lacks are not compared.)
        asked = self.config.to_dict()
        changed = [
            f"{k}={v!r} (checkpoint: {ckpt['train_config'][k]!r})"
            for k, v in asked.items()
            if k in ckpt["train_config"] and ckpt["train_config"][k] != v
        ]
        # Another model or other data (a file, its options, the latent size) would load weights of another shape
        # (a torch error of many lines) or of another data set (a run that reads as trained on this one)
        saved = ckpt.get("identity")
        if self.identity is not None and saved is not None:
            keys = list({**self.identity, **saved})
            if self.identity.get("model") != saved.get("model"):  # another model: its config differs throughout
                keys = [k for k in keys if not k.startswith("model.")]
            changed += [
                f"{k}={self.identity.get(k)!r} (checkpoint: {saved.get(k)!r})"
                for k in keys
                if self.identity.get(k) != saved.get(k)
            ]
        if changed:
            raise AelabError(
                f"--resume: {self.checkpoint} was trained with other settings: {', '.join(changed)}; "
                "resume with the options it started with"
            )
        self.model.load_state_dict(ckpt["model"])
        groups, saved = len(self._optimizer.param_groups), len(ckpt["optimizer"]["param_groups"])
        if saved != groups:  # an anchored run's checkpoint from before its PCA path had a group of its own
            raise AelabError(
                f"--resume: {self.checkpoint} holds an optimizer of {saved} parameter groups where this version of "
                f"aelab makes {groups}; train afresh with --force"
            )
        self._optimizer.load_state_dict(ckpt["optimizer"])
        if self._scheduler is not None and ckpt["scheduler"] is not None:
            self._scheduler.load_state_dict(ckpt["scheduler"])
        self._generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        return {k: ckpt[k] for k in ("epoch", "history", "best_val", "best_epoch", "best_weights")}
