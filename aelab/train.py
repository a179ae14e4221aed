"""One generic trainer for every autoencoder: it sees tensors and a module with `forward` (and `encode`/`decode`
for the optional contrastive term), nothing else.

Adam, an optional learning-rate schedule, gradient clipping, an optional contrastive term (InfoNCE between the
codes of two views of each sample, for features that probe better), early stopping on the validation loss with the
best weights restored, a checkpoint after every epoch (atomic; loads with `torch.load(weights_only=True)`),
and a stop with a clear error when the loss stops being finite.
"""

from __future__ import annotations

import copy
import math
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

from .distributed import all_sum, is_main, rank_and_world
from .errors import AelabError, TrainingDiverged

SCHEDULES = ("none", "onecycle", "cosine")
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
    augment: str = "none"  # a name from aelab.data.augment.AUGMENTATIONS, resolved by whoever calls `fit`
    contrastive: float = 0.0  # weight of an InfoNCE term on the codes of two views (`fit(view=...)`); 0: off
    seed: int = 42

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
    """Batch i of a data source that lives on disk (e.g. `aelab.data.stream.LazyImages`), for a DataLoader."""

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
    yield from torch.utils.data.DataLoader(_BatchReader(x, batches), batch_size=None, num_workers=workers,
                                           worker_init_fn=_one_thread if workers else None,
                                           prefetch_factor=4 if workers else None)


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


class _Objective(nn.Module):
    """One training step's forward pass as one module, so DDP sees every use of the parameters: the
    reconstruction, and when a view batch is given, the codes of both views for the contrastive term."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x, x_view=None):  # -> (x_hat, z or None, z_view or None)
        if x_view is None:
            return self.model(x), None, None
        z = self.model.encode(x)
        with _running_stats_frozen(self.model):
            z_view = self.model.encode(x_view)
        return self.model.bounded(self.model.decode(z)), z, z_view


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
        for m, (momentum, count) in zip(norms, saved):
            m.momentum = momentum
            m.num_batches_tracked.copy_(count)


@torch.no_grad()
def evaluate_loss(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> tuple[float, float]:
    """Mean squared and absolute error of the model's reconstruction of `x`, in eval mode."""
    was_training = model.training
    model.eval()
    sq = ab = 0.0
    device = next(model.parameters()).device
    for xb in iterate_batches(x, _batches(len(x), batch_size, None)):
        xb = xb.to(device)
        diff = model(xb) - xb
        sq += diff.pow(2).sum().item()
        ab += diff.abs().sum().item()
    model.train(was_training)
    n_values = len(x) * math.prod(x.shape[1:])
    return sq / n_values, ab / n_values


class Trainer:
    """Fit `model` to reconstruct `x_train`, watching `x_val`. History is a dict of per-epoch lists."""

    def __init__(self, model: nn.Module, config: TrainConfig, checkpoint: str | os.PathLike | None = None,
                 device: str = "auto", progress: bool = True, workers: int | None = None):
        self.model = model
        self.config = config
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.device = pick_device(device)
        self.progress = progress
        self.workers = default_workers() if workers is None else workers  # readers for data not in memory

    def fit(self, x_train: torch.Tensor, x_val: torch.Tensor, resume: bool = False, on_epoch_end=None,
            augment=None, view=None) -> dict:
        """Train on tensors, or on sources read batch by batch (anything NumPy-indexable with `len` and `shape`,
        such as a streamed split). `augment(batch, generator) -> batch`, if given, transforms each training batch (the
        target is the augmented batch too); `view(batch, generator) -> batch` makes the second view of each sample
        for the contrastive term when `config.contrastive` > 0; `on_epoch_end(epoch, model, history)` runs after each epoch's
        bookkeeping (outside the timed part), e.g. for a benchmark's time-to-quality measurement."""
        cfg = self.config
        if cfg.contrastive and view is None:
            raise ValueError("config.contrastive > 0 needs a `view` transform")
        torch.manual_seed(cfg.seed)
        # channels_last convolutions run ~20% faster on CPUs (measured in benchmarks/bench_speed.py) and suit
        # tensor cores; the layout is undone after training so saved weights stay contiguous.
        memory_format = torch.channels_last if len(x_train.shape) == 4 else torch.contiguous_format
        model = self.model.to(self.device, memory_format=memory_format)
        rank, world = rank_and_world()
        # Under torchrun every rank takes its share of each global batch; DDP averages the gradients,
        # which equals the global batch's mean gradient when the shares are equal.
        objective = _Objective(model)
        net = nn.parallel.DistributedDataParallel(objective) if world > 1 else objective
        x_train, x_val = (x.to(self.device) if isinstance(x, torch.Tensor) else x for x in (x_train, x_val))
        steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        scheduler = self._scheduler(optimizer, steps_per_epoch)
        generator = torch.Generator().manual_seed(cfg.seed)
        keys = ("loss", "mae", "val_loss", "val_mae", "seconds") + (("contrastive",) if cfg.contrastive else ())
        state = dict(epoch=0, history={k: [] for k in keys},
                     best_val=math.inf, best_epoch=0, best_weights=None)
        if resume and self.checkpoint and self.checkpoint.exists():
            state = self._restore(optimizer, scheduler, generator)

        # A live bar on a terminal; one line per epoch in logs, where a bar would print every update
        progress = self.progress and rank == 0
        live = progress and sys.stderr.isatty()
        bar = tqdm(total=cfg.epochs * steps_per_epoch, initial=state["epoch"] * steps_per_epoch,
                   disable=not live, unit="batch", dynamic_ncols=True, leave=False)
        try:
            for epoch in range(state["epoch"], cfg.epochs):
                started = time.perf_counter()
                model.train()
                sq = ab = con = 0.0
                for xb in iterate_batches(x_train, _batches(len(x_train), cfg.batch_size, generator), self.workers):
                    xb = xb.to(self.device)
                    if augment is not None:  # on the global batch, so every rank's generator stays in step
                        xb = augment(xb, generator)
                    x_view = None
                    if cfg.contrastive:  # drawn for the global batch too, like the augmentation
                        x_view = view(xb, generator)[rank::world].contiguous(memory_format=memory_format)
                    xb = xb[rank::world].contiguous(memory_format=memory_format)
                    with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                        x_hat, z, z_view = net(xb, x_view)
                    diff = x_hat.float() - xb
                    loss = diff.pow(2).mean()  # the reconstruction MSE, reported as `loss` with or without extra terms
                    total = loss
                    if z_view is not None:
                        agreement = info_nce(z, z_view)
                        total = loss + cfg.contrastive * agreement
                        con += agreement.item() * len(xb)
                    if not all_finite(total):
                        raise TrainingDiverged(
                            f"training diverged at epoch {epoch + 1}: the loss became {total.item()}; "
                            "try a lower --lr (the last good checkpoint is kept)"
                        )
                    optimizer.zero_grad(set_to_none=True)
                    total.backward()
                    if cfg.clip_grad_norm:
                        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                    sq += loss.item() * len(xb)
                    ab += diff.detach().abs().mean().item() * len(xb)
                    bar.update(1)
                val_loss, val_mae = evaluate_loss(model, x_val)
                if not math.isfinite(val_loss):
                    raise TrainingDiverged(f"training diverged at epoch {epoch + 1}: the validation loss is {val_loss}")
                sq, ab, con = all_sum([sq, ab, con], self.device)
                h = state["history"]
                h["loss"].append(sq / len(x_train))
                h["mae"].append(ab / len(x_train))
                if cfg.contrastive:
                    h["contrastive"].append(con / len(x_train))
                h["val_loss"].append(val_loss)
                h["val_mae"].append(val_mae)
                h["seconds"].append(time.perf_counter() - started)
                bar.set_postfix(epoch=epoch + 1, loss=f"{h['loss'][-1]:.4g}", val_loss=f"{val_loss:.4g}")
                if progress and not live:
                    print(f"epoch {epoch + 1}/{cfg.epochs}: loss {h['loss'][-1]:.5g}, val_loss {val_loss:.5g} "
                          f"({h['seconds'][-1]:.1f}s)", file=sys.stderr, flush=True)
                state["epoch"] = epoch + 1
                if val_loss < state["best_val"]:
                    state.update(best_val=val_loss, best_epoch=epoch + 1,
                                 best_weights=copy.deepcopy(model.state_dict()))
                self._save(state, optimizer, scheduler, generator)
                if on_epoch_end is not None:
                    on_epoch_end(epoch + 1, model, h)
                    model.train()
                if cfg.patience is not None and state["epoch"] - state["best_epoch"] >= cfg.patience:
                    break
        finally:
            bar.close()
            model.to(memory_format=torch.contiguous_format)
        if state["best_weights"] is not None:
            model.load_state_dict(state["best_weights"])
        self.history = state["history"]
        self.best_epoch = state["best_epoch"]
        return state["history"]

    def _scheduler(self, optimizer, steps_per_epoch):
        cfg = self.config
        if cfg.schedule == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch,
                                                       pct_start=0.15)
        if cfg.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * steps_per_epoch)
        if cfg.schedule != "none":
            raise ValueError(f"unknown schedule {cfg.schedule!r}; choose from {SCHEDULES}")
        return None

    def _save(self, state, optimizer, scheduler, generator):
        if self.checkpoint is None or not is_main():
            return
        payload = {
            "model": self.model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
            "epoch": state["epoch"], "history": state["history"], "best_val": state["best_val"],
            "best_epoch": state["best_epoch"], "best_weights": state["best_weights"],
            "train_config": self.config.to_dict(),
        }
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, self.checkpoint)

    def _restore(self, optimizer, scheduler, generator) -> dict:
        ckpt = torch.load(self.checkpoint, map_location=self.device, weights_only=True)
        # Resuming under other settings would splice two different runs into one history; name what differs.
        # (Keys a checkpoint from an older version lacks are not compared.)
        asked = self.config.to_dict()
        changed = [f"{k}={v!r} (checkpoint: {ckpt['train_config'][k]!r})" for k, v in asked.items()
                   if k in ckpt["train_config"] and ckpt["train_config"][k] != v]
        if changed:
            raise AelabError(f"--resume: {self.checkpoint} was trained with other settings: {', '.join(changed)}; "
                             "resume with the options it started with")
        self.model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None and ckpt["scheduler"] is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        return {k: ckpt[k] for k in ("epoch", "history", "best_val", "best_epoch", "best_weights")}
