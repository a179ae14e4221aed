"""What every autoencoder shares: a frozen config, `encode`, `decode`, and a registry entry."""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import torch
from torch import nn

from ..errors import AelabError, ConfigError
from ..kinds import IMAGE, SEQUENCE, TABLE

INITS = ("random", "pca")


# Sequence models that read each feature on its own (lstm, conv1d) pay for every feature as for one more sequence of
# the batch; data of more features is first mixed linearly into this many (204 sequences of 61 features took the
# lstm 0.66 s and conv1d 1.7 s per batch on 2 cores, 11-28 minutes for the budget's 1,000 steps)
MAX_READ_FEATURES = 16


def mixed_features(settings: dict, n_features: int) -> int:
    """The `mixed` a sequence model's `adapt` sets: as given in `settings`, else MAX_READ_FEATURES for data of more
    features, else 0 (each feature read on its own)."""
    return settings.get("mixed", MAX_READ_FEATURES if n_features > MAX_READ_FEATURES else 0)


def check_mixed(config) -> None:
    """A sequence config's `mixed`: 0 (each feature read on its own) or 1..n_features features mixed into (a whole
    number, 0 or more: `check_whole_numbers`)."""
    mixed = config.mixed
    if mixed > config.n_features:
        raise ConfigError("mixed", f"must be 0 or a whole number up to the {config.n_features} features, got {mixed!r}")


def mixing_layers(config) -> tuple[nn.Linear | None, nn.Linear | None]:
    """(B, T, F) -> (B, T, mixed) and back, for a config that mixes its features (`mixed` > 0), else (None, None).
    Made after every other layer, so that a model that does not mix draws its weights as it always did."""
    if not config.mixed:
        return None, None
    return nn.Linear(config.n_features, config.mixed), nn.Linear(config.mixed, config.n_features)


def series_per_feature(x: torch.Tensor, mix_in: nn.Linear | None, length: int) -> torch.Tensor:
    """(B, T, F) -> (B*F', length): the series of each feature a model reads (mixed into F' by `mix_in` first where
    it mixes), extended to `length` steps (whole patches) by repeating its last value, so that the final patch
    carries no artificial jump."""
    read = x if mix_in is None else mix_in(x)  # (B, T, F')
    per_feature = read.transpose(1, 2).reshape(-1, x.shape[1])  # (B*F', T)
    pad = length - x.shape[1]
    if pad:
        per_feature = torch.cat([per_feature, per_feature[:, -1:].expand(-1, pad)], dim=1)
    return per_feature


class PCAPath(nn.Module):
    """The linear path of a PCA-anchored autoencoder: `down(x) = P (x - mean)`, `up(z) = P^T z + mean` once
    `set_pca` has been called (P: the top principal axes of the training split). Both layers keep training."""

    def __init__(self, input_dim: int, latent_dim: int):
        super().__init__()
        self.down = nn.Linear(input_dim, latent_dim)
        self.up = nn.Linear(latent_dim, input_dim)

    @torch.no_grad()
    def set_pca(self, mean: np.ndarray, components: np.ndarray) -> None:
        """`components`: (k, input_dim) with k <= latent_dim (fewer when the data has fewer samples); the
        remaining code dimensions start unused."""
        k = len(components)
        mean_t, axes = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(components, dtype=torch.float32)
        self.down.weight.zero_()
        self.down.weight[:k] = axes
        self.down.bias.copy_(-self.down.weight @ mean_t)
        self.up.weight.copy_(self.down.weight.T)
        self.up.bias.copy_(mean_t)


class Autoencoder(nn.Module):
    """`encode(x) -> z` of shape (B, latent_dim); `decode(z) -> x_hat` shaped like x.

    Subclasses set `Config` (a frozen dataclass that checks itself in `__post_init__`), `input_kind` (an
    `aelab.kinds` name), `description` (one line) and, for bounded data, `output_range`: outputs are clamped to it
    in eval mode only, so training keeps its gradients. `notes`, `default` and `seed_replica` are registry metadata
    (see `aelab.models.registry`).

    PCA anchoring (`config.init == "pca"`, for models that list their `branch_outputs`): the model gets a linear
    `pca_path` beside its own layers, and `encode`/`decode` add it through `with_pca_code`/`with_pca_reconstruction`.
    `anchor_to_pca` sets that path to the training split's PCA and zeroes the last layer of each non-linear branch,
    so that at step 0 the model *is* PCA; training can only move it where the validation loss says it is better
    (the trainer keeps the initial weights as a candidate for the best).
    """

    Config: type
    input_kind: str
    description: str
    notes: str | None = None
    default: bool = False
    seed_replica: bool = False
    output_range: tuple[float, float] | None = None

    @classmethod
    def default_latent(cls, sample_shape: tuple[int, ...]) -> int:
        """The latent size for samples of `sample_shape` when none is asked for: the config's default, at most half
        the values of a sample (a 5-step univariate sequence gets 2, a 4x4 grayscale image 8)."""
        default = cls.Config.__dataclass_fields__["latent_dim"].default
        return min(default, max(1, math.prod(sample_shape) // 2))

    def __init__(self, config):
        super().__init__()
        self.config = config
        if hasattr(config, "init"):
            check_init(config, self.seed_replica)
        anchored = getattr(config, "init", "random") == "pca"
        self.pca_path = PCAPath(math.prod(self.input_shape), config.latent_dim) if anchored else None

    @classmethod
    def adapt(cls, settings: dict, shape: dict) -> dict:
        """Settings sized for inputs of `shape` (the config's shape fields): a model whose cost or capacity
        depends on the input's size overrides this, so that its sizes derive from the data, not the lab's shapes."""
        return settings

    @classmethod
    def can_start_from_pca(cls) -> bool:
        return cls.branch_outputs is not Autoencoder.branch_outputs

    def branch_outputs(self) -> list[nn.Module]:
        """The last layer of the encoder's and of the decoder's non-linear branch (zeroed by `anchor_to_pca`)."""
        raise ConfigError("init", f"model {self.name!r} cannot start from PCA; use init 'random'")

    @torch.no_grad()
    def anchor_to_pca(self, mean: np.ndarray, components: np.ndarray) -> None:
        if self.pca_path is None:
            raise ConfigError("init", f"model {self.name!r} was built with init 'random'")
        self.pca_path.set_pca(mean, components)
        for layer in self.branch_outputs():
            layer.weight.zero_()
            if layer.bias is not None:
                layer.bias.zero_()

    def with_pca_code(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The branch's code `z` plus, for an anchored model, the PCA path's projection of x."""
        return z if self.pca_path is None else z + self.pca_path.down(x.flatten(1))

    def with_pca_reconstruction(self, z: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        """The branch's reconstruction plus, for an anchored model, the PCA path's."""
        return x_hat if self.pca_path is None else x_hat + self.pca_path.up(z).view_as(x_hat)

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
        if self.input_kind == IMAGE:
            return (c.channels, c.height, c.width)
        return (c.seq_len, c.n_features) if self.input_kind == SEQUENCE else (c.n_features,)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim


SHAPE_FIELDS = {IMAGE: ("channels", "height", "width"), TABLE: ("n_features",), SEQUENCE: ("seq_len", "n_features")}


def sample_shape(model_class, config: dict) -> tuple[int, ...]:
    """The shape of one sample (no batch axis) that a model of `model_class` built from `config` fields takes, the
    config's defaults filling fields not given (the inverse of `shape_config`)."""
    fields = {f.name: f.default for f in dataclasses.fields(model_class.Config)} | config
    return tuple(fields[name] for name in SHAPE_FIELDS[model_class.input_kind])


def shape_config(input_kind: str, sample_shape: tuple[int, ...]) -> dict:
    """The config fields that describe one input sample, from its array shape (without the batch axis)."""
    if len(sample_shape) != len(SHAPE_FIELDS[input_kind]):
        expected = {IMAGE: "(C, H, W) samples", TABLE: "rows of (F,) values", SEQUENCE: "(T, F) samples"}[input_kind]
        raise AelabError(f"{input_kind} models take {expected}, the data has samples of shape {sample_shape}")
    return dict(zip(SHAPE_FIELDS[input_kind], sample_shape, strict=True))


def check_init(config, seed_replica: bool = False) -> None:
    if config.init not in INITS:
        raise ConfigError("init", f"unknown init {config.init!r}; choose from {', '.join(INITS)}")
    if seed_replica and config.init != "random":
        raise ConfigError("init", "the seed replicas start as the notebook's models did: init 'random' only")


def check_whole_numbers(config) -> None:
    """Every `int` field of a (frozen) model config a whole number, NumPy's kept as int, and positive, or 0 or more
    where 0 means something (the config's `MAY_BE_ZERO`); every `str` field text. The first check of each config:
    through `create_model` a float or a string reached torch (`seq_len='50'`: "unsupported operand type(s) for //"),
    and `hidden=0` built layers of no size that trained to nothing or stopped in torch's "hidden_size must be greater
    than zero"."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.type == "int":
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise ConfigError(field.name, f"must be a whole number, got {value!r}")
            if field.name in getattr(config, "MAY_BE_ZERO", ()):
                if value < 0:
                    raise ConfigError(field.name, f"must be 0 or more, got {value}")
            elif value < 1:
                raise ConfigError(field.name, f"must be positive, got {value}")
            object.__setattr__(config, field.name, int(value))
        elif field.type == "str" and not isinstance(value, str):
            raise ConfigError(field.name, f"must be text, got {value!r}")


def check_latent(config, input_dim: int) -> None:
    if config.latent_dim > input_dim:
        raise ConfigError("latent_dim", f"{config.latent_dim} exceeds the {input_dim} values per sample")


def config_dict(config) -> dict:
    return dataclasses.asdict(config)
