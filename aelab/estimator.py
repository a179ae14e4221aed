"""Autoencoders as scikit-learn estimators: `AutoencoderTransformer` (codes) and `AutoencoderOutlierDetector`
(reconstruction error as an outlier score). Both pass scikit-learn's `check_estimator`.

Inputs are arrays in the model's layout: tables (N, F), sequences (N, T, F), images (N, C, H, W) in [0, 1].
Tables and sequences are standardised per feature with the training statistics, like the CLI does. Models are
built, sized, PCA-anchored and given their training budget exactly as by `aelab train`.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, OutlierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .data.augment import check_applies
from .data.images import validate_image_values
from .data.normalization import Standardizer
from .data.npy import numeric_float32
from .data.sequences import check_padding
from .data.spec import check_seed
from .errors import AelabError, ConfigError
from .evaluate import decode, encode, per_sample_mae, per_sample_mse, reconstruct
from .experiment import NewModel, new_model, pca_unless_beaten, random_start_unless_beaten
from .kinds import IMAGE, IMAGE_CHANNELS, SEQUENCE, TABLE
from .models import default_model, model_class
from .padding import fit_length, padded_list
from .presets import default_init, train_config, training_budget
from .run import load_run, load_weights, run_config, save_model, save_weights
from .train import Trainer

KIND_OF_RANK = {2: TABLE, 3: SEQUENCE, 4: IMAGE}
ERRORS = {"mae": per_sample_mae, "mse": per_sample_mse}  # a detector's per-sample error, by its saved name
SCORE_BLOCK = 64  # rows per forward pass when a detector scores (see AutoencoderOutlierDetector._errors)
RANK_OF_KIND = {kind: rank for rank, kind in KIND_OF_RANK.items()}


SAVED_FILE = re.compile(r"config\.json|model\.safetensors|fold-\d+\.safetensors")  # what `save` writes


class _Autoencoder(BaseEstimator):
    """What both estimators share: parameters, input checks, fitting, save/load.

    `model`: a registered name, or "auto" (by X's rank: dense for 2-D, lstm for 3-D, cnn for 4-D). `latent_dim`:
    None for the model's default. `epochs`: None for the training budget (at least 1,000 optimizer steps);
    `max_steps`: a cap on the optimizer steps (for quick fits, e.g. in tests). `augment`: None for the preset's
    ("auto" for cnn, lstm and conv1d: chosen from the data, as `aelab train` does), "none", or a name in
    `aelab.data.augment.AUGMENTATIONS` made for X's kind. After `fit`, `pca_fallback_` says whether a model
    trained from random weights did not clearly beat PCA on the held-out rows and was replaced by its PCA-anchored
    twin, as `aelab train` does (`aelab.experiment.pca_unless_beaten`); `random_start_` whether a model anchored to
    PCA that training did not move was replaced by the same model trained from random weights, clearly better on
    the held-out rows (`aelab.experiment.random_start_unless_beaten`; the transformer only).
    """

    _second_start = True

    def __init__(
        self,
        model: str = "auto",
        latent_dim: int | None = None,
        epochs: int | None = None,
        max_steps: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        preset: str = "lab",
        augment: str | None = None,
        val_fraction: float = 0.1,
        seed: int = 42,
        progress: bool = False,
    ):
        self.model = model
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.preset = preset
        self.augment = augment
        self.val_fraction = val_fraction
        self.seed = seed
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # seeded: the same data and parameters give the same model
        return tags

    def _validated(self, X, reset: bool) -> np.ndarray:
        """X checked as scikit-learn expects (ValueError/TypeError for empty, sparse, NaN, object, complex data;
        the feature count against the fit), then against the model kind; float32 for the model."""
        if (padded := padded_list(X, "X")) is not None:  # sequences of unequal length, as Python holds them
            X = padded
            if not reset and self.kind_ == SEQUENCE:  # to the fitted length, as a test file is padded to a run's
                X = fit_length(padded, self.model_.input_shape[0], False, "X", "fit it on sequences this long")
        # sequences (3-D) may end in NaN padding, as ragged ones do in aelab and in the UCR archive (checked below)
        finite = "allow-nan" if getattr(X, "ndim", None) == 3 else True  # (np.ndim would convert a list)
        shape = getattr(X, "shape", None)
        if not reset and self.kind_ != TABLE and shape is not None and tuple(shape[1:]) != self.model_.input_shape:
            # before scikit-learn's check, which counts an image's channels or a sequence's steps as its "features"
            self._refuse_sample_shape(tuple(shape[1:]))
        try:
            X = validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], allow_nd=True, ensure_all_finite=finite
            )
        except (ValueError, TypeError) as exc:  # scikit-learn's type and words, on one line: the problem, and the fix
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            message = " ".join([lines[0], *(line for line in lines[1:] if line.startswith("Reshape your data"))])
            raise (AelabError if isinstance(exc, ValueError) else TypeError)(f"X: {message}") from None
        kind = KIND_OF_RANK.get(X.ndim) if reset else self.kind_
        if reset and self.model != "auto":
            kind = model_class(self.model).input_kind
        if X.ndim != RANK_OF_KIND.get(kind):
            expected = f"{RANK_OF_KIND[kind]}-D" if kind in RANK_OF_KIND else "2-D, 3-D or 4-D"
            who = f"model={self.model!r}" if reset else "the fitted model"
            raise AelabError(f"X: {X.ndim}-D input; {who} takes {expected}")
        sample = X.shape[1:]
        if kind == IMAGE and sample[0] not in IMAGE_CHANNELS:  # the cnn's config would name C alone, not X's shape
            if sample[-1] in IMAGE_CHANNELS:
                raise AelabError(
                    f"X: images of shape {X.shape} look channels-last; the estimator takes (N, C, H, W), "
                    "e.g. X.transpose(0, 3, 1, 2)"
                )
            raise AelabError(
                f"X: images of shape {X.shape}: the estimator takes (N, C, H, W) with 1 or 3 channels; other "
                "channel counts (multispectral bands) train as a table: X.reshape(len(X), -1)"
            )
        if not reset and sample != tuple(self.model_.input_shape):
            self._refuse_sample_shape(sample)
        x, _ = numeric_float32(X, "X", "array")  # refuses values beyond float32's range; NaN is checked below
        if kind == IMAGE:
            validate_image_values(x, "X")
        elif kind == SEQUENCE:
            check_padding(x, "X")
        return x

    def _refuse_sample_shape(self, sample: tuple) -> None:
        raise AelabError(f"X: samples of shape {sample}, but the model was fitted on {tuple(self.model_.input_shape)}")

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return x if self.standardizer_ is None else self.standardizer_.apply(x)

    def _fit_autoencoder(self, X, trim: float = 0.0) -> np.ndarray:
        """Fit the model on X (see `_train_model`); return X as the model sees it (scaled)."""
        xs = self._prepare(X)
        self.model_ = self._train_model(xs, trim)
        return xs

    def _prepare(self, X) -> np.ndarray:
        """Check X, choose the model, fit the per-feature statistics; return X scaled as the model sees it."""
        self._check_settings()
        x = self._validated(X, reset=True)
        if len(x) < 2:  # one sample has no spread to learn, nor any to hold out for validation
            raise AelabError("X: 1 sample is too few to fit on")
        name = self.model if self.model != "auto" else default_model(KIND_OF_RANK[x.ndim])
        kind = model_class(name).input_kind
        latent_limit = math.prod(x.shape[1:])
        # a latent_dim that is not a whole number is named by the model's config (`check_whole_numbers`)
        if isinstance(self.latent_dim, numbers.Integral) and self.latent_dim > latent_limit:
            raise ConfigError("latent_dim", f"{self.latent_dim} exceeds the data's {latent_limit} feature(s)")
        self.kind_, self.model_name_ = kind, name
        scaled = kind in (SEQUENCE, TABLE)  # per feature, like the CLI; images stay in [0, 1]
        self.standardizer_ = Standardizer.fit(x, "X") if scaled else None
        return self._scale(x)

    def _check_settings(self) -> None:
        """The settings the estimator reads itself (the model's and the training's are checked by their configs), in
        `fit` as scikit-learn asks: val_fraction='0.1' stopped in round(), max_steps='5' in a comparison."""
        check_seed(self.seed)
        fraction = self.val_fraction
        if not isinstance(fraction, numbers.Real) or isinstance(fraction, bool) or not 0 < fraction < 1:
            raise ConfigError("val_fraction", f"must lie strictly between 0 and 1, got {fraction!r}")
        steps = self.max_steps
        if steps is not None and (not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1):
            raise ConfigError("max_steps", f"must be a positive whole number or None, got {steps!r}")

    def _train_model(self, xs: np.ndarray, trim: float = 0.0):
        """A model trained on scaled rows `xs`, `val_fraction` of them held out (leaving the `trim` share of each
        batch's worst-fitted samples out of the loss), sized, started and budgeted as by `aelab train`."""
        name, kind = self.model_name_, self.kind_
        order = np.random.default_rng(self.seed).permutation(len(xs))
        n_val = max(1, int(round(self.val_fraction * len(xs))))
        if len(xs) - n_val < 1:
            raise AelabError(f"X: {len(xs)} sample(s) are too few to hold out validation data")
        val, train = torch.from_numpy(xs[order[:n_val]]), torch.from_numpy(xs[order[n_val:]])
        cfg = train_config(
            name,
            self.preset,
            epochs=self.epochs,
            lr=self.lr,
            seed=self.seed,
            batch_size=self.batch_size,
            trim=trim,
            augment=self.augment,
        )
        check_applies(cfg.augment, kind)
        cfg, budget = training_budget(name, cfg, len(train), epochs_given=self.epochs is not None)
        if self.max_steps is not None:
            cfg = replace(cfg, epochs=max(1, min(cfg.epochs, self.max_steps // budget.steps_per_epoch)))
        init = default_init(name, budget)  # PCA for small data, as `aelab train` does
        built = new_model(name, train.numpy(), self.latent_dim, self.preset, self.seed, init, cfg.augment)
        cfg = replace(cfg, augment=built.augmentation.name)
        self.train_config_ = cfg.to_dict()

        def fit(this: NewModel) -> tuple[dict, int]:
            trainer = Trainer(this.model, cfg, progress=self.progress)
            history = trainer.fit(train, val, **this.fit_options())
            this.model.cpu().eval()
            return history, trainer.best_epoch

        self.history_, best_epoch = fit(built)
        model = built.model
        second = None
        if self._second_start and best_epoch == 0:  # a PCA start training did not move, as `aelab train` does
            second = random_start_unless_beaten(
                name, model, train.numpy(), val, self.preset, self.seed, cfg.augment, fit
            )  # fmt: skip
        self.random_start_ = second is not None and second.kept
        if self.random_start_:
            model, self.history_ = second.built.model, second.history
        fallback = pca_unless_beaten(name, model, train.numpy(), val, self.preset, self.seed)  # as `aelab train`
        self.pca_fallback_ = fallback is not None
        return model if fallback is None else fallback.model

    def _errors(self, xs: np.ndarray) -> np.ndarray:
        """Per-sample reconstruction MSE of scaled inputs."""
        return per_sample_mse(xs, reconstruct(self.model_, xs))

    def save(self, path) -> None:
        """Write a run directory (config.json + model.safetensors) that `load` and `aelab encode` read."""
        check_is_fitted(self, "model_")
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise AelabError(f"{path}: exists and is not a directory")
        others = sorted(p.name for p in path.iterdir() if not SAVED_FILE.fullmatch(p.name)) if path.is_dir() else []
        if others:  # a training run's, or the user's own: a save mixed into them would read as one of them
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise AelabError(f"{path}: holds other files ({shown}); save into a new or empty folder, or a former save")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AelabError(f"{path}: cannot create the folder ({exc.strerror or exc})") from None
        for stale in path.glob("fold-*.safetensors"):  # a former detector's second model
            stale.unlink()
        config = run_config(
            self.model_,
            normalization=self.standardizer_,
            train=self.train_config_,
            preset=self.preset,
            estimator_params=self.get_params(),
        )
        config["estimator_state"] = self._extra_state()
        save_model(path, config, self.model_)

    def _extra_state(self) -> dict:
        return {"n_features_in": self.n_features_in_}

    @classmethod
    def load(cls, path):
        run = load_run(path)
        known = set(cls().get_params())
        params = run.config.get("estimator_params") or {
            "model": run.config["model"],
            "latent_dim": run.model.latent_dim,
        }
        est = cls(**{k: v for k, v in params.items() if k in known})
        est.model_, est.kind_, est.standardizer_ = run.model, run.input_kind, run.normalization
        est.model_name_, est.train_config_ = run.config["model"], run.config.get("train")
        state = run.config.get("estimator_state") or {}
        est.n_features_in_ = state.get("n_features_in", run.model.input_shape[0])
        est._restore_extra_state(state, run)
        return est

    def _restore_extra_state(self, state: dict, run) -> None:
        pass


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _Autoencoder):
    """`transform` gives the codes (N, latent_dim), `inverse_transform` the reconstructions in X's scale,
    `score` the negative reconstruction MSE on the standardised data (greater is better, for model selection).
    `get_feature_names_out` names the codes autoencodertransformer0, 1, ... (so `set_output` and a Pipeline's
    feature names work)."""

    @property
    def _n_features_out(self) -> int:
        return self.model_.latent_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        self._fit_autoencoder(X)
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        x = self._validated(X, reset=False)
        return encode(self.model_, self._scale(x)).astype(_float_dtype(X), copy=False)

    def inverse_transform(self, Z) -> np.ndarray:
        check_is_fitted(self, "model_")
        codes = np.asarray(Z, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.model_.latent_dim:
            raise AelabError(f"Z: codes must have shape (N, {self.model_.latent_dim}), got {codes.shape}")
        x_hat = decode(self.model_, codes)
        x_hat = x_hat if self.standardizer_ is None else self.standardizer_.invert(x_hat)
        return x_hat.astype(_float_dtype(Z), copy=False)

    def score(self, X, y=None) -> float:
        check_is_fitted(self, "model_")
        return -float(np.mean(self._errors(self._scale(self._validated(X, reset=False)))))


class AutoencoderOutlierDetector(OutlierMixin, _Autoencoder):
    """scikit-learn's outlier-detector API on the reconstruction error, for tables, sequences and images.

    `score_samples` is the negative mean absolute reconstruction error (higher = more normal) of a row whose code
    is first clipped to the range its model's training rows span (see `fit`); `offset_` is the score below which
    the `contamination` share of the training data falls, `decision_function` = score_samples - offset_, and
    `predict` gives -1 for outliers, +1 for inliers. (The CLI's `score` instead puts its threshold at a percentile
    of the validation errors, which does not assume the training data holds outliers, and scores the MSE of
    unclipped codes.)
    """

    # A model that reconstructs its training rows better reconstructs the outliers among them better too: with one
    # model, AUROC fell from 0.916 at the PCA start to 0.671 after 1,000 steps (benchmarks/README.md, "Tables").
    # The detector keeps the anchored model, so no random second start.
    _second_start = False

    def __init__(
        self,
        model: str = "auto",
        latent_dim: int | None = None,
        contamination: float = 0.1,
        epochs: int | None = None,
        max_steps: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        preset: str = "lab",
        augment: str | None = None,
        val_fraction: float = 0.1,
        seed: int = 42,
        progress: bool = False,
    ):
        super().__init__(
            model, latent_dim, epochs, max_steps, batch_size, lr, preset, augment, val_fraction, seed, progress
        )
        self.contamination = contamination

    def fit(self, X, y=None):
        if not (isinstance(self.contamination, (int, float)) and 0 < self.contamination <= 0.5):
            raise ConfigError("contamination", f"must lie in (0, 0.5], got {self.contamination!r}")
        xs = self._prepare(X)
        # Training data for a detector holds outliers (the `contamination` share), and an autoencoder learns to
        # reconstruct the rows it trains on, outliers too: on the tables benchmark (11 tasks, seed 0) its AUROC on
        # those rows fell from 0.92 after 1 step to 0.83 after 100 and 0.67 after 1,000. So two models are trained,
        # each on one seeded half, and a row's error is the larger of the two: for a training row, that of the model
        # that never saw it (0.949 there, PCA-8 0.928); for a new row, the more doubtful of two opinions. Each also
        # leaves the worst `contamination` share of a batch out of its loss (a trimmed loss).
        #
        # A model with a linear path (the PCA start) also reconstructs rows far out along the data's own directions,
        # where reconstruction error cannot see them (malignant tumours are benign ones, larger): so each model keeps
        # the range its training rows' codes span in every latent dimension, between the `contamination` quantiles,
        # and a row's code is clipped to it before decoding. A row inside the range is scored as before; one outside
        # is scored by its distance from what the model knows. On the tables benchmark (seeds 0-4) mean AUROC rose
        # from 0.958 to 0.968 (breast_cancer 0.802 -> 0.907); on 10 tasks it was not designed on (wine and iris
        # classes, malignant inliers, three planted kinds; benchmarks/README.md) from 0.754 to 0.913.
        #
        # The error is the mean *absolute* one: standardised tables often hold columns that are nearly constant
        # with rare large values (digits' edge pixels reach 10-20 standard deviations), and squared, one such value
        # outweighs a row that differs a little everywhere. Measured with everything else as built (seeds 0-4):
        # tables benchmark 0.968 (MSE) -> 0.979, IsolationForest 0.973; the 10 other tasks 0.913 -> 0.911; the same
        # digits as 8x8 images in [0, 1] (cnn, seed 0), where no column is blown up, 0.994 -> 0.993; 6 ucr-dev
        # sequence tasks (conv1d, seeds 0-2) 0.774 both.
        halves = np.random.default_rng(self.seed).permutation(len(xs)) % 2
        if np.bincount(halves, minlength=2).min() >= 2:
            parts = [xs[halves == k] for k in (0, 1)]
        else:  # too few rows to halve: one model on all of them
            parts = [xs]
        self.fold_models_ = [self._train_model(part, trim=self.contamination) for part in parts]
        self.code_ranges_ = [self._code_range(m, part) for m, part in zip(self.fold_models_, parts, strict=True)]
        self.model_ = self.fold_models_[0]
        self.error_ = "mae"
        self.offset_ = float(np.percentile(-self._errors(xs), 100.0 * self.contamination))
        return self

    def _code_range(self, model, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per latent dimension, the `contamination` and 1 - `contamination` quantiles of the codes of `xs`."""
        codes = encode(model, _in_blocks(xs), SCORE_BLOCK)[: len(xs)]
        low, high = np.quantile(codes, [self.contamination, 1.0 - self.contamination], axis=0)
        return low.astype(np.float32), high.astype(np.float32)

    def _errors(self, xs: np.ndarray) -> np.ndarray:
        """Per-sample mean absolute reconstruction error from codes clipped to each model's range: the larger of
        the cross-fitted models' (see `fit`). Rows go through the models in blocks of exactly SCORE_BLOCK (the last one
        zero-padded): float32 kernels round a row differently in batches of other sizes, and a row's score must not
        depend on which rows are scored with it."""
        padded, errors = _in_blocks(xs), []
        for model, (low, high) in zip(self.fold_models_, self.code_ranges_, strict=True):
            codes = np.clip(encode(model, padded, SCORE_BLOCK), low, high)
            errors.append(ERRORS[self.error_](padded, decode(model, codes, SCORE_BLOCK))[: len(xs)])
        return np.max(errors, axis=0)

    def save(self, path) -> None:
        """The run directory of the first model (what `aelab encode` reads) and the second model's weights beside
        it, in `fold-1.safetensors`."""
        super().save(path)
        for k, model in enumerate(self.fold_models_[1:], start=1):
            save_weights(model, Path(path) / f"fold-{k}.safetensors")

    def score_samples(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return -self._errors(self._scale(self._validated(X, reset=False)))

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        if not hasattr(self, "offset_"):  # `load` of a run that this class's `fit` did not write
            raise AelabError(
                "this detector was loaded from a run without the threshold that fit sets from contamination (an "
                "`aelab train` run or an AutoencoderTransformer's save): score_samples works; fit it for "
                "decision_function and predict"
            )
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) < 0, -1, 1)

    def _extra_state(self) -> dict:
        ranges = [[low.tolist(), high.tolist()] for low, high in self.code_ranges_]
        return {**super()._extra_state(), "offset": self.offset_, "fold_models": len(self.fold_models_),
                "code_ranges": ranges, "error": self.error_}  # fmt: skip

    def _restore_extra_state(self, state: dict, run) -> None:
        if "offset" in state:
            self.offset_ = state["offset"]
        # A detector saved before the absolute error has its threshold on the MSE, and keeps scoring it
        self.error_ = state.get("error", "mse" if "offset" in state else "mae")
        self.fold_models_ = [self.model_]
        for k in range(1, state.get("fold_models", 1)):
            self.fold_models_.append(load_weights(run, run.path / f"fold-{k}.safetensors"))
        # A run that `aelab train` wrote has no code ranges: its codes are reconstructed unclipped, as by `aelab score`.
        unbounded = [[-np.inf] * self.model_.latent_dim, [np.inf] * self.model_.latent_dim]
        ranges = state.get("code_ranges", [unbounded] * len(self.fold_models_))
        self.code_ranges_ = [tuple(np.asarray(bound, np.float32) for bound in pair) for pair in ranges]


def _in_blocks(xs: np.ndarray) -> np.ndarray:
    """`xs` zero-padded to a whole number of SCORE_BLOCK rows."""
    return np.concatenate([xs, np.zeros(((-len(xs)) % SCORE_BLOCK, *xs.shape[1:]), xs.dtype)])


def _float_dtype(X) -> np.dtype:
    """float64 output for float64 input (scikit-learn's dtype-preservation rule), float32 otherwise."""
    dtype = getattr(X, "dtype", None)
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)
