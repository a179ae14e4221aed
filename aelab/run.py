"""The run directory: what a training run leaves behind, and `load_run` to bring the model back.

The model is rebuilt from `config.json` (name and frozen config) and its weights are read from
`model.safetensors`; nothing is pickled, nothing is inferred from tensor shapes.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .anomaly import Threshold, step_scores, threshold
from .data.images import validate_image_values
from .data.normalization import Standardizer
from .data.npy import numeric_float32
from .data.sequences import check_padding
from .data.streams import check_length, mean_over_windows, per_window, stream_from_array
from .data.tables import feature_columns, in_training_column_order, table_from_columns
from .errors import AelabError
from .evaluate import encode as encode_samples
from .evaluate import per_sample_mse
from .evaluate import reconstruct as reconstruct_samples
from .io import atomic_path, read_json, write_json
from .kinds import IMAGE, SEQUENCE, TABLE
from .models import config_dict, create_model
from .padding import fit_length, masked_like, padded_list

SCHEMA_VERSION = 1
ARTEFACTS = (
    "config.json",
    "model.safetensors",
    "history.json",
    "metrics.json",
    "timings.json",
    "environment.json",
    "val_errors.npy",
    "train_errors.npy",
    "plots",
)
CHECKPOINTS = "checkpoints"


@dataclass
class Run:
    """A trained model and what it needs to process new data like its training data."""

    path: Path
    model: torch.nn.Module
    config: dict

    @property
    def input_kind(self) -> str:
        return self.model.input_kind

    @property
    def normalization(self) -> Standardizer | None:
        """The training data's per-feature statistics (sequences), applied to new data before the model sees it."""
        return Standardizer.from_dict(self.config.get("normalization"))

    @property
    def window(self) -> tuple[int, int] | None:
        """(window, stride) of a run trained on a stream, else None."""
        data = self.config.get("data") or {}
        return (data["window"], data["stride"]) if data.get("window") else None

    def metrics(self) -> dict:
        return read_json(self.path / "metrics.json") if (self.path / "metrics.json").exists() else {}

    def val_errors(self) -> np.ndarray:
        path = self.path / "val_errors.npy"
        if not path.exists():
            raise AelabError(f"{path}: missing; this run saved no validation errors to set a threshold from")
        return np.load(path, allow_pickle=False)

    def threshold(self, percentile: float = 99.0) -> Threshold:
        """The score above which `aelab score` flags a sample or a time step (`aelab.anomaly.threshold`)."""
        path = self.path / "train_errors.npy"  # a stream run's since 2026-12-01
        train_errors = np.load(path, allow_pickle=False) if path.exists() else None
        return threshold(self.val_errors(), percentile, train_errors)

    def encode(self, x) -> np.ndarray:
        """(N, latent_dim) codes of samples `x` given as the run's training data were before scaling: table rows
        (N, F), sequences (N, T, F) (shorter ones NaN-padded at their end), images (N, C, H, W) in [0, 1] as the
        estimator takes them. A stream run takes the stream itself, (T, F) (or (T,) for one feature), and codes
        each window it scores, or windows (N, W, F). Standardised with the training statistics, as `aelab encode`
        does for files."""
        stream = self._stream_input(x)
        if stream is not None:
            return per_window(stream, *self.window, lambda b: encode_samples(self.model, b))
        return encode_samples(self.model, self._model_input(x))

    def reconstruct(self, x) -> np.ndarray:
        """Reconstructions of samples `x` (as for `encode`) in their own scale; a sequence's padding stays NaN. A
        stream comes back per time step, (T, F): the mean over the windows that cover each step."""
        stream = self._stream_input(x)
        if stream is not None:
            x_hat = mean_over_windows(stream, *self.window, lambda b: reconstruct_samples(self.model, b))
            return self.normalization.invert(x_hat).astype(np.float32)
        scaled = self._model_input(x)
        x_hat = masked_like(reconstruct_samples(self.model, scaled), scaled)
        return x_hat if self.normalization is None else self.normalization.invert(x_hat).astype(np.float32)

    def score(self, x) -> np.ndarray:
        """(N,) reconstruction MSE of each sample of `x` (as for `encode`) over its real values, in the model's
        scale: what `aelab score` writes, comparable with `val_errors()` and `threshold()`.
        A stream gets (T,) scores, one per time step from the windows that cover it, as `aelab score` gives."""
        stream = self._stream_input(x)
        if stream is not None:
            return step_scores(lambda b: reconstruct_samples(self.model, b), stream, *self.window)
        scaled = self._model_input(x)
        return per_sample_mse(scaled, reconstruct_samples(self.model, scaled))

    def _stream_input(self, x) -> np.ndarray | None:
        """For a stream run given the stream itself, (T, F) or (T,), its values standardised; else None (windows
        and every other run's samples go through `_model_input`)."""
        if self.window is None:
            return None
        x = _as_array(self._by_name(x))
        if x.ndim not in (1, 2):
            return None
        stream = stream_from_array(x, "x")  # read and checked as an .npy stream file is by `aelab score`
        check_length(stream, self.window[0], "stream")
        return stream.scaled(self.normalization, None).values

    def _model_input(self, x) -> np.ndarray:
        """`x` as float32 in the model's layout and scale; a wrong shape or a misplaced NaN is one error. A list of
        sequences of unequal length is padded to the run's length, as `aelab encode` pads a CSV of them."""
        x = self._by_name(x)
        if self.input_kind == SEQUENCE and (padded := padded_list(x, "x")) is not None:
            x = fit_length(padded, self.model.input_shape[0], bool((self.config.get("data") or {}).get("length")), "x")
        x, bad = numeric_float32(_as_array(x), "x", "batch of samples")
        shape = tuple(self.model.input_shape)
        if x.shape[1:] != shape:
            if self.input_kind == IMAGE and x.shape[1:] == (*shape[1:], shape[0]):
                hint = "(N, C, H, W) in [0, 1]: x.transpose(0, 3, 1, 2)"
                raise AelabError(f"x: images of shape {x.shape[1:]} are channels-last; the run takes {shape}, {hint}")
            one = "; one sample? pass x[None]" if x.shape == shape else ""
            raise AelabError(f"x: samples of shape {x.shape[1:]}, the run's model takes {shape} (N first){one}")
        if self.input_kind == SEQUENCE:
            check_padding(x, "x")
        elif self.input_kind == IMAGE:
            validate_image_values(x, "x")
        elif bad is not None:
            raise AelabError(f"x: NaN or inf in row {bad[0]}, column {bad[1]}")
        return x if self.normalization is None else self.normalization.apply(x).astype(np.float32)

    def _by_name(self, x):
        """A table's rows or a stream's steps given as a pandas DataFrame, read as `aelab encode` reads a CSV of
        them: columns matched to the training file's by name (another order is fine, a missing or unknown one is an
        error naming it), `label`, `is_anomaly` and `timestamp` left out, a table's text columns as its categories.
        Taken by position, a DataFrame in another column order was coded as if it were in the training one. Any
        other input, and every input of a run trained on unnamed columns (an .npy), is returned as it is. A table
        run takes a pandas Series as one row (`df.iloc[i]`), its index naming the columns."""
        if self.input_kind == TABLE and hasattr(x, "to_frame") and not hasattr(x, "columns"):
            x = x.to_frame().T
        trained = self.config.get("feature_names")
        if not trained or not hasattr(x, "columns") or not hasattr(x, "to_numpy"):
            return x
        columns = {str(name): x[name] for name in x.columns}
        if self.input_kind == TABLE:
            cells = {name: column.tolist() for name, column in columns.items()}
            table = table_from_columns("x", cells, self.config.get("categories", {}))
            return in_training_column_order(table.x, table.feature_names, trained, "x")
        if self.window is None:  # sequences: a 2-D frame is not a batch of them
            return x
        features = feature_columns(columns)
        values = np.column_stack([np.asarray(columns[name]) for name in features])
        return in_training_column_order(values, features, trained, "x")


def _as_array(x) -> np.ndarray:
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise AelabError(f"x: not an array of numbers ({exc})") from None


def run_config(
    model,
    *,
    normalization: Standardizer | None,
    train: dict | None = None,
    budget: dict | None = None,
    preset: str | None = None,
    data=None,
    class_names=None,
    feature_names=None,
    categories: dict | None = None,
    estimator_params: dict | None = None,
    stream_step: dict | None = None,
) -> dict:
    """config.json: everything `load_run` needs to rebuild the model and prepare new data like its training data.
    `data` is the run's `DataSpec` (None for an estimator, which is given arrays); `estimator_params` are the
    `get_params()` of an `AutoencoderTransformer` that saved itself; `categories`, a table's text columns and their
    values (its features `column=value`), only where it has some; `stream_step`, a stream run's usual step between
    timestamps (`streams.step_record`), where its training stream has them."""
    config = {
        "schema_version": SCHEMA_VERSION,
        "model": model.name,
        "model_config": config_dict(model.config),
        "input_kind": model.input_kind,
        "train": train,
        "budget": budget,
        "preset": preset,
        "data": None if data is None else data.to_dict(),
        "normalization": None if normalization is None else normalization.to_dict(),
        "class_names": class_names,
        "feature_names": feature_names,
    }
    if categories:
        config["categories"] = categories
    if estimator_params is not None:
        config["estimator_params"] = estimator_params
    if stream_step is not None:
        config["stream_step"] = stream_step
    return config


def save_model(path: Path, config: dict, model) -> None:
    """The two files that make a usable run: config.json and model.safetensors (each written atomically)."""
    write_json(path / "config.json", config)
    save_weights(model, path / "model.safetensors")


def environment() -> dict:
    import sklearn

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,  # training runs there when set
        "threads": torch.get_num_threads(),
    }


def save_weights(model, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise AelabError(f"refusing to save non-finite weights ({name})")
    with atomic_path(path) as tmp:
        save_file(state, str(tmp))


def load_run(path) -> Run:
    """Rebuild a run's model from config.json and model.safetensors, with one-line errors for each fault."""
    if not isinstance(path, str | os.PathLike):
        raise AelabError(f"load_run: takes a run directory's path, got {type(path).__name__} {path!r:.40}")
    path = Path(path)
    cfg_path, weights = path / "config.json", path / "model.safetensors"
    if not path.is_dir():
        raise AelabError(f"{path}: not a run directory")
    if not cfg_path.exists():
        raise AelabError(f"{cfg_path}: missing; {path} is not a finished aelab run")
    try:
        config = read_json(cfg_path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AelabError(f"{cfg_path}: not valid JSON ({exc})") from None
    version = config.get("schema_version") if isinstance(config, dict) else None
    if version != SCHEMA_VERSION:
        raise AelabError(f"{cfg_path}: unknown schema_version {version!r} (this aelab reads {SCHEMA_VERSION})")
    try:
        model = create_model(config["model"], **config["model_config"])
    except KeyError as exc:
        raise AelabError(f"{cfg_path}: lacks {exc}") from None
    except AelabError as exc:
        raise AelabError(f"{cfg_path}: {exc}") from None
    _load_weights_into(model, weights)
    return Run(path, model, config)


def load_weights(run: Run, weights: Path):
    """Another model of `run`'s config with the weights in `weights` (e.g. a cross-fitted detector's second)."""
    model = create_model(run.config["model"], **run.config["model_config"])
    _load_weights_into(model, weights)
    return model


def _load_weights_into(model, weights: Path) -> None:
    if not weights.exists():
        raise AelabError(f"{weights}: missing model weights")
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error type, which moved between releases
        raise AelabError(f"{weights}: unreadable weights ({exc})") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else "mismatch"
        raise AelabError(f"{weights}: weights do not match config.json ({first})") from None
    model.eval()


@contextlib.contextmanager
def removed_if_left_empty(out: Path):
    """Remove the run directory that the command inside creates if the command fails before writing into it (bad
    data found after `prepare_out_dir` checked --out), so that a failed start leaves no empty run behind."""
    created = not out.exists()
    try:
        yield
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only an empty one: an interrupted run's checkpoints stay
        raise


def check_out_dir(out: Path, force: bool, resume: bool) -> None:
    """Refuse to mix a new run into an old one unless asked; create the directory and check it is writable. Clears
    nothing: `aelab train` checks --out before it reads the data, and a run replaced by --force stays whole until
    the new one has its data and model (a mistyped --data must not cost the old run)."""
    if out.exists() and not out.is_dir():
        raise AelabError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (force or resume):
        raise AelabError(f"--out {out}: exists and is not empty; pass --force to overwrite or --resume to continue")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".aelab-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise AelabError(f"--out {out}: not writable ({exc.strerror or exc})") from None


def prepare_out_dir(out: Path, force: bool, resume: bool) -> None:
    """`check_out_dir`, then clear what --force replaces: the old run's artefacts and checkpoints."""
    check_out_dir(out, force, resume)
    if force and not resume:
        for name in (*ARTEFACTS, CHECKPOINTS):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()


def publish(staging: Path, out: Path) -> None:
    """Move finished artefacts from the staging folder into the run directory (renames, no copies)."""
    for item in staging.iterdir():
        target = out / item.name
        if target.is_dir():
            shutil.rmtree(target)
        item.replace(target)
    staging.rmdir()


def write_run_files(
    staging: Path,
    config: dict,
    model,
    history: dict,
    metrics: dict,
    timings: dict,
    val_errors: np.ndarray,
    train_errors: np.ndarray | None = None,
) -> None:
    save_model(staging, config, model)
    write_json(staging / "history.json", history)
    write_json(staging / "metrics.json", metrics)
    write_json(staging / "timings.json", timings)
    write_json(staging / "environment.json", environment())
    for name, errors in (("val_errors.npy", val_errors), ("train_errors.npy", train_errors)):
        if errors is not None:
            with atomic_path(staging / name) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, errors.astype(np.float64))
