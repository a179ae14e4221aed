"""Training-time transforms for images: label-free augmentations an autoencoder must undo as well, and the
altered views the contrastive term compares."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import AelabError, ConfigError
from ..kinds import IMAGE


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


AUGMENTATIONS = {"none": None, "flip": random_flip, "flip+shift": flip_and_shift}
IMAGE_ONLY = {"flip", "flip+shift"}


def get_augmentation(name: str, data_kind: str):
    """The batch transform called `name`, or None; image transforms are skipped for other data."""
    if name not in AUGMENTATIONS:
        raise ConfigError("augment", f"unknown augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}")
    if name in IMAGE_ONLY and data_kind != IMAGE:
        return None
    return AUGMENTATIONS[name]


def get_contrastive_view(data_kind: str):
    """The view transform of the contrastive term for `data_kind`; only images have one."""
    if data_kind != IMAGE:
        raise AelabError("--contrastive: only image models have views for the contrastive term")
    return contrastive_view
