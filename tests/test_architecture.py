"""The project's seams: one registry of models, run files that old versions wrote, settings that check
themselves, and artefacts written whole with ordinary permissions."""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import aelab
from aelab import cli
from aelab.data import DataSpec
from aelab.errors import AelabError, ConfigError
from aelab.evaluate import per_sample_mae, reconstruct
from aelab.io import atomic_path, write_json
from aelab.kinds import SEQUENCE
from aelab.models import base, registry
from aelab.presets import train_config
from aelab.train import TrainConfig

from helpers import assert_one_line_error, run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "runs-v1"


@pytest.fixture
def dummy_model():
    """A sixth model, registered the way a new file would register it; removed again afterwards."""

    @dataclass(frozen=True)
    class DummyConfig:
        seq_len: int = 4
        n_features: int = 1
        latent_dim: int = 2

    @registry.register("dummy")
    class Dummy(base.Autoencoder):
        """A linear autoencoder."""

        Config = DummyConfig
        input_kind = SEQUENCE
        description = "linear AE for the registry test"
        notes = "Registered by a test."

        def __init__(self, config):
            super().__init__(config)
            self.enc = nn.Linear(config.seq_len * config.n_features, config.latent_dim)
            self.dec = nn.Linear(config.latent_dim, config.seq_len * config.n_features)

        def encode(self, x):  # (B, T, F) -> (B, latent_dim)
            return self.enc(x.flatten(1))

        def decode(self, z):  # (B, latent_dim) -> (B, T, F)
            return self.dec(z).view(-1, self.config.seq_len, self.config.n_features)

    yield Dummy
    del registry._MODELS["dummy"]


def test_a_registered_model_is_a_cli_choice_a_report_row_and_needs_a_preset(dummy_model, capsys, tmp_path):
    assert "dummy" in cli.ModelName().choices and "dummy" in aelab.list_models()
    assert registry.models_in_order()[-3:] == ["dummy", "lstm-seed", "dense"]  # with the sequence models
    # The CLI takes the name and asks for the one thing a new model must add besides its file: a preset
    code, _, err = run_cli(
        capsys, "train", "dummy", "--data", "synthetic", "--train-size", "100", "--out", tmp_path / "r"
    )
    assert_one_line_error(code, err, "model 'dummy' has no training presets", "aelab.presets.PRESETS")
    with pytest.raises(AelabError, match="no training presets"):
        train_config("dummy")

    # With its preset entry it trains, and the lab report shows it with its registry metadata
    from aelab import presets
    from aelab.report import render_lab

    presets.PRESETS["dummy"] = {"lab": TrainConfig(epochs=2, batch_size=16, lr=1e-2)}
    try:
        code, _, err = run_cli(
            capsys,
            "train",
            "dummy",
            "--data",
            "synthetic",
            "--train-size",
            "100",
            "--latent-dim",
            "2",
            "--out",
            tmp_path / "lab" / "dummy",
        )
    finally:
        del presets.PRESETS["dummy"]
    assert code == 0, err
    render_lab(tmp_path / "lab")
    report = (tmp_path / "lab" / "report.md").read_text()
    assert "linear AE for the registry test" in report and "Registered by a test." in report


def test_the_lab_models_defaults_and_replicas_come_from_the_registry():
    assert registry.models_in_order() == ["cnn", "cnn-seed", "lstm", "conv1d", "lstm-seed", "dense"]
    assert registry.default_model("image") == "cnn" and registry.default_model("sequence") == "lstm"
    assert registry.default_model("table") == "dense"
    assert {n for n in aelab.list_models() if registry.model_class(n).seed_replica} == {"cnn-seed", "lstm-seed"}


def test_registering_a_model_without_its_metadata_fails_at_once():
    with pytest.raises(TypeError, match="description"):

        @registry.register("incomplete")
        class Incomplete(base.Autoencoder):
            Config = dict
            input_kind = SEQUENCE


@pytest.mark.parametrize(
    "run, codes", [("cli-conv1d", "cli-conv1d-codes.npy"), ("estimator-conv1d", "estimator-conv1d-codes.npy")]
)
def test_runs_written_by_earlier_versions_still_load_and_encode_alike(run, codes, capsys, tmp_path):
    """Fixture runs written by the main branch before the architecture pass (schema_version 1)."""
    out = tmp_path / "codes.npy"
    code, _, err = run_cli(capsys, "encode", FIXTURES / run, FIXTURES / "input.npy", "-o", out)
    assert code == 0, err
    np.testing.assert_allclose(np.load(out), np.load(FIXTURES / codes), rtol=1e-5, atol=1e-6)
    code, _, err = run_cli(capsys, "score", FIXTURES / run, FIXTURES / "input.npy", "-o", tmp_path / "s.csv")
    assert code == (0 if run.startswith("cli") else 2), err  # an estimator saves no validation errors to score by
    if run.startswith("estimator"):  # nor data to evaluate on: it stopped in a TypeError inside DataSpec
        code, _, err = run_cli(capsys, "evaluate", FIXTURES / run)
        assert_one_line_error(code, err, "saved by an aelab estimator, which keeps no data spec")
    est = aelab.AutoencoderTransformer.load(FIXTURES / run)
    np.testing.assert_allclose(
        est.transform(np.load(FIXTURES / "input.npy")), np.load(FIXTURES / codes), rtol=1e-5, atol=1e-6
    )


def test_estimator_save_writes_the_same_config_schema_as_a_cli_run(tmp_path):
    x = np.random.default_rng(0).normal(size=(24, 8, 2)).astype(np.float32)
    est = aelab.AutoencoderTransformer(model="conv1d", latent_dim=2, epochs=1).fit(x)
    est.save(tmp_path / "est")
    saved = aelab.load_run(tmp_path / "est").config
    cli_run = aelab.load_run(FIXTURES / "cli-conv1d").config
    assert set(cli_run) <= set(saved) and saved["train"]["epochs"] == 1
    again = aelab.AutoencoderTransformer.load(tmp_path / "est")
    again.save(tmp_path / "again")  # a loaded estimator saves again
    np.testing.assert_array_equal(aelab.AutoencoderTransformer.load(tmp_path / "again").transform(x), est.transform(x))


@pytest.mark.parametrize(
    "field, value",
    [
        ("precision", "bf17"),
        ("schedule", "linear"),
        ("augment", "rotate"),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("epochs", 0),
        ("batch_size", -1),
        ("patience", 0),
        ("contrastive", -0.1),
        ("clip_grad_norm", 0.0),
        ("lr", "0.01"),  # text stopped in a comparison inside TrainConfig
        ("weight_decay", True),
        ("clip_grad_norm", "1"),
    ],
)
def test_train_config_checks_itself_in_the_librarys_terms(field, value):
    with pytest.raises(ConfigError, match=f"^{field}: ") as info:
        TrainConfig(**{field: value})
    assert info.value.field == field and "--" not in str(info.value)


def test_library_errors_name_settings_and_the_cli_names_flags(capsys, tmp_path):
    with pytest.raises(ConfigError, match=r"^latent_dim: must be positive, got 0"):
        aelab.AutoencoderTransformer(model="conv1d", latent_dim=0, epochs=1).fit(np.random.rand(8, 4, 1))
    with pytest.raises(ConfigError, match=r"^latent_dim: must be a whole number, got '3'"):
        aelab.AutoencoderTransformer(latent_dim="3", epochs=1).fit(np.random.rand(8, 4))
    with pytest.raises(ConfigError, match="^val_fraction: "):
        DataSpec("synthetic", val_fraction=0)
    code, _, err = run_cli(capsys, "train", "conv1d", "--data", "synthetic", "--latent-dim", "0", "--out", tmp_path)
    assert_one_line_error(code, err, "--latent-dim: must be positive")
    code, _, err = run_cli(capsys, "train", "conv1d", "--data", "synthetic", "--val-fraction", "1", "--out", tmp_path)
    assert_one_line_error(code, err, "--val-fraction: must lie strictly between 0 and 1")


def test_data_spec_round_trips_through_the_run_record():
    spec = DataSpec(
        "digits",
        labels="y.npy",
        train_size="400",
        test_size="all",
        val_fraction=0.25,
        seed=7,
        cifar10="/somewhere",
        stream=True,
    )
    record = spec.to_dict()
    assert record == {
        "data": "digits",
        "train_size": "400",
        "test_size": "all",
        "val_fraction": 0.25,
        "seed": 7,
        "labels": "y.npy",
    }  # where and how this machine reads are not part of the record
    back = DataSpec.from_dict(record, cifar10="/elsewhere")
    assert back.to_dict() == record and back.train_n == 400 and back.test_n is None and back.cifar10 == "/elsewhere"


def test_atomic_files_get_the_umask_mode_and_appear_whole(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
        assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644
        os.umask(0o077)
        write_json(tmp_path / "private.json", {"a": 1})
        assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    finally:
        os.umask(old)
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "half.bin") as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "private.json"]


def test_checkpoint_is_written_through_atomic_path(tmp_path):
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x)

    from aelab.train import Trainer

    old = os.umask(0o022)
    try:
        Trainer(
            Tiny(), TrainConfig(epochs=1, batch_size=4), checkpoint=tmp_path / "ck" / "last.pt", progress=False
        ).fit(torch.rand(8, 3), torch.rand(4, 3))
    finally:
        os.umask(old)
    assert [p.name for p in (tmp_path / "ck").iterdir()] == ["last.pt"]
    assert stat.S_IMODE((tmp_path / "ck" / "last.pt").stat().st_mode) == 0o644


def test_a_run_that_aelab_train_wrote_loads_as_a_detector_that_scores_unclipped_codes():
    """It kept no code ranges, so its rows are scored by the error of their plain reconstruction, as `aelab score`
    reconstructs them (the detector's error is the mean absolute one)."""
    det = aelab.AutoencoderOutlierDetector.load(FIXTURES / "cli-conv1d")
    x = np.load(FIXTURES / "input.npy")
    xs = det._scale(x.astype(np.float32))
    plain = per_sample_mae(xs, reconstruct(det.model_, xs))
    np.testing.assert_allclose(det.score_samples(x), -plain, rtol=1e-5, atol=1e-7)
    assert np.all(np.isinf(det.code_ranges_[0][0]))
    for flag in (det.predict, det.decision_function):  # no contamination threshold: an AttributeError on offset_
        with pytest.raises(aelab.AelabError, match="loaded from a run without the threshold that fit sets"):
            flag(x)
