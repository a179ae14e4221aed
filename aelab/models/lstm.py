"""LSTM sequence autoencoders: the lab's topology (`lstm-seed`) and the default (`lstm`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import AelabError
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
class LSTMConfig:
    seq_len: int = 50
    n_features: int = 10
    latent_dim: int = 20
    hidden: int = 64
    patch: int = 1  # steps read per LSTM step (the default `lstm` reads 5: 5x fewer sequential steps)
    init: str = "random"  # "pca": start as the training split's PCA (`lstm` only; see Autoencoder)
    mixed: int = 0  # features first mixed linearly into this many (`lstm` on many-feature data); 0: read each

    MAY_BE_ZERO = ("mixed",)

    def __post_init__(self):
        check_whole_numbers(self)
        if self.seq_len < 2:
            raise AelabError(f"sequences need at least 2 steps, got {self.seq_len}")
        check_mixed(self)
        check_latent(self, self.seq_len * self.n_features)


UNSEEDED_SETTINGS = ("hidden", "patch", "mixed")  # LSTMConfig fields only the default `lstm` reads


@register("lstm-seed")
class SeedLSTMAutoencoder(Autoencoder):
    """The notebook's Keras model: LSTM 64 -> LSTM 32 (last step) -> Dense latent -> repeat T ->
    LSTM 32 -> LSTM 64 -> Dense F per step.

    It uses PyTorch's standard tanh LSTM: the notebook's `activation='relu'` LSTMs have no fused kernel and
    train unstably. PyTorch keeps two bias vectors per LSTM, so it has 65,310 parameters where Keras had 64,542.
    """

    Config = LSTMConfig
    input_kind = SEQUENCE
    description = "LSTM AE (the notebook's)"
    notes = (
        "The notebook's topology, trained as it was (Adam 1e-3, 30 epochs, batch 64), but with PyTorch's "
        "standard tanh LSTM: the notebook's `activation='relu'` LSTMs have no fused kernel and train "
        "unstably. PyTorch keeps two bias vectors per LSTM, so it has 65,310 parameters where Keras had 64,542."
    )
    seed_replica = True

    def __init__(self, config: LSTMConfig):
        super().__init__(config)
        c = config
        # The notebook's layers are fixed: the default lstm's settings in the shared config would go unused here
        defaults = {f.name: f.default for f in dataclasses.fields(LSTMConfig)}
        unused = [f"{name}={getattr(c, name)!r}" for name in UNSEEDED_SETTINGS if getattr(c, name) != defaults[name]]
        if unused:
            raise AelabError(f"lstm-seed keeps the notebook's layers and takes no {', '.join(unused)} (lstm does)")
        self.enc1 = nn.LSTM(c.n_features, 64, batch_first=True)
        self.enc2 = nn.LSTM(64, 32, batch_first=True)
        self.to_latent = nn.Linear(32, c.latent_dim)
        self.dec1 = nn.LSTM(c.latent_dim, 32, batch_first=True)
        self.dec2 = nn.LSTM(32, 64, batch_first=True)
        self.out = nn.Linear(64, c.n_features)
        self._keras_init()

    def _keras_init(self):
        """Keras' LSTM defaults: Glorot-uniform input kernels, orthogonal recurrent kernels, zero biases but
        a forget-gate bias of 1 (unit_forget_bias; PyTorch gate order is input, forget, cell, output)."""
        for lstm in (self.enc1, self.enc2, self.dec1, self.dec2):
            hidden = lstm.hidden_size
            nn.init.xavier_uniform_(lstm.weight_ih_l0)  # (4h, in): Keras' (in, 4h) kernel, transposed
            nn.init.orthogonal_(lstm.weight_hh_l0)
            nn.init.zeros_(lstm.bias_ih_l0)
            nn.init.zeros_(lstm.bias_hh_l0)
            lstm.bias_ih_l0.data[hidden : 2 * hidden] = 1.0
        for linear in (self.to_latent, self.out):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    def encode(self, x):  # (B, T, F) -> (B, latent_dim)
        h, _ = self.enc1(x)
        _, (last, _) = self.enc2(h)
        return self.to_latent(last[-1])

    def decode(self, z):  # (B, latent_dim) -> (B, T, F)
        h, _ = self.dec1(z.unsqueeze(1).expand(-1, self.config.seq_len, -1).contiguous())
        h, _ = self.dec2(h)
        return self.out(h)


@register("lstm")
class FeatureLSTMAutoencoder(Autoencoder):
    """Each feature is read by one shared LSTM; a linear layer mixes the F summaries into the latent.

    Sharing weights across features turns a batch of B sequences into B*F univariate ones, so the LSTM
    learns one dynamic well instead of F entangled ones; the linear mixing keeps any latent size and
    lets correlated features share codes. The LSTMs read and write `patch` steps at a time, which cuts
    the sequential work (the bottleneck on CPUs) by that factor. The decoder mirrors the encoder: the
    latent is unmixed into one code per feature, and a shared LSTM, told each patch's position,
    unrolls that feature's curve. Data of more than MAX_READ_FEATURES features is mixed into that many first
    (`mixed`) and unmixed at the end.
    """

    Config = LSTMConfig
    input_kind = SEQUENCE
    description = "LSTM AE, one shared LSTM per feature"
    default = True
    MAX_RECURRENT_STEPS = 20  # the lab's 50-step sequences take 10 patches of 5; longer ones take wider patches
    MAX_CELL_STEPS = 100  # recurrent steps per sample over the features read: the lab's 10 features x 10 patches

    @classmethod
    def adapt(cls, settings: dict, shape: dict) -> dict:
        """At most MAX_READ_FEATURES features read (`mixed`) and patches wide enough that the LSTMs run at most
        MAX_RECURRENT_STEPS sequential steps, and MAX_CELL_STEPS over the features read: time per batch grows with
        both (a 1,460-step series in patches of 5 took 0.7 s per batch on 2 cores; 61 features of 405 steps in
        patches of 9, 0.66 s). The decoder also draws a long curve better from fewer, wider patches: at most 50
        steps, the lstm ended at 0.76-0.81x PCA-20's test MSE on 500 ECG-like beats of 200 steps and 0.835x on the
        lab's generator at 200 steps x 3 features (`synthetic-200`), at most 20 at 0.43-0.44x and 0.719x (probe
        23.2% where PCA's is 14.3%, 27.7% before), in less time; sequences of at most 100 steps, and runs that keep
        their PCA start (the small UCR sets), are as before (`benchmarks/results/lstm-recurrent-steps-default.json`).
        At most 10 steps cost synthetic-200's probe more (18.5%) for no further gain."""
        mixed = mixed_features(settings, shape["n_features"])
        most = max(2, min(cls.MAX_RECURRENT_STEPS, cls.MAX_CELL_STEPS // (mixed or shape["n_features"])))
        widest = math.ceil(shape["seq_len"] / most)
        return {**settings, "patch": max(settings.get("patch", 1), widest), "mixed": mixed}

    def __init__(self, config: LSTMConfig):
        super().__init__(config)
        c = config
        self.n_patches = -(-c.seq_len // c.patch)
        self.encoder = nn.LSTM(c.patch, c.hidden, batch_first=True)
        self.read = c.mixed or c.n_features  # the features the LSTMs read
        self.to_latent = nn.Linear(self.read * c.hidden, c.latent_dim)
        self.from_latent = nn.Linear(c.latent_dim, self.read * c.hidden)
        self.decoder = nn.LSTM(c.hidden + 1, c.hidden, batch_first=True)
        self.out = nn.Linear(c.hidden, c.patch)
        self.register_buffer("positions", torch.linspace(-1, 1, self.n_patches).view(1, -1, 1), persistent=False)
        self.mix_in, self.mix_out = mixing_layers(c)  # (B, T, F) <-> (B, T, F'), or None

    def encode(self, x):  # (B, T, F) -> (B, latent_dim)
        c = self.config
        per_feature = series_per_feature(x, self.mix_in, self.n_patches * c.patch)  # (B*F', n_patches*patch)
        _, (last, _) = self.encoder(per_feature.view(-1, self.n_patches, c.patch))  # last: (1, B*F', hidden)
        return self.with_pca_code(x, self.to_latent(last[-1].reshape(-1, self.read * c.hidden)))

    def decode(self, z):  # (B, latent_dim) -> (B, T, F)
        c = self.config
        codes = self.from_latent(z).reshape(-1, 1, c.hidden)  # (B*F', 1, hidden)
        steps = torch.cat([codes.expand(-1, self.n_patches, -1), self.positions.expand(codes.shape[0], -1, -1)], dim=2)
        h, _ = self.decoder(steps)  # (B*F', n_patches, hidden)
        curves = self.out(h).reshape(-1, self.read, self.n_patches * c.patch)[:, :, : c.seq_len].transpose(1, 2)
        return self.with_pca_reconstruction(z, curves if self.mix_out is None else self.mix_out(curves))  # (B, T, F)

    def branch_outputs(self):
        return [self.to_latent, self.out if self.mix_out is None else self.mix_out]
