"""A 1-D convolutional sequence autoencoder, the CNN peer of the LSTMs on the same sequences."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn
from torch.nn import functional as F

from ..errors import AelabError
from .base import SEQUENCE, Autoencoder, check_latent
from .registry import register


@dataclass(frozen=True)
class Conv1dConfig:
    seq_len: int = 50
    n_features: int = 10
    latent_dim: int = 20
    channels: int = 64

    def __post_init__(self):
        if self.seq_len < 4:
            raise AelabError(f"conv1d halves the sequence twice and needs at least 4 steps, got {self.seq_len}")
        check_latent(self, self.seq_len * self.n_features)


@register("conv1d")
class Conv1dAutoencoder(Autoencoder):
    """Two stride-2 convolutions over time, a linear bottleneck, and the mirror image back.

    Lengths that are not multiples of 4 are handled by upsampling to the exact encoder lengths.
    """

    Config = Conv1dConfig
    input_kind = SEQUENCE

    def __init__(self, config: Conv1dConfig):
        super().__init__(config)
        c, w = config, config.channels
        self.lengths = [c.seq_len, math.ceil(c.seq_len / 2), math.ceil(c.seq_len / 4)]
        self.encoder = nn.Sequential(
            nn.Conv1d(c.n_features, w, 5, stride=2, padding=2), nn.GELU(),  # (B, F, T) -> (B, w, T/2)
            nn.Conv1d(w, 2 * w, 5, stride=2, padding=2), nn.GELU(),  # -> (B, 2w, T/4)
            nn.Flatten(), nn.Linear(2 * w * self.lengths[2], c.latent_dim),
        )
        self.expand = nn.Sequential(nn.Linear(c.latent_dim, 2 * w * self.lengths[2]), nn.GELU())
        self.up1 = nn.Sequential(nn.Conv1d(2 * w, w, 5, padding=2), nn.GELU())
        self.up2 = nn.Sequential(nn.Conv1d(w, w, 5, padding=2), nn.GELU(), nn.Conv1d(w, c.n_features, 5, padding=2))

    def encode(self, x):  # (B, T, F) -> (B, latent_dim)
        return self.encoder(x.transpose(1, 2))

    def decode(self, z):  # (B, latent_dim) -> (B, T, F)
        h = self.expand(z).view(-1, 2 * self.config.channels, self.lengths[2])
        h = self.up1(F.interpolate(h, size=self.lengths[1], mode="linear", align_corners=False))
        h = self.up2(F.interpolate(h, size=self.lengths[0], mode="linear", align_corners=False))
        return h.transpose(1, 2)
