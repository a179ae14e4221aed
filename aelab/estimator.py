"""`AutoencoderTransformer`: an autoencoder as a scikit-learn transformer.

Inputs are NumPy arrays in the model's layout: images (N, C, H, W) in [0, 1], sequences (N, T, F)
(scaled per feature with the training statistics, like the CLI). `transform` gives the codes,
`inverse_transform` the reconstructions, `score` the negative reconstruction MSE.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .data.augment import get_augmentation
from .data.images import validate_image_values
from .data.normalization import Standardizer
from .errors import AelabError
from .evaluate import decode, encode, per_sample_mse, reconstruct
from .experiment import new_model
from .kinds import IMAGE, SEQUENCE, TABLE
from .models import default_model, model_class
from .presets import train_config, training_budget
from .run import load_run, run_config, save_model
from .train import Trainer


class AutoencoderTransformer(TransformerMixin, BaseEstimator):
    def __init__(
        self,
        model: str = "auto",
        latent_dim: int = 32,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        preset: str = "lab",
        val_fraction: float = 0.1,
        seed: int = 42,
        progress: bool = False,
    ):
        self.model = model
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.preset = preset
        self.val_fraction = val_fraction
        self.seed = seed
        self.progress = progress

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """Sequences scaled with the training statistics; images as they are."""
        return X if self.standardizer_ is None else self.standardizer_.apply(X)

    def _input(self, X) -> np.ndarray:
        """New data checked against the fitted model's input shape, then scaled like the training data."""
        return self._scale(_checked(X, self.kind_, self.model_.input_shape))

    def _model_name(self, X) -> str:
        """`model`, or for "auto" the default model of X's rank: dense for 2-D, lstm for 3-D, cnn for 4-D."""
        if self.model != "auto":
            return self.model
        kind = {2: TABLE, 3: SEQUENCE, 4: IMAGE}.get(np.ndim(X))
        if kind is None:
            raise AelabError(
                f"X: {np.ndim(X)}-D input; model='auto' takes tables (2-D), sequences (3-D) or images (4-D)"
            )
        return default_model(kind)

    def fit(self, X, y=None):
        name = self._model_name(X)
        kind = model_class(name).input_kind
        X = _checked(X, kind)
        self.kind_, self.model_name_ = kind, name
        scaled = kind in (SEQUENCE, TABLE)  # per feature, like the CLI; images stay in [0, 1]
        self.standardizer_ = Standardizer.fit(X, "X", constant_ok=kind == TABLE) if scaled else None
        Xs = self._scale(X)
        order = np.random.default_rng(self.seed).permutation(len(Xs))
        n_val = max(1, int(round(self.val_fraction * len(Xs))))
        if len(Xs) - n_val < 1:
            raise AelabError(f"X: {len(Xs)} samples are too few to hold out validation data")
        val, train = torch.from_numpy(Xs[order[:n_val]]), torch.from_numpy(Xs[order[n_val:]])
        self.model_ = new_model(name, train.numpy(), self.latent_dim, self.preset, self.seed)
        cfg = train_config(
            name, self.preset, epochs=self.epochs, lr=self.lr, seed=self.seed, batch_size=self.batch_size
        )
        cfg = replace(cfg, batch_size=min(cfg.batch_size, len(train)))
        cfg, _ = training_budget(name, cfg, len(train), epochs_given=self.epochs is not None)
        self.train_config_ = cfg.to_dict()
        self.history_ = Trainer(self.model_, cfg, progress=self.progress).fit(
            train, val, augment=get_augmentation(cfg.augment, kind)
        )
        self.model_.cpu().eval()
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return encode(self.model_, self._input(X))

    def inverse_transform(self, Z) -> np.ndarray:
        check_is_fitted(self, "model_")
        Z = np.asarray(Z, dtype=np.float32)
        if Z.ndim != 2 or Z.shape[1] != self.model_.latent_dim:
            raise AelabError(f"Z: codes must have shape (N, {self.model_.latent_dim}), got {Z.shape}")
        x_hat = decode(self.model_, Z)
        return x_hat if self.standardizer_ is None else self.standardizer_.invert(x_hat)

    def score(self, X, y=None) -> float:
        """Negative reconstruction MSE (on the scaled data), so that greater is better."""
        check_is_fitted(self, "model_")
        Xs = self._input(X)
        return -float(np.mean(per_sample_mse(Xs, reconstruct(self.model_, Xs))))

    def save(self, path) -> None:
        """Write a run directory (config.json + model.safetensors) that `load` and `aelab encode` read."""
        check_is_fitted(self, "model_")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_model(
            path,
            run_config(
                self.model_,
                normalization=self.standardizer_,
                train=self.train_config_,
                preset=self.preset,
                estimator_params=self.get_params(),
            ),
            self.model_,
        )

    @classmethod
    def load(cls, path) -> AutoencoderTransformer:
        run = load_run(path)
        params = run.config.get("estimator_params") or {
            "model": run.config["model"],
            "latent_dim": run.model.latent_dim,
        }
        est = cls(**params)
        est.model_, est.kind_, est.standardizer_ = run.model, run.input_kind, run.normalization
        est.model_name_ = run.config["model"]
        est.train_config_ = run.config.get("train")
        return est


def _checked(X, kind: str, fitted_shape: tuple | None = None) -> np.ndarray:
    """X as float32, or an AelabError saying what is wrong with it (before torch sees it)."""
    try:
        X = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise AelabError(f"X: not a numeric array ({exc})") from None
    sample = X.shape[1:]
    if kind == IMAGE and len(sample) == 3 and sample[-1] in (1, 3) and sample[0] not in (1, 3):
        raise AelabError(
            f"X: images of shape {X.shape} look channels-last; the estimator takes (N, C, H, W), "
            "e.g. X.transpose(0, 3, 1, 2)"
        )
    if fitted_shape is not None and sample != tuple(fitted_shape):
        raise AelabError(f"X: samples of shape {sample}, but the model was fitted on {tuple(fitted_shape)}")
    if kind == IMAGE:
        validate_image_values(X, "X")
    elif not np.isfinite(X).all():
        raise AelabError("X: contains NaN or inf")
    return X
