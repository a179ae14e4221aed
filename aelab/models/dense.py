"""`dense`: an MLP autoencoder for tables, one row of standardised columns per sample."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from torch import nn

from ..kinds import TABLE
from .base import Autoencoder, check_latent, check_whole_numbers
from .registry import register


def default_table_latent(n_features: int) -> int:
    """The latent size a table gets when none is asked for: 8, or fewer for narrow tables (at most F - 1)."""
    return max(1, min(8, n_features - 1))


def default_hidden_width(n_features: int) -> int:
    """Twice the columns, within [32, 512]: wide enough to bend every column, small enough for tiny tables."""
    return min(512, max(32, 2 * n_features))


@dataclass(frozen=True)
class DenseConfig:
    n_features: int = 16
    latent_dim: int = 8
    hidden: int = 0  # width of the first hidden layer; 0: derived from n_features (see `hidden_width`)
    init: str = "pca"  # start as the training split's PCA: a table model must never do worse than PCA

    MAY_BE_ZERO = ("hidden",)

    def __post_init__(self):
        check_whole_numbers(self)
        check_latent(self, self.n_features)

    @property
    def hidden_width(self) -> int:
        return self.hidden or default_hidden_width(self.n_features)


@register("dense")
class DenseAutoencoder(Autoencoder):
    """F -> h -> h/2 -> latent -> h/2 -> h -> F with GELU, beside a linear PCA path.

    Starting from PCA (the default `init`) the non-linear branch adds only what the validation loss rewards, so
    on tables where PCA is already right the model stays PCA instead of losing to it.
    """

    Config = DenseConfig
    input_kind = TABLE
    description = "MLP AE beside a PCA path"
    default = True

    # Weights in the first (and the last) layer at most: F x h. At the config's h = 512, 20,000 columns made 10
    # million each, and 80 training rows took 459 s on 2 cores for the budget's 1,000 steps (two starts) to end where
    # PCA is; at this cap (h = 100) 70 s, to the same weights. Wider data lost nothing: 2,500 x 5,000 (h = 400) 0.550x
    # PCA-8 vs 0.551x, 6,000 x 4,000 (h = 500) 0.457x vs 0.459x (benchmarks/results/wide-tables.json). Tables of up to
    # 3,906 columns keep the config's width.
    MAX_LAYER_WEIGHTS = 2_000_000

    @classmethod
    def default_latent(cls, sample_shape: tuple[int, ...]) -> int:
        return default_table_latent(sample_shape[0])

    @classmethod
    def adapt(cls, settings: dict, shape: dict) -> dict:
        """A first hidden layer of at most MAX_LAYER_WEIGHTS / F units for wide tables (gene expression, spectra),
        at least 32 and twice the latent size, saved in the config as `hidden`; a width asked for is kept."""
        cap = cls.MAX_LAYER_WEIGHTS // shape["n_features"]
        if settings.get("hidden") or cap >= default_hidden_width(shape["n_features"]):
            return settings
        latent = settings.get("latent_dim", DenseConfig.latent_dim)
        twice_the_code = 2 * latent if isinstance(latent, numbers.Integral) else 0  # else the config names it
        return {**settings, "hidden": max(32, twice_the_code, cap)}

    def __init__(self, config: DenseConfig):
        super().__init__(config)
        c, h = config, config.hidden_width
        self.encoder = nn.Sequential(
            nn.Linear(c.n_features, h), nn.GELU(),  # (B, F) -> (B, h)
            nn.Linear(h, h // 2), nn.GELU(),  # -> (B, h/2)
            nn.Linear(h // 2, c.latent_dim),  # -> (B, latent_dim)
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(c.latent_dim, h // 2), nn.GELU(),  # (B, latent_dim) -> (B, h/2)
            nn.Linear(h // 2, h), nn.GELU(),  # -> (B, h)
            nn.Linear(h, c.n_features),  # -> (B, F)
        )  # fmt: skip

    def encode(self, x):  # (B, F) -> (B, latent_dim)
        return self.with_pca_code(x, self.encoder(x))

    def decode(self, z):  # (B, latent_dim) -> (B, F)
        return self.with_pca_reconstruction(z, self.decoder(z))

    def branch_outputs(self):
        return [self.encoder[-1], self.decoder[-1]]
