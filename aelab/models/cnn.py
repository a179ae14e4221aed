"""Convolutional image autoencoders: the lab's topology (`cnn-seed`) and the default (`cnn`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AelabError
from ..kinds import IMAGE, IMAGE_CHANNELS, image_size_problem
from .base import Autoencoder, check_latent, check_whole_numbers
from .registry import register


@dataclass(frozen=True)
class ConvConfig:
    channels: int = 3
    height: int = 32
    width: int = 32
    latent_dim: int = 32

    def __post_init__(self):
        check_whole_numbers(self)
        if problem := image_size_problem(self.height, self.width):
            raise AelabError(problem)
        if self.channels not in IMAGE_CHANNELS:
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
    description = "Conv2d AE (the notebook's)"
    notes = (
        "The notebook's topology, trained as it was: Adam 1e-3, 25 epochs, batch 128, no schedule, no early stopping."
    )
    seed_replica = True
    output_range = (0.0, 1.0)

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        c = config
        if c.height % 4 or c.width % 4:
            raise AelabError(
                f"cnn-seed takes images whose sides are multiples of 4 (as the notebook's 32x32), got "
                f"{c.height}x{c.width}; the default cnn takes any size"
            )
        self.grid = (c.height // 4, c.width // 4)
        self.encoder = nn.Sequential(
            nn.Conv2d(c.channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(128, c.latent_dim),
        )
        self.expand = nn.Sequential(nn.Linear(c.latent_dim, 128 * self.grid[0] * self.grid[1]), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(128, 128, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(128, 64, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(64, c.channels, 3, padding=1),
            nn.Sigmoid(),
        )
        keras_init(self)

    def encode(self, x):  # (B, C, H, W) -> (B, latent_dim)
        return self.encoder(x)

    def decode(self, z):  # (B, latent_dim) -> (B, C, H, W)
        return self.decoder(self.expand(z).view(-1, 128, *self.grid))


def keras_init(model: nn.Module) -> None:
    """Keras' defaults, for faithful reproductions: Glorot-uniform kernels, zero biases."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


@dataclass(frozen=True)
class ConvAEConfig(ConvConfig):
    width_mult: int = 64  # channels after the first stride-2 stage; each further stage doubles them, to 4x at most
    res_blocks: int = 0  # residual blocks at the bottleneck, in the encoder and the decoder alike
    stages: int = 2  # stride-2 stages: the bottleneck map is (H/2^stages, W/2^stages), sides rounded up
    stem: int = 0  # channels of the two full-resolution layers (the first convolution, the last stage); 0: w/2
    init: str = "random"  # "pca": start as the training split's PCA; the output then has no sigmoid (see decode)

    MAY_BE_ZERO = ("res_blocks", "stem")  # `stages` "auto" is resolved by ConvAutoencoder.adapt, before the config


def _stage(c_in, c_out, kernel=4, stride=2, transpose=False):
    conv = nn.ConvTranspose2d if transpose else nn.Conv2d
    padding = 1 if kernel in (3, 4) else kernel // 2
    return nn.Sequential(
        conv(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
    )


class _Residual(nn.Module):
    """Two 3x3 convolutions with a skip connection, at the bottleneck resolution where they are cheap."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x):
        return torch.relu(x + self.body(x))


@register("cnn")
class ConvAutoencoder(Autoencoder):
    """Strided convolutions with batch norm down to (H/S, W/S), S = 2^stages (4 by default; both presets go down
    to a 4x4-7x7 map), optional residual blocks there, a linear bottleneck.

    Stride-2 convolutions instead of max-pooling and a flattened (not globally pooled) feature map keep the
    spatial layout the decoder needs; batch norm lets it train at a high learning rate. The default preset
    trains it with bf16 autocast (halves the time of an epoch on CPUs with AVX-512 BF16) and with flips and small
    shifts where the data passes `choose_augmentation`'s test: on CIFAR-10's 8,000 images it otherwise overfits, on
    8x8 digits they make other shapes.
    """

    Config = ConvAEConfig
    input_kind = IMAGE
    description = "Conv2d AE, strided, batch norm"
    default = True
    output_range = (0.0, 1.0)

    def __init__(self, config: ConvAEConfig):
        super().__init__(config)
        c, w = config, config.width_mult
        scale = 2**c.stages  # S in the shapes below
        # Sides that are not multiples of S are padded up to one (edge pixels repeated) and cropped back
        self.grid = (-(-c.height // scale), -(-c.width // scale))
        self.pad = (scale * self.grid[1] - c.width, scale * self.grid[0] - c.height)  # (right, bottom)
        widths = [c.stem or w // 2] + [min(w // 2 * 2**i, 4 * w) for i in range(1, c.stages + 1)]  # s, w, 2w, 4w, ...
        self.bottleneck_channels = widths[-1]  # D
        hidden = self.bottleneck_channels * self.grid[0] * self.grid[1]
        self.encoder = nn.Sequential(
            _stage(c.channels, widths[0], kernel=3, stride=1),  # (B, C, H, W) -> (B, s, H, W)
            *[_stage(widths[i], widths[i + 1]) for i in range(c.stages)],  # -> (B, w, H/2, W/2) ... (B, D, H/S, W/S)
            *[_Residual(widths[-1]) for _ in range(c.res_blocks)],
            nn.Flatten(),
            nn.Linear(hidden, c.latent_dim),
        )
        self.expand = nn.Sequential(nn.Linear(c.latent_dim, hidden), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(
            *[_Residual(widths[-1]) for _ in range(c.res_blocks)],
            # (B, D, H/S, W/S) -> ... -> (B, w, H/2, W/2) -> (B, s, H, W)
            *[_stage(widths[i + 1], widths[i], transpose=True) for i in reversed(range(c.stages))],
            nn.Conv2d(widths[0], c.channels, 3, padding=1),
            # A PCA-anchored model adds the branch to PCA's reconstruction, so the branch must be able to output 0:
            # no sigmoid there (eval mode still clamps to [0, 1] through `output_range`)
            *([nn.Sigmoid()] if c.init != "pca" else []),
        )

    @classmethod
    def adapt(cls, settings: dict, shape: dict) -> dict:
        """`stages="auto"` (the best preset's): stride-2 stages until the map's smaller side is 4-7 pixels, at
        least 2 (32x32 -> 4x4, 64x64 -> 4x4, 8x8 -> 2x2 as by default)."""
        if settings.get("stages") != "auto":
            return settings
        side = min(shape["height"], shape["width"])
        return {**settings, "stages": max(2, (side // 4).bit_length() - 1)}

    def encode(self, x):  # (B, C, H, W) -> (B, latent_dim)
        padded = F.pad(x, (0, self.pad[0], 0, self.pad[1]), mode="replicate") if any(self.pad) else x  # (S*h, S*w)
        return self.with_pca_code(x, self.encoder(padded))

    def decode(self, z):  # (B, latent_dim) -> (B, C, H, W)
        x_hat = self.decoder(self.expand(z).view(-1, self.bottleneck_channels, *self.grid))  # (B, C, S*h, S*w)
        x_hat = x_hat[:, :, : self.config.height, : self.config.width] if any(self.pad) else x_hat
        return self.with_pca_reconstruction(z, x_hat)

    def branch_outputs(self):
        return [self.encoder[-1], self.decoder[-1]]
