"""Training-time augmentation for images: label-free transforms an autoencoder must undo as well."""

from __future__ import annotations

import torch


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


AUGMENTATIONS = {"none": None, "flip": random_flip, "flip+shift": flip_and_shift}
IMAGE_ONLY = {"flip", "flip+shift"}


def get_augmentation(name: str, data_kind: str):
    """The batch transform called `name`, or None; image transforms are skipped for other data."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; choose from {sorted(AUGMENTATIONS)}")
    if name in IMAGE_ONLY and data_kind != "image":
        return None
    return AUGMENTATIONS[name]
