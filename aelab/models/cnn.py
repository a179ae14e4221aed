"""Convolutional image autoencoders: the lab's topology (`cnn-seed`) and the default (`cnn`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import AelabError
from .base import IMAGE, Autoencoder, check_latent
from .registry import register


@dataclass(frozen=True)
class ConvConfig:
    channels: int = 3
    height: int = 32
    width: int = 32
    latent_dim: int = 32
    width_mult: int = 64  # channels of the first stage; the second has twice as many

    def __post_init__(self):
        if self.height % 4 or self.width % 4 or self.height < 4 or self.width < 4:
            raise AelabError(
                f"image size {self.height}x{self.width} is not supported: height and width must be multiples of 4 "
                "(e.g. 8x8, 28x28, 32x32)"
            )
        if self.channels not in (1, 3):
            raise AelabError(f"images must have 1 or 3 channels, got {self.channels}")
        check_latent(self, self.channels * self.height * self.width)


@register("cnn-seed")
class SeedConvAutoencoder(Autoencoder):
    """The notebook's Keras model, layer for layer (590,819 parameters at 32x32x3, latent 32).

    Conv 32 -> pool -> Conv 64 -> pool -> Conv 128 -> global average pool -> Dense latent;
    Dense (H/4)(W/4)128 -> ConvT 128 -> up x2 -> ConvT 64 -> up x2 -> ConvT C + sigmoid.
    """

    Config = ConvConfig
    input_kind = IMAGE
    output_range = (0.0, 1.0)

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        c = config
        self.grid = (c.height // 4, c.width // 4)
        self.encoder = nn.Sequential(
            nn.Conv2d(c.channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(128, c.latent_dim),
        )
        self.expand = nn.Sequential(nn.Linear(c.latent_dim, 128 * self.grid[0] * self.grid[1]), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(128, 128, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(128, 64, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(64, c.channels, 3, padding=1), nn.Sigmoid(),
        )

    def encode(self, x):  # (B, C, H, W) -> (B, latent_dim)
        return self.encoder(x)

    def decode(self, z):  # (B, latent_dim) -> (B, C, H, W)
        return self.decoder(self.expand(z).view(-1, 128, *self.grid))


def _stage(c_in, c_out, transpose=False):
    conv = nn.ConvTranspose2d if transpose else nn.Conv2d
    return nn.Sequential(conv(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU())


@register("cnn")
class ConvAutoencoder(Autoencoder):
    """A linear (PCA-initialised) path and a strided conv path that share one latent.

    z = P (x - mean) + conv_encoder(x);  x_hat = mean + P^T z + conv_decoder(z).
    `initialize_from_data` sets P to the training set's principal axes and zeroes the last layer of each
    conv path, so training starts exactly at the PCA reconstruction and learns only what PCA misses:
    the model cannot end worse than its linear baseline, and it gets there in a fraction of the epochs.
    """

    Config = ConvConfig
    input_kind = IMAGE
    output_range = (0.0, 1.0)

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        c, w = config, config.width_mult
        self.grid = (c.height // 4, c.width // 4)
        flat, hidden = c.channels * c.height * c.width, 2 * w * self.grid[0] * self.grid[1]
        self.linear_encoder = nn.Linear(flat, c.latent_dim)
        self.linear_decoder = nn.Linear(c.latent_dim, flat)
        self.conv_encoder = nn.Sequential(
            _stage(c.channels, w), _stage(w, 2 * w),  # (B, C, H, W) -> (B, 2w, H/4, W/4)
            nn.Flatten(), nn.Linear(hidden, c.latent_dim),
        )
        self.conv_decoder_in = nn.Sequential(nn.Linear(c.latent_dim, hidden), nn.GELU())
        self.conv_decoder = nn.Sequential(
            _stage(2 * w, w, transpose=True),  # (B, 2w, H/4, W/4) -> (B, w, H/2, W/2)
            _stage(w, w, transpose=True),  # -> (B, w, H, W)
            nn.Conv2d(w, c.channels, 3, padding=1),
        )

    @torch.no_grad()
    def initialize_from_data(self, x_train):
        flat = x_train.reshape(len(x_train), -1).double()
        if len(flat) > 20_000:  # the leading axes are settled long before this many samples
            flat = flat[torch.randperm(len(flat), generator=torch.Generator().manual_seed(0))[:20_000]]
        mean = flat.mean(0)
        k = self.config.latent_dim
        centred = flat - mean
        # Exact leading principal axes, (k', D): from the D x D covariance when samples outnumber
        # dimensions (cheaper), else from the SVD of the centred data
        if len(flat) >= flat.shape[1]:
            _, vectors = torch.linalg.eigh(centred.T @ centred)
            leading = vectors.flip(1).T
        else:
            leading = torch.linalg.svd(centred, full_matrices=False)[2]
        n_axes = min(k, len(leading))
        axes = torch.zeros(k, flat.shape[1], dtype=flat.dtype)
        axes[:n_axes] = leading[:n_axes]  # fewer samples than k: the spare codes start unused
        self.linear_encoder.weight.copy_(axes)
        self.linear_encoder.bias.copy_(-(axes @ mean))
        self.linear_decoder.weight.copy_(axes.T)
        self.linear_decoder.bias.copy_(mean)
        for last in (self.conv_encoder[-1], self.conv_decoder[-1]):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def encode(self, x):  # (B, C, H, W) -> (B, latent_dim)
        return self.linear_encoder(x.flatten(1)) + self.conv_encoder(x)

    def decode(self, z):  # (B, latent_dim) -> (B, C, H, W)
        linear = self.linear_decoder(z).view(-1, *self.input_shape)
        return linear + self.conv_decoder(self.conv_decoder_in(z).view(-1, 2 * self.config.width_mult, *self.grid))
