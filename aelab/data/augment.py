"""Training-time augmentation for images: label-free transforms an autoencoder must undo as well."""

from __future__ import annotations

import torch


def random_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the (B, C, H, W) batch left-right: twice the distinct images per epoch."""
    flip = torch.rand(len(batch), generator=generator) < 0.5
    out = batch.clone()
    out[flip] = batch[flip].flip(-1)
    return out


AUGMENTATIONS = {"none": None, "flip": random_flip}
IMAGE_ONLY = {"flip"}


def get_augmentation(name: str, data_kind: str):
    """The batch transform called `name`, or None; image transforms are skipped for other data."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; choose from {sorted(AUGMENTATIONS)}")
    if name in IMAGE_ONLY and data_kind != "image":
        return None
    return AUGMENTATIONS[name]
