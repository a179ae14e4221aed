"""Training-time transforms for images: label-free augmentations an autoencoder must undo as well, and the
altered views the contrastive term compares."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from ..errors import AelabError, ConfigError
from ..kinds import IMAGE, SEQUENCE
from ..padding import filled
from ..stats import clearly_better, critical_t, paired_t


def random_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the (B, C, H, W) batch left-right: twice the distinct images per epoch."""
    flip = (torch.rand(len(batch), generator=generator) < 0.5).to(batch.device)
    out = batch.clone()
    out[flip] = batch[flip].flip(-1)
    return out


IMAGE_SHIFT = 2  # pixels an image moves each way under flip+shift


def shift_images(batch: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Move each (B, C, H, W) image by (dy, dx) pixels, each in -IMAGE_SHIFT..IMAGE_SHIFT, edges padded by
    reflection. The shifts may be drawn on the CPU (a CPU generator gives the same draws on every device)."""
    b, _, h, w = batch.shape
    device = batch.device
    dy, dx = dy.to(device), dx.to(device)
    padded = torch.nn.functional.pad(batch, (IMAGE_SHIFT,) * 4, mode="reflect")
    rows = (IMAGE_SHIFT + dy[:, None] + torch.arange(h, device=device)[None, :])[:, None, :, None]  # (B, 1, H, 1)
    cols = (IMAGE_SHIFT + dx[:, None] + torch.arange(w, device=device)[None, :])[:, None, None, :]  # (B, 1, 1, W)
    batch_idx = torch.arange(b, device=device)[:, None, None, None]
    channel_idx = torch.arange(batch.shape[1], device=device)[None, :, None, None]
    return padded[batch_idx, channel_idx, rows, cols]


def flip_and_shift(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random flips, then a random shift of up to IMAGE_SHIFT pixels each way."""
    batch = random_flip(batch, generator)
    dy, dx = (torch.randint(0, 2 * IMAGE_SHIFT + 1, (len(batch),), generator=generator) - IMAGE_SHIFT for _ in "yx")
    return shift_images(batch, dy, dx)


TIME_SHIFT_SHARE = 20  # a sequence moves by at most 1/20 of its length each way under time-shift (at least 1 step)


def max_time_shift(steps: int) -> int:
    """Steps a sequence of `steps` moves at most each way under time-shift."""
    return max(1, steps // TIME_SHIFT_SHARE)


def shift_sequences(batch: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Move each (B, T, F) sequence by `shift` (B, 1) steps, in -max_time_shift(T)..max_time_shift(T), the edge
    step repeated into the gap. A ragged sequence (NaN-padded at the end, see aelab.padding) moves by the same share
    of its own length's largest shift, within that length, and keeps its padding. `shift` may be on the CPU (a CPU
    generator gives the same draws on every device)."""
    t = batch.shape[1]
    real = ~torch.isnan(batch).all(2)  # (B, T)
    length = real.sum(1, keepdim=True)  # (B, 1)
    shift = shift.to(batch.device)
    shift = torch.round(shift * (length // TIME_SHIFT_SHARE).clamp(min=1) / max_time_shift(t)).long()  # its length
    steps = torch.arange(t, device=batch.device)[None, :] - shift
    steps = torch.minimum(steps.clamp(min=0), length - 1)  # (B, T): the step copied
    moved = batch.gather(1, steps[:, :, None].expand_as(batch))
    return moved if bool(real.all()) else torch.where(real[:, :, None], moved, batch)


def time_shift(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Move each (B, T, F) sequence by a random shift of up to a twentieth of its length either way: the same
    shape a little earlier or later, which small sets of unaligned recordings lack."""
    most = max_time_shift(batch.shape[1])
    return shift_sequences(batch, torch.randint(-most, most + 1, (len(batch), 1), generator=generator))


def contrastive_view(
    batch: torch.Tensor, generator: torch.Generator, min_scale: float = 0.35, jitter: float = 0.4, gray_p: float = 0.2
) -> torch.Tensor:
    """A strongly altered view of each (B, C, H, W) image for the contrastive term (SimCLR's recipe, in torch ops).

    A random crop of `min_scale`..1 of the area resized back, a random mirror, brightness, contrast and (colour
    images) saturation scaled by 1 +- `jitter`, and a `gray_p` chance of grayscale: codes that must agree across
    such views keep what the object is rather than where it sits or how it is lit.
    """
    b, c, h, w = batch.shape

    def uniform(lo, hi):  # (B,)
        return torch.empty(b).uniform_(lo, hi, generator=generator)

    scale = uniform(min_scale, 1.0).sqrt()  # side of the crop, as a fraction of the image's
    mirror = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * mirror, scale
    theta[:, 0, 2], theta[:, 1, 2] = uniform(-1, 1) * (1 - scale), uniform(-1, 1) * (1 - scale)
    grid = F.affine_grid(theta.to(batch), list(batch.shape), align_corners=False)
    out = F.grid_sample(batch, grid, align_corners=False, padding_mode="reflection")

    def factor():  # (B, 1, 1, 1)
        return (1 + uniform(-jitter, jitter)).view(b, 1, 1, 1).to(batch)

    out = out * factor()
    mean = out.mean((1, 2, 3), keepdim=True)
    out = (out - mean) * factor() + mean
    if c == 3:
        gray = (out * torch.tensor([0.299, 0.587, 0.114]).to(batch).view(1, 3, 1, 1)).sum(1, keepdim=True)
        out = (out - gray) * factor() + gray
        to_gray = (torch.rand(b, generator=generator) < gray_p).view(b, 1, 1, 1).to(batch.device)
        out = torch.where(to_gray, gray.expand_as(out), out)
    return out.clamp(0, 1)


AUGMENTATIONS = {"none": None, "flip": random_flip, "flip+shift": flip_and_shift, "time-shift": time_shift}
KIND_OF = {"flip": IMAGE, "flip+shift": IMAGE, "time-shift": SEQUENCE}


AUTO = "auto"  # a preset's augmentation: chosen from the data by `choose_augmentation`
CANDIDATES = {IMAGE: ("flip+shift", "flip"), SEQUENCE: ("time-shift",)}  # strongest first
CHOICE_SAMPLES = 1000  # training samples the choice looks at, spread over the split
CHOICE_VALUES = 20_000_000  # values a PCA fit of variants holds at most (80 MB), unless the data itself is larger
FOLDS = 5  # the choice's cross-validation: every sample looked at is held out once
MIN_GAIN = 0.01  # an augmentation must lower the held-out PCA error by at least this share to be used
SHIFT_STEPS = 9  # time shifts among a sequence's variants, evenly spaced over the range time-shift draws from


@dataclass(frozen=True)
class AugmentationChoice:
    name: str
    reason: str
    confirmed: bool = False  # chosen by the cross-validated test, not as set

    def describe(self) -> str:
        return f"augmentation: {self.name} ({self.reason})"


def variants(x: torch.Tensor, name: str) -> torch.Tensor:
    """`x` in every version augmentation `name` draws from, in one fixed set with the originals among them:
    time-shift at SHIFT_STEPS shifts evenly spaced over its range, flip both ways, flip+shift both ways at shifts
    of 0 and +-IMAGE_SHIFT pixels along each axis. A PCA of them is the linear solution that training on random
    augmented batches approaches, without the noise of a random draw of copies (with 4 random time-shifted
    copies, PCA-20's test error on CardanoSentiment ranged 0.68-1.05x over three seeds' splits, and 0.71-1.39x
    over the number of copies)."""
    if name == "time-shift":
        most = max_time_shift(x.shape[1])
        shifts = np.unique(np.linspace(-most, most, SHIFT_STEPS).round().astype(int))
        return torch.cat([shift_sequences(x, torch.full((len(x), 1), int(s))) for s in shifts])
    mirrored = torch.cat([x, x.flip(-1)])
    if name == "flip":
        return mirrored
    if name == "flip+shift":
        moves = [torch.full((len(mirrored),), step) for step in (-IMAGE_SHIFT, 0, IMAGE_SHIFT)]
        return torch.cat([shift_images(mirrored, dy, dx) for dy in moves for dx in moves])
    raise ConfigError("augment", f"augmentation {name!r} has no variants")


def variants_per_sample(x, name: str) -> int:
    """How many `variants` augmentation `name` makes of each sample of `x` (NumPy-indexable)."""
    return len(variants(torch.as_tensor(np.asarray(x[:1]), dtype=torch.float32), name))


def _heldout_errors(fit: torch.Tensor, held: torch.Tensor, k: int, seed: int) -> np.ndarray:
    """(len(held),) mean squared error over each held-out sample's real values (padding excluded) under PCA-k
    fitted on `fit`."""
    pca = PCA(n_components=k, random_state=seed).fit(filled(fit.flatten(1).numpy()))
    flat = held.flatten(1).numpy()
    real, flat = ~np.isnan(flat), filled(flat)
    squared = np.where(real, pca.inverse_transform(pca.transform(flat)) - flat, 0.0) ** 2
    return squared.sum(1) / real.sum(1)


def choose_augmentation(data_kind: str, x_train, latent_dim: int, seed: int) -> AugmentationChoice:
    """The strongest augmentation of the data's kind that helps PCA generalise, or "none".

    Up to CHOICE_SAMPLES training samples, in FOLDS folds: a PCA of the model's latent size fitted on the other
    folds' samples in all their `variants`, and one fitted on those samples alone, each reconstruct the held-out
    fold. The augmentation is used when, over all samples, its error is at most 1 - MIN_GAIN of the plain one's
    and the paired gain is clearly larger than its spread (`aelab.stats.clearly_better`): a cheap linear test of
    whether the transform teaches something true about the data, made on every sample looked at rather than on a
    validation split of a few. Measured: flips and shifts help on CIFAR-10 and hurt on 8x8 digits (a mirrored or
    shifted digit is another shape; trained with them the cnn stayed at PCA-8's error, without them it reached
    0.43x); time shifts help small unaligned UCR sets (ArrowHead, PickupGesture), not ACSF1 nor the lab's aligned
    synthetic sequences. A confirmed choice replaces plain PCA as the solution an anchored model returns to.
    """
    candidates = CANDIDATES.get(data_kind, ())
    if not candidates:
        return AugmentationChoice("none", f"none defined for {data_kind}s")
    n = len(x_train)
    values = math.prod(x_train.shape[1:])
    most = max(variants_per_sample(x_train, name) for name in candidates)
    # the variants of the folds fitted at once hold at most CHOICE_VALUES values, or for large samples (photos) as
    # many as the data itself: enough for 2 * FOLDS samples, or no test
    per_sample = (FOLDS - 1) / FOLDS * most * values
    fits_in_memory = int(CHOICE_VALUES / per_sample)
    if fits_in_memory < 2 * FOLDS:
        fits_in_memory = int(max(CHOICE_VALUES, n * values) / per_sample)
    if fits_in_memory < 2 * FOLDS <= n:
        return AugmentationChoice("none", f"samples of {values:,} values are too large to test one in memory")
    looked_at = min(n, CHOICE_SAMPLES, fits_in_memory)
    rows = np.unique(np.linspace(0, n - 1, looked_at).round().astype(int))
    x = torch.as_tensor(np.asarray(x_train[rows]), dtype=torch.float32)
    folds = np.array_split(np.random.default_rng(seed).permutation(len(x)), FOLDS)
    k = min(latent_dim, len(x) - len(folds[0]) - 1, x[0].numel())
    if len(x) < 2 * FOLDS or k < 1:
        return AugmentationChoice("none", "too few training samples to test one")

    def heldout(name: str | None) -> np.ndarray:
        errors = np.empty(len(x))
        for fold in folds:
            fit = x[np.setdiff1d(np.arange(len(x)), fold)]
            errors[fold] = _heldout_errors(fit if name is None else variants(fit, name), x[fold], k, seed)
        return errors

    plain = heldout(None)
    if plain.mean() <= 0:
        return AugmentationChoice("none", f"PCA-{k} already reconstructs held-out samples exactly")
    tried = []
    for name in candidates:
        augmented = heldout(name)
        ratio, t = augmented.mean() / plain.mean(), paired_t(augmented, plain)
        if ratio <= 1 - MIN_GAIN and clearly_better(augmented, plain):
            reason = f"with it, PCA-{k}'s error on held-out training samples is {ratio:.3f}x, t = {t:.1f}"
            return AugmentationChoice(name, reason, confirmed=True)
        tried.append(f"{name} {ratio:.3f}x (t = {t:.1f})")
    return AugmentationChoice(
        "none",
        f"held-out PCA-{k} error with {', '.join(tried)} of without; used at {1 - MIN_GAIN:.2f}x or less "
        f"and t above {critical_t(len(plain)):.2f}",
    )


def get_augmentation(name: str, data_kind: str):
    """The batch transform called `name`, or None; a transform made for another kind of data is skipped."""
    if name not in AUGMENTATIONS:
        raise ConfigError("augment", f"unknown augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}")
    if name in KIND_OF and KIND_OF[name] != data_kind:
        return None
    return AUGMENTATIONS[name]


def check_applies(name: str, data_kind: str) -> None:
    """Refuse an augmentation named for another kind of data, which `get_augmentation` would skip."""
    if name not in ("none", AUTO) and get_augmentation(name, data_kind) is None:
        raise ConfigError("augment", f"{name!r} does not apply to {data_kind}s")


def get_contrastive_view(data_kind: str):
    """The view transform of the contrastive term for `data_kind`; only images have one."""
    if data_kind != IMAGE:
        raise AelabError("--contrastive: only image models have views for the contrastive term")
    return contrastive_view
