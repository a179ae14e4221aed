"""A 1-D convolutional sequence autoencoder, the CNN peer of the LSTMs on the same sequences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import AelabError, ConfigError
from ..kinds import SEQUENCE
from .base import (
    Autoencoder,
    check_latent,
    check_mixed,
    check_whole_numbers,
    mixed_features,
    mixing_layers,
    series_per_feature,
)
from .registry import register


@dataclass(frozen=True)
class Conv1dConfig:
    seq_len: int = 50
    n_features: int = 10
    latent_dim: int = 20
    channels: int = 16  # of the first convolution; the second has twice as many
    hidden: int = 64  # size of each feature's summary before the features are mixed into the latent
    init: str = "random"  # "pca": start as the training split's PCA (see Autoencoder)
    patch: int = 1  # consecutive steps read as the channels of one position (long sequences: see `adapt`)
    mixed: int = 0  # features first mixed linearly into this many (many-feature data: see `adapt`); 0: read each

    MAY_BE_ZERO = ("mixed",)

    def __post_init__(self):
        check_whole_numbers(self)
        if self.seq_len < 4:
            raise AelabError(f"conv1d halves the sequence twice and needs at least 4 steps, got {self.seq_len}")
        if -(-self.seq_len // self.patch) < 4:
            raise ConfigError("patch", f"{self.patch} leaves fewer than 4 positions of {self.seq_len} steps")
        check_mixed(self)
        check_latent(self, self.seq_len * self.n_features)


@register("conv1d")
class Conv1dAutoencoder(Autoencoder):
    """Each feature is read by the same two stride-2 convolutions; a linear layer mixes the F summaries into the
    latent, and the decoder mirrors it: the latent is unmixed into one code per feature, an MLP lays each code out
    over a quarter-length grid, and upsampling convolutions draw the curve.

    Sharing weights across features (B sequences become B*F univariate ones) is what lets a convolutional model
    beat PCA here: a multichannel conv1d over all features at once, with the same latent, plateaued at PCA's error
    (1.04x PCA-20 on the lab's sequences) even with an MLP decoder. Lengths that are not multiples of 4 are handled
    by upsampling to the exact encoder lengths. Long sequences are read in patches of consecutive steps, one patch
    per position (as channels), and drawn back the same way; data of more than MAX_READ_FEATURES features is mixed
    into that many first (`mixed`) and unmixed at the end.
    """

    Config = Conv1dConfig
    input_kind = SEQUENCE
    description = "Conv1d AE, shared convolutions per feature"
    MAX_POSITIONS = 500  # per sample, over the features read: the lab's 10 features x 50 steps

    @classmethod
    def adapt(cls, settings: dict, shape: dict) -> dict:
        """At most MAX_READ_FEATURES features read (`mixed`) and patches wide enough that they span at most
        MAX_POSITIONS positions together: the time of a step grows with both, since every feature's sequence is a
        sequence of the batch. Read step by step, 370 sequences of 2,709 steps took 124-159 s for the budget's
        1,000 steps on 2 cores (0.15 s per batch of 64) and 204 of 405 steps x 61 features 1.7 s per batch."""
        mixed = mixed_features(settings, shape["n_features"])
        most = max(8, cls.MAX_POSITIONS // (mixed or shape["n_features"]))  # 8: never fewer than 4 positions
        widest = math.ceil(shape["seq_len"] / most)
        return {**settings, "patch": max(settings.get("patch", 1), widest), "mixed": mixed}

    def __init__(self, config: Conv1dConfig):
        super().__init__(config)
        c, w = config, config.channels
        self.read = c.mixed or c.n_features  # F' in the shapes below: the features the convolutions read
        n = -(-c.seq_len // c.patch)  # positions, P in the shapes below (T when patch is 1)
        self.lengths = [n, math.ceil(n / 2), math.ceil(n / 4)]
        self.encoder = nn.Sequential(
            nn.Conv1d(c.patch, w, 5, stride=2, padding=2),
            nn.GELU(),  # (B*F', patch, P) -> (B*F', w, P/2)
            nn.Conv1d(w, 2 * w, 5, stride=2, padding=2),
            nn.GELU(),  # -> (B*F', 2w, P/4)
            nn.Flatten(),
            nn.Linear(2 * w * self.lengths[2], c.hidden),
            nn.GELU(),  # -> (B*F', hidden)
        )
        self.to_latent = nn.Linear(self.read * c.hidden, c.latent_dim)
        self.from_latent = nn.Linear(c.latent_dim, self.read * c.hidden)
        self.expand = nn.Sequential(  # (B*F', hidden) -> (B*F', 2w * P/4)
            nn.GELU(),
            nn.Linear(c.hidden, 256),
            nn.GELU(),
            nn.Linear(256, 2 * w * self.lengths[2]),
            nn.GELU(),
        )
        self.up1 = nn.Sequential(nn.Conv1d(2 * w, w, 5, padding=2), nn.GELU())
        self.up2 = nn.Sequential(nn.Conv1d(w, w, 5, padding=2), nn.GELU(), nn.Conv1d(w, c.patch, 5, padding=2))
        self.mix_in, self.mix_out = mixing_layers(c)  # (B, T, F) <-> (B, T, F'), or None

    def encode(self, x):  # (B, T, F) -> (B, latent_dim)
        c = self.config
        per_feature = series_per_feature(x, self.mix_in, self.lengths[0] * c.patch)  # (B*F', P*patch)
        summaries = self.encoder(_to_patches(per_feature, c.patch))  # (B*F', hidden)
        return self.with_pca_code(x, self.to_latent(summaries.reshape(-1, self.read * c.hidden)))

    def decode(self, z):  # (B, latent_dim) -> (B, T, F)
        c = self.config
        codes = self.from_latent(z).reshape(-1, c.hidden)  # (B*F', hidden)
        h = self.expand(codes).reshape(-1, 2 * c.channels, self.lengths[2])
        h = self.up1(F.interpolate(h, size=self.lengths[1], mode="linear", align_corners=False))
        h = self.up2(F.interpolate(h, size=self.lengths[0], mode="linear", align_corners=False))  # (B*F', patch, P)
        curves = _from_patches(h)  # (B*F', P*patch)
        if curves.shape[1] > c.seq_len:  # the last patch's padding
            curves = curves[:, : c.seq_len]
        curves = curves.reshape(-1, self.read, c.seq_len).transpose(1, 2)  # (B, T, F')
        return self.with_pca_reconstruction(z, curves if self.mix_out is None else self.mix_out(curves))

    def branch_outputs(self):
        return [self.to_latent, self.up2[-1] if self.mix_out is None else self.mix_out]


def _to_patches(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, P * patch) -> (N, patch, P): each position's consecutive steps as its channels. A patch of 1 is a plain
    channel axis, laid out as it always was (a transposed view of it runs other convolution kernels, with results
    that differ in the last bits)."""
    if patch == 1:
        return x.unsqueeze(1)
    return x.unflatten(1, (-1, patch)).transpose(1, 2).contiguous()  # not view(len(x), ...): ONNX keeps B free


def _from_patches(h: torch.Tensor) -> torch.Tensor:
    """(N, patch, P) -> (N, P * patch), the inverse of `_to_patches`."""
    return h.flatten(1) if h.shape[1] == 1 else h.transpose(1, 2).flatten(1)
