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


def random_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the (B, C, H, W) batch left-right: twice the distinct images per epoch."""
    flip = torch.rand(len(batch), generator=generator) < 0.5
    out = batch.clone()
    out[flip] = batch[flip].flip(-1)
    return out


def flip_and_shift(batch: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random flips, then a shift of up to `max_shift` pixels each way (edges padded by reflection)."""
    batch = random_flip(batch, generator)
    b, _, h, w = batch.shape
    padded = torch.nn.functional.pad(batch, (max_shift,) * 4, mode="reflect")
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (b,), generator=generator) for _ in range(2))
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]  # (B, 1, 1, W)
    batch_idx = torch.arange(b)[:, None, None, None]
    channel_idx = torch.arange(batch.shape[1])[None, :, None, None]
    return padded[batch_idx, channel_idx, rows, cols]


def time_shift(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Move each (B, T, F) sequence by up to a twentieth of its length (at least 1 step) either way, the edge step
    repeated into the gap: the same shape a little earlier or later, which small sets of unaligned recordings lack.
    A ragged sequence (NaN-padded at the end, see aelab.padding) moves within its own length and keeps its padding."""
    b, t = batch.shape[:2]
    real = ~torch.isnan(batch).all(2)  # (B, T)
    length = real.sum(1, keepdim=True)  # (B, 1)
    max_shift = max(1, t // 20)
    shift = torch.randint(-max_shift, max_shift + 1, (b, 1), generator=generator)  # (B, 1)
    shift = torch.round(shift * (length // 20).clamp(min=1) / max_shift).long()  # scaled to each sequence's length
    steps = torch.minimum((torch.arange(t)[None, :] - shift).clamp(min=0), length - 1)  # (B, T): the step copied
    moved = batch.gather(1, steps.to(batch.device)[:, :, None].expand_as(batch))
    return moved if bool(real.all()) else torch.where(real[:, :, None], moved, batch)


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
CHOICE_VALUES = 20_000_000  # values a PCA fit of the augmented data holds at most (80 MB), unless the data is larger
COPIES = 4  # augmented copies of each sample in the PCA fits of the choice and of an anchored start
MIN_GAIN = 0.01  # an augmentation must lower the held-out PCA error by at least this share to be used


@dataclass(frozen=True)
class AugmentationChoice:
    name: str
    reason: str

    def describe(self) -> str:
        return f"augmentation: {self.name} ({self.reason})"


def with_copies(x: torch.Tensor, augment, generator: torch.Generator, copies: int = COPIES) -> torch.Tensor:
    """`x` followed by `copies` augmented copies of it: the data an augmented model trains on, for a PCA to fit."""
    return torch.cat([x, *(augment(x, generator) for _ in range(copies))])


def _heldout_pca_error(fit: torch.Tensor, held: torch.Tensor, k: int, seed: int) -> float:
    """Mean squared error over the real values of `held` (padding excluded) under PCA-k fitted on `fit`."""
    pca = PCA(n_components=k, random_state=seed).fit(filled(fit.flatten(1).numpy()))
    flat = held.flatten(1).numpy()
    real = ~np.isnan(flat)
    return float(((pca.inverse_transform(pca.transform(filled(flat))) - flat)[real] ** 2).mean())


def choose_augmentation(data_kind: str, x_train, latent_dim: int, seed: int) -> AugmentationChoice:
    """The strongest augmentation of the data's kind that helps PCA generalise, or "none".

    Half of (up to CHOICE_SAMPLES of) the training samples, with COPIES augmented copies each, fit a PCA of the
    model's latent size; the augmentation is used when that PCA reconstructs the other half at least MIN_GAIN
    better than a PCA fitted on the half alone: a cheap linear test of whether the transform teaches something
    true about the data. Measured: flips and shifts help on CIFAR-10 (0.95x at PCA-32) and hurt on 8x8 digits
    (1.4-1.5x, flips alone 1.1x: a mirrored or shifted digit is another shape; trained with them the cnn stayed at
    PCA-8's error, without them it reached 0.43x); time shifts help small unaligned UCR sets (ArrowHead 0.52-0.70x,
    PickupGesture 0.56-0.86x), not ACSF1 (1.08-1.13x) nor the lab's aligned synthetic sequences (1.01x).
    """
    candidates = CANDIDATES.get(data_kind, ())
    if not candidates:
        return AugmentationChoice("none", f"none defined for {data_kind}s")
    n = len(x_train)
    values = math.prod(x_train.shape[1:])
    looked_at = min(n, CHOICE_SAMPLES, max(4, 2 * CHOICE_VALUES // ((COPIES + 1) * values)))  # 256x256 photos: 40
    rows = np.unique(np.linspace(0, n - 1, looked_at).round().astype(int))
    x = torch.as_tensor(np.asarray(x_train[rows]), dtype=torch.float32)
    fit, held = x[0::2], x[1::2]
    k = min(latent_dim, len(fit) - 1, fit[0].numel())
    if len(held) < 2 or k < 1:
        return AugmentationChoice("none", "too few training samples to test one")
    plain = _heldout_pca_error(fit, held, k, seed)
    if plain <= 0:
        return AugmentationChoice("none", f"PCA-{k} already reconstructs held-out samples exactly")
    generator = torch.Generator().manual_seed(seed)
    tried = []
    for name in candidates:
        ratio = _heldout_pca_error(with_copies(fit, AUGMENTATIONS[name], generator), held, k, seed) / plain
        if ratio <= 1 - MIN_GAIN:
            return AugmentationChoice(name, f"with it, PCA-{k}'s error on held-out training samples is {ratio:.3f}x")
        tried.append(f"{name} {ratio:.3f}x")
    return AugmentationChoice(
        "none", f"held-out PCA-{k} error with {', '.join(tried)} of without; used at {1 - MIN_GAIN:.2f}x or less"
    )


def get_augmentation(name: str, data_kind: str):
    """The batch transform called `name`, or None; a transform made for another kind of data is skipped."""
    if name not in AUGMENTATIONS:
        raise ConfigError("augment", f"unknown augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}")
    if name in KIND_OF and KIND_OF[name] != data_kind:
        return None
    return AUGMENTATIONS[name]


def get_contrastive_view(data_kind: str):
    """The view transform of the contrastive term for `data_kind`; only images have one."""
    if data_kind != IMAGE:
        raise AelabError("--contrastive: only image models have views for the contrastive term")
    return contrastive_view
