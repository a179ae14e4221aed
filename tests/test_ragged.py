"""Ragged sequences: padded with NaN, the padding counted nowhere, outputs at each sequence's own length."""

import json

import numpy as np
import pytest
import torch

import aelab
from aelab import AelabError
from aelab.cli import main
from aelab.data import load_dataset
from aelab.data.normalization import Standardizer
from aelab.evaluate import ErrorSums, encode, per_sample_mse
from aelab.models import create_model
from aelab.padding import lengths, model_input, pad_sequences
from aelab.train import Objective, evaluate_loss
from tests.helpers import assert_one_line_error, run_cli


def write_ragged_csv(path, lengths_, features=2, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["sequence_id,t," + ",".join(f"f{j}" for j in range(features)) + ",label"]
    for s, n in enumerate(lengths_):
        phase = rng.uniform(0, 6)
        for t in range(n):
            values = [f"{np.sin(0.2 * t + phase + j):.4f}" for j in range(features)]
            lines.append(",".join([f"s{s}", str(t), *values, str(s % 2)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def padded(seed=0):
    rng = np.random.default_rng(seed)
    return pad_sequences([rng.normal(size=(n, 3)).astype(np.float32) for n in (4, 10, 7)])


def test_sequences_are_padded_to_the_longest_or_cut_to_length():
    x = padded()
    assert x.shape == (3, 10, 3) and lengths(x).tolist() == [4, 10, 7]
    assert np.isnan(x[0, 4:]).all() and not np.isnan(x[0, :4]).any()
    cut = pad_sequences([np.ones((n, 1), np.float32) for n in (4, 10)], length=6)
    assert cut.shape == (2, 6, 1) and lengths(cut).tolist() == [4, 6]


def test_padding_counts_in_no_metric_whatever_the_reconstruction_there():
    x = padded()
    x_hat = np.where(np.isnan(x), 0.0, x + 0.5).astype(np.float32)
    wild = np.where(np.isnan(x), 1e6, x_hat).astype(np.float32)  # the padded steps reconstructed absurdly
    np.testing.assert_allclose(per_sample_mse(x, x_hat), [0.25, 0.25, 0.25], rtol=1e-6)
    np.testing.assert_array_equal(per_sample_mse(x, x_hat), per_sample_mse(x, wild))
    a, b = ErrorSums(), ErrorSums()
    a.add(x, x_hat)
    b.add(x, wild)
    assert a.metrics(1.0) == b.metrics(1.0) and a.count == 3 * (4 + 10 + 7)


def test_the_loss_is_the_mean_over_real_values_and_the_model_sees_zeros_there():
    torch.manual_seed(0)
    model = create_model("conv1d", seq_len=10, n_features=3, latent_dim=2)
    x = torch.from_numpy(padded())
    seen, real = model_input(x)
    assert (seen[~real] == 0).all() and torch.equal(seen[real], x[real])
    loss, parts = Objective(model)(x)
    with torch.no_grad():
        expected = ((model(seen) - seen)[real] ** 2).mean()
    assert torch.isfinite(loss) and torch.allclose(loss, expected)
    assert evaluate_loss(model, x)[0] == pytest.approx(float(expected), rel=1e-5)
    # the codes evaluation reports are those of the zero-filled input, never of the NaN marker
    with torch.no_grad():
        np.testing.assert_allclose(encode(model, padded()), model.eval().encode(seen).numpy(), rtol=1e-6)


def test_normalisation_uses_the_real_steps_only():
    x = pad_sequences([np.full((2, 1), 1.0, np.float32), np.full((8, 1), 3.0, np.float32)])
    stats = Standardizer.fit(x, "x")
    assert stats.mean[0] == pytest.approx((2 * 1 + 8 * 3) / 10)


def test_lengths_5_and_500_train_report_and_come_back_at_their_own_lengths(capsys, tmp_path):
    path = write_ragged_csv(tmp_path / "ragged.csv", [5, 500] * 8)
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "lstm", "--data", path, "--epochs", "1", "--out", run)
    assert code == 0, err
    for name in ("config.json", "model.safetensors", "history.json", "metrics.json", "timings.json",
                 "environment.json", "val_errors.npy", "plots/history.png", "plots/reconstructions.png",
                 "plots/latent.png"):  # fmt: skip
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(metrics["test_mse"]) and np.isfinite(metrics["pca_test_mse"]) and "probe_logreg" in metrics
    assert metrics["input_dim"] == 500 * 2

    code, _, err = run_cli(capsys, "reconstruct", run, path, "-o", tmp_path / "rec.csv")
    assert code == 0, err
    rows = (tmp_path / "rec.csv").read_text().splitlines()
    assert len(rows) == len(path.read_text().splitlines())  # every sequence at its own length
    assert rows[1].startswith("s0,0,") and sum(r.startswith("s0,") for r in rows[1:]) == 5  # its own id and t
    code, _, err = run_cli(capsys, "reconstruct", run, path, "-o", tmp_path / "rec.npy")
    assert_one_line_error(code, err, "rec.npy", "unequal length")
    code, _, err = run_cli(capsys, "score", run, path, "-o", tmp_path / "scores.csv")
    assert code == 0 and "nan" not in (tmp_path / "scores.csv").read_text().lower()


def test_length_cuts_longer_sequences(tmp_path):
    path = write_ragged_csv(tmp_path / "ragged.csv", [5, 40, 30] * 4)
    ds = load_dataset(str(path), length=20)
    assert ds.sample_shape == (20, 2)
    all_x = np.concatenate([ds.train.x, ds.val.x, ds.test.x])
    assert sorted(set(lengths(all_x).tolist())) == [5, 20]


def test_only_nan_at_the_end_of_a_sequence_in_every_feature_is_padding():
    from aelab.padding import misplaced_value

    x = padded()  # lengths 4, 10, 7
    assert misplaced_value(x) is None
    # (sequence, step, features, value) -> the step its gap starts at: a real value after padding (sequence 0),
    # a gap inside (1 at step 3), NaN or inf in some features only (2 at step 2, 1 at step 9)
    for change, start in [((1, 3, slice(None), np.nan), 3), ((0, 5, 0, 1.0), 4), ((2, 8, 1, 0.0), 7),
                          ((1, 9, 2, np.inf), 9), ((2, 2, 0, np.nan), 2)]:  # fmt: skip
        broken = x.copy()
        broken[change[:3]] = change[3]
        assert misplaced_value(broken) == (change[0], start), change
    empty = x.copy()
    empty[2] = np.nan  # a sequence with no real step
    assert misplaced_value(empty) == (2, 0)


def test_an_npy_of_sequences_padded_with_nan_at_their_end_trains_and_comes_back_padded(capsys, tmp_path):
    x = pad_sequences([np.sin(0.3 * np.arange(n) + s)[:, None].repeat(2, 1).astype(np.float32)
                       for s, n in enumerate([12, 20, 16, 9, 20, 14] * 5)])  # fmt: skip
    np.save(tmp_path / "ragged.npy", x)
    run = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "lstm", "--data", tmp_path / "ragged.npy", "--epochs", "1", "--out", run)
    assert code == 0, err
    assert run_cli(capsys, "reconstruct", run, tmp_path / "ragged.npy", "-o", tmp_path / "rec.npy")[0] == 0
    rec = np.load(tmp_path / "rec.npy")
    np.testing.assert_array_equal(np.isnan(rec), np.isnan(x))
    x[3, 2, 0] = np.nan  # a gap inside a sequence is not padding
    np.save(tmp_path / "gap.npy", x)
    code, _, err = run_cli(capsys, "encode", run, tmp_path / "gap.npy", "-o", tmp_path / "z.npy")
    assert_one_line_error(code, err, "gap.npy", "sequence 3 has NaN or inf at step 2", "fill a gap (e.g. interpolate)")
    code, _, err = run_cli(capsys, "train", "lstm", "--data", tmp_path / "gap.npy", "--out", tmp_path / "r2")
    assert_one_line_error(code, err, "gap.npy", "sequence 3 has NaN or inf at step 2")


def test_the_estimator_takes_sequences_padded_with_nan_and_refuses_gaps():
    from aelab import AutoencoderOutlierDetector, AutoencoderTransformer
    from aelab.errors import AelabError

    x = pad_sequences([np.sin(0.3 * np.arange(n) + s)[:, None].repeat(2, 1).astype(np.float32)
                       for s, n in enumerate([12, 20, 16, 9, 20, 14] * 6)])  # fmt: skip
    est = AutoencoderTransformer(latent_dim=3, epochs=2).fit(x)
    assert np.isfinite(est.transform(x)).all() and np.isfinite(est.score(x))
    assert np.isfinite(AutoencoderOutlierDetector(latent_dim=3, epochs=2).fit(x).score_samples(x)).all()
    x[2, 3, 0] = np.nan
    with pytest.raises(AelabError, match="X: sequence 2 has NaN or inf at step 3"):
        est.transform(x)


def test_ucr_archive_tsv_files_train_test_and_encode_at_their_own_lengths(capsys, tmp_path):
    rng = np.random.default_rng(0)

    def write(path, n):  # the UCR layout: a label, then tab-separated values; shorter sequences stop early
        lines = []
        for i in range(n):
            steps = 30 if i % 3 else 22
            values = np.sin(0.3 * np.arange(steps) + rng.uniform(0, 6))
            lines.append(f"{i % 2}\t" + "\t".join(f"{v:.5f}" for v in values))
        path.write_text("\n".join(lines) + "\n")
        return path

    train, test = write(tmp_path / "S_TRAIN.tsv", 40), write(tmp_path / "S_TEST.tsv", 12)
    code, out, err = run_cli(
        capsys, "train", "--data", train, "--test-data", test, "--epochs", "1", "--out", tmp_path / "r"
    )
    assert code == 0, err
    assert "model: lstm, the default for sequence data" in out and "logistic probe" in out  # labels from column 1
    assert json.loads((tmp_path / "r" / "config.json").read_text())["model_config"]["seq_len"] == 30
    assert run_cli(capsys, "encode", tmp_path / "r", test, "-o", tmp_path / "codes.npy")[0] == 0
    assert np.load(tmp_path / "codes.npy").shape[0] == 12
    assert run_cli(capsys, "reconstruct", tmp_path / "r", test, "-o", tmp_path / "rec.csv")[0] == 0
    ids = [line.split(",")[0] for line in (tmp_path / "rec.csv").read_text().splitlines()[1:]]
    assert ids.count("0") == 22 and ids.count("1") == 30  # each sequence at its own length


def test_a_test_file_of_shorter_sequences_than_equal_length_training_ones_is_named(tmp_path):
    """Read as shorter sequences, as ragged data is; said, since two files of different lengths are as likely two
    different data sets (an OSULeaf run took ArrowHead's TEST without a word)."""
    from aelab.data import with_test_file

    rng = np.random.default_rng(0)
    np.save(tmp_path / "train.npy", rng.normal(size=(30, 12, 1)).astype(np.float32))
    np.save(tmp_path / "short.npy", rng.normal(size=(8, 7, 1)).astype(np.float32))
    dataset = load_dataset(str(tmp_path / "train.npy"), test_data=str(tmp_path / "short.npy"))
    assert dataset.test.x.shape == (8, 12, 1) and np.isnan(dataset.test.x[:, 7:]).all()
    (note,) = dataset.notes
    assert "short.npy: sequences of 7 steps where the training ones have 12" in note
    assert with_test_file(load_dataset(str(tmp_path / "train.npy")), tmp_path / "short.npy").notes == (note,)
    ragged = rng.normal(size=(30, 12, 1)).astype(np.float32)
    ragged[:5, 9:] = np.nan  # training data of several lengths: a shorter test file is ordinary
    np.save(tmp_path / "ragged.npy", ragged)
    assert load_dataset(str(tmp_path / "ragged.npy"), test_data=str(tmp_path / "short.npy")).notes == ()


def test_a_python_list_of_sequences_of_unequal_length_is_padded_as_a_ragged_csv_is(seq_run_for_lists):
    """`np.asarray` refused such a list ("inhomogeneous shape"); the loaded run and the estimator now pad it with NaN
    at the end, to the run's (the fitted) length, and a longer sequence or another feature count is one error."""
    run, x = seq_run_for_lists
    ragged = [x[0], x[1][:7]]
    codes = run.encode(ragged)
    np.testing.assert_allclose(codes[0], run.encode(x[:1])[0], rtol=1e-5, atol=1e-6)  # the full one codes alike
    recon = run.reconstruct(ragged)
    assert np.isnan(recon[1, 7:]).all() and np.isfinite(recon[1, :7]).all() and run.score(ragged).shape == (2,)
    with pytest.raises(AelabError, match=r"^x: sequences of up to 24 steps, the model takes 12"):
        run.encode([x[0], np.concatenate([x[1], x[1]])])
    with pytest.raises(AelabError, match=r"^x: sequences of 1 and 2 features"):
        run.encode([x[0], x[1][:, :1]])
    with pytest.raises(AelabError, match=r"the run's model takes \(12, 2\)"):
        run.encode(x[:, :7])  # an array stays as strict as an .npy file
    rng = np.random.default_rng(0)
    lists = [rng.normal(size=(int(rng.integers(6, 12)), 2)) for _ in range(24)]
    est = aelab.AutoencoderTransformer(latent_dim=3, max_steps=10).fit(lists)
    assert est.model_.input_shape == (max(map(len, lists)), 2) and est.transform(lists[:3]).shape == (3, 3)
    assert est.transform([lists[0][:4]]).shape == (1, 3)  # shorter than every training sequence: padded too
    with pytest.raises(AelabError, match=r"^X: sequences of up to 20 steps, the model takes \d+ \(fit it on"):
        est.transform([np.zeros((20, 2))])


@pytest.fixture(scope="module")
def seq_run_for_lists(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lists")
    x = np.random.default_rng(1).normal(size=(40, 12, 2)).astype(np.float32)
    np.save(folder / "x.npy", x)
    assert main(["train", "conv1d", "--data", str(folder / "x.npy"), "--epochs", "1", "--out", str(folder / "r")]) == 0
    return aelab.load_run(folder / "r"), x
