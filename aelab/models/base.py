"""What every autoencoder shares: a frozen config, `encode`, `decode`, and a registry entry."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..errors import AelabError, ConfigError
from ..kinds import IMAGE


class Autoencoder(nn.Module):
    """`encode(x) -> z` of shape (B, latent_dim); `decode(z) -> x_hat` shaped like x.

    Subclasses set `Config` (a frozen dataclass that checks itself in `__post_init__`), `input_kind` (an
    `aelab.kinds` name), `description` (one line) and, for bounded data, `output_range`: outputs are clamped to it
    in eval mode only, so training keeps its gradients. `notes`, `default` and `seed_replica` are registry metadata
    (see `aelab.models.registry`).
    """

    Config: type
    input_kind: str
    description: str
    notes: str | None = None
    default: bool = False
    seed_replica: bool = False
    output_range: tuple[float, float] | None = None

    def __init__(self, config):
        super().__init__()
        self.config = config

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bounded(self.decode(self.encode(x)))

    def bounded(self, x_hat: torch.Tensor) -> torch.Tensor:
        """A decoded output clamped to `output_range` in eval mode; untouched while training."""
        if self.output_range is not None and not self.training:
            return x_hat.clamp(*self.output_range)
        return x_hat

    @property
    def input_shape(self) -> tuple[int, ...]:
        c = self.config
        return (c.channels, c.height, c.width) if self.input_kind == IMAGE else (c.seq_len, c.n_features)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim


def shape_config(input_kind: str, sample_shape: tuple[int, ...]) -> dict:
    """The config fields that describe one input sample, from its array shape (without the batch axis)."""
    if input_kind == IMAGE:
        if len(sample_shape) != 3:
            raise AelabError(f"image models take (C, H, W) samples, the data has {sample_shape}")
        channels, height, width = sample_shape
        return dict(channels=channels, height=height, width=width)
    if len(sample_shape) != 2:
        raise AelabError(f"sequence models take (T, F) samples, the data has {sample_shape}")
    seq_len, n_features = sample_shape
    return dict(seq_len=seq_len, n_features=n_features)


def check_latent(config, input_dim: int) -> None:
    if config.latent_dim <= 0:
        raise ConfigError("latent_dim", f"must be positive, got {config.latent_dim}")
    if config.latent_dim > input_dim:
        raise ConfigError("latent_dim", f"{config.latent_dim} exceeds the {input_dim} values per sample")


def config_dict(config) -> dict:
    return dataclasses.asdict(config)
