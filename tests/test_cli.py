"""The CLI through `main(argv)`, in-process: help, validation errors, and small end-to-end runs."""

import json
import math

import numpy as np
import pytest
import torch

from aelab import load_run
from aelab.cli import main

from helpers import assert_one_line_error, run_cli, write_image_folder

SUBCOMMANDS = ["train", "evaluate", "lab", "sweep", "report", "encode", "reconstruct", "score", "export"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help(capsys, command):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0 and "Usage: aelab " + command in out


@pytest.mark.parametrize(
    "command, in_order",
    [
        ("train", ["--out", "--data", "--labels", "--test-data", "--window", "--seed", "--latent-dim", "--preset",
                   "--epochs", "--augment", "--resume", "--force"]),
        ("score", ["-o, --output", "--batch-size", "--percentile", "--plot"]),
    ],
)  # fmt: skip
def test_help_lists_options_in_the_order_written(capsys, command, in_order):
    """Data, then the model, then training; a command's own options after the shared ones."""
    _, out, _ = run_cli(capsys, command, "--help")
    listed = [line.split()[0].rstrip(",") for line in out.splitlines() if line.startswith("  -")]
    listed = ["-o, --output" if option == "-o" else option for option in listed]
    assert [option for option in listed if option in in_order] == in_order


def test_top_level_help_lists_commands(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and all(c in out for c in SUBCOMMANDS)


def test_unknown_model_is_a_usage_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "resnet", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "resnet")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--latent-dim", "0"], ["--latent-dim", "positive"]),
        (["--latent-dim", "100"], ["--latent-dim", "exceeds the 64 values"]),
        (["--train-size", "100000"], ["--train-size", "only 1438 are available"]),
        (["--train-size", "5"], ["--train-size", "10 classes"]),
        (["--batch-size", "5000"], ["--batch-size", "exceeds"]),
        (["--epochs", "0"], ["--epochs", "positive"]),
        (["--contrastive", "-1"], ["--contrastive", "0 or more"]),
        (["--seed", "-1"], ["--seed", "0<=x<=4294967295"]),  # was an internal error from the data split
    ],
)
def test_option_validation(capsys, tmp_path, args, fragments):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "cnn", "--data", "digits", "--out", out, *args)
    assert_one_line_error(code, err, *fragments)
    assert not (out / "metrics.json").exists()


def test_image_size_the_model_cannot_take(capsys, tmp_path):
    np.save(
        tmp_path / "odd.npy",
        np.zeros((40, 10, 10, 3), dtype=np.uint8) + np.arange(40)[:, None, None, None].astype(np.uint8),
    )
    code, _, err = run_cli(capsys, "train", "cnn-seed", "--data", tmp_path / "odd.npy", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "10x10", "multiples of 4", "the default cnn takes any size")


def test_a_constant_feature_is_centred_and_comes_back_constant(capsys, tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 8, 2)).astype(np.float32)
    x[:, :, 0] = 1.0
    np.save(tmp_path / "flat.npy", x)
    args = ["--data", tmp_path / "flat.npy", "--epochs", "1", "--out", tmp_path / "r"]
    code, out, err = run_cli(capsys, "train", "lstm", *args)
    assert code == 0, err
    assert "flat.npy: constant on the training split, so only centred: feature 0 (a later change" in out  # said
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert "constant" not in config["normalization"]  # a note, not a statistic the run keeps
    assert config["normalization"]["std"][0] == 1.0 and config["normalization"]["mean"][0] == 1.0
    assert run_cli(capsys, "reconstruct", tmp_path / "r", tmp_path / "flat.npy", "-o", tmp_path / "rec.npy")[0] == 0
    np.testing.assert_allclose(np.load(tmp_path / "rec.npy")[:, :, 0], 1.0, atol=0.05)


def test_data_of_the_wrong_kind(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "lstm", "--data", "digits", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "images", "sequences")


def test_contrastive_term_needs_images(capsys, tmp_path):
    code, _, err = run_cli(
        capsys,
        "train",
        "conv1d",
        "--data",
        "synthetic",
        "--train-size",
        "200",
        "--contrastive",
        "0.1",
        "--out",
        tmp_path / "r",
    )
    assert_one_line_error(code, err, "--contrastive", "image models")
    assert not (tmp_path / "r" / "metrics.json").exists()


@pytest.mark.slow
def test_contrastive_training_writes_a_run_and_its_history(capsys, tmp_path):
    out = tmp_path / "r"
    code, _, _ = run_cli(
        capsys, "train", "cnn", "--data", "digits", "--epochs", "2", "--contrastive", "0.05", "--out", out
    )
    assert code == 0
    history = json.loads((out / "history.json").read_text())
    assert len(history["contrastive"]) == 2 and all(math.isfinite(v) for v in history["contrastive"])
    assert json.loads((out / "config.json").read_text())["train"]["contrastive"] == 0.05
    assert math.isfinite(json.loads((out / "metrics.json").read_text())["probe_logreg"])


def test_non_empty_out_is_refused(capsys, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, "train", "cnn", "--data", "digits", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "--out", "not empty", "--force")
    assert (tmp_path / "r" / "keep.txt").read_text() == "mine"


def test_force_with_bad_data_keeps_the_old_run(capsys, tmp_path):
    """--force replaces a run once the new one has its data: a mistyped or broken --data must not cost the old run."""
    table = tmp_path / "t.csv"
    rows = np.random.default_rng(0).normal(size=(60, 3))
    table.write_text("a,b,c\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    out = tmp_path / "r"
    assert run_cli(capsys, "train", "dense", "--data", table, "--epochs", "1", "--out", out)[0] == 0
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n1,x\n")
    for data in (tmp_path / "missing.csv", broken):
        code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--out", out, "--force")
        assert_one_line_error(code, err, data.name)
        assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before


def test_report_compares_any_directory_of_runs(capsys, tmp_path):
    """`aelab report` renders a user's own runs (any sub-directory names), not only a lab's cnn/, lstm/, ..."""
    table = tmp_path / "t.csv"
    rows = np.random.default_rng(0).normal(size=(80, 4))
    table.write_text("a,b,c,d\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    runs = tmp_path / "runs"
    for name, latent in (("small", "1"), ("wide", "3")):
        args = ["train", "dense", "--data", table, "--latent-dim", latent, "--epochs", "1", "--out", runs / name]
        assert run_cli(capsys, *args)[0] == 0
    (runs / "unfinished" / "checkpoints").mkdir(parents=True)
    code, _, err = run_cli(capsys, "report", runs)
    assert code == 0, err
    report = (runs / "report.md").read_text()
    assert report.startswith("# Runs in runs, each beside PCA")
    for name, latent in (("small", 1), ("wide", 3)):
        metrics = json.loads((runs / name / "metrics.json").read_text())
        assert f"`{name} (dense)` on {table}: test MSE {metrics['test_mse']:.4g}" in report
        assert f"PCA-{latent} ({table})" in report
    assert "unfinished" not in report and "CNN vs LSTM" not in report and "anomaly AUROC" not in report
    compared = [row["model"] for row in json.loads((runs / "comparison.json").read_text())]
    assert compared == ["small (dense)", "wide (dense)", f"PCA-1 ({table})", f"PCA-3 ({table})"]
    code, _, err = run_cli(capsys, "report", table)
    assert_one_line_error(code, err, "not a directory")


def test_report_says_how_errors_rank_marked_anomalies(capsys, tmp_path):
    """A run whose test data marks anomalies (here a table's is_anomaly rows) gets its anomaly metrics in the report,
    PCA's beside them; compression ratios under 10 keep their decimals (4 values -> 3 is not "1x")."""
    rng = np.random.default_rng(0)
    rows, flags = rng.normal(size=(120, 4)), np.arange(120) % 10 == 0
    rows[flags] *= 6
    table = tmp_path / "t.csv"
    lines = [",".join([*map(str, row), str(int(flag))]) for row, flag in zip(rows, flags, strict=True)]
    table.write_text("a,b,c,d,is_anomaly\n" + "\n".join(lines) + "\n")
    runs = tmp_path / "runs"
    args = ["train", "dense", "--data", table, "--latent-dim", "3", "--epochs", "1", "--out", runs / "flagged"]
    assert run_cli(capsys, *args)[0] == 0
    assert run_cli(capsys, "report", runs)[0] == 0
    report, m = (runs / "report.md").read_text(), json.loads((runs / "flagged" / "metrics.json").read_text())
    assert "## How well do the errors find anomalies?" in report
    assert (
        f"`flagged (dense)` on the test rows marked is_anomaly: AUROC {m['anomaly_auroc']:.3f} "
        f"(PCA {m['pca_anomaly_auroc']:.3f}), AUPRC {m['anomaly_auprc']:.3f}"
    ) in report
    assert "at 1.33x compression (4 values -> 3)" in report
    assert "| anomaly AUROC |" in report
    compared = {row["model"]: row for row in json.loads((runs / "comparison.json").read_text())}
    assert compared["flagged (dense)"]["anomaly_auroc"] == m["anomaly_auroc"]
    assert compared[f"PCA-3 ({table})"]["anomaly_auroc"] == m["pca_anomaly_auroc"]


def test_unwritable_out(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "train", "cnn", "--data", "digits", "--out", blocker / "run")
    assert_one_line_error(code, err, "--out")


def test_missing_cifar_is_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "cnn", "--cifar10", tmp_path / "nowhere", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "nowhere")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits-cnn"
    code = main(
        [
            "train",
            "cnn",
            "--data",
            "digits",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--latent-dim",
            "8",
            "--train-size",
            "400",
            "--test-size",
            "100",
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def sequence_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq")
    rng = np.random.default_rng(0)
    t = np.arange(20)
    x = np.sin(rng.uniform(0.2, 0.6, (120, 1, 3)) * t[None, :, None]) + 3 + 0.05 * rng.normal(size=(120, 20, 3))
    np.save(root / "seq.npy", x.astype(np.float32))
    np.save(root / "labels.npy", (np.arange(120) % 2))
    out = root / "run"
    assert (
        main(
            [
                "train",
                "lstm",
                "--data",
                str(root / "seq.npy"),
                "--labels",
                str(root / "labels.npy"),
                "--out",
                str(out),
                "--epochs",
                "2",
                "--latent-dim",
                "6",
            ]
        )
        == 0
    )
    return out


def test_train_writes_the_contract_run_directory(digits_run):
    for name in (
        "config.json",
        "model.safetensors",
        "history.json",
        "metrics.json",
        "timings.json",
        "environment.json",
        "plots/history.png",
        "plots/reconstructions.png",
        "plots/latent.png",
        "checkpoints/last.pt",
    ):
        assert (digits_run / name).exists(), name
    assert not (digits_run / ".staging").exists()
    config = json.loads((digits_run / "config.json").read_text())
    assert config["schema_version"] == 1 and config["model"] == "cnn" and config["class_names"][0] == "0"
    metrics = json.loads((digits_run / "metrics.json").read_text())
    for key in (
        "test_mse",
        "test_mae",
        "test_rmse",
        "test_psnr",
        "latent_dim",
        "input_dim",
        "compression_ratio",
        "compression_pct",
        "params",
        "epochs",
        "pca_test_mse",
        "pca_test_mae",
        "probe_logreg",
        "probe_knn",
        "pca_probe_logreg",
        "pca_probe_knn",
    ):
        assert key in metrics, key
    assert metrics["compression_ratio"] == 8.0 and metrics["epochs"] == 2
    assert abs(metrics["test_psnr"] - 10 * np.log10(1 / metrics["test_mse"])) < 1e-9
    assert 0 <= metrics["probe_logreg"] <= 1
    history = json.loads((digits_run / "history.json").read_text())
    assert set(history) >= {"loss", "mae", "val_loss", "val_mae", "seconds"}
    timings = json.loads((digits_run / "timings.json").read_text())
    assert timings["train_seconds"] > 0 and "train_seconds" not in metrics
    torch.load(digits_run / "checkpoints" / "last.pt", weights_only=True)


def test_save_load_round_trip_gives_identical_outputs(digits_run):
    from aelab.data import load_dataset

    run = load_run(digits_run)
    x = torch.from_numpy(load_dataset("digits", train_size=400, test_size=100).test.x[:16])
    again = load_run(digits_run)
    with torch.no_grad():
        torch.testing.assert_close(run.model(x), again.model(x), rtol=0, atol=0)
        assert run.model.encode(x).shape == (16, 8)


def test_evaluate_recomputes_the_same_metrics(capsys, digits_run):
    before = json.loads((digits_run / "metrics.json").read_text())
    code, out, _ = run_cli(capsys, "evaluate", digits_run)
    assert code == 0 and "test_mse=" in out
    after = json.loads((digits_run / "metrics.json").read_text())
    assert after["test_mse"] == pytest.approx(before["test_mse"], rel=1e-6)
    assert after["pca_test_mse"] == pytest.approx(before["pca_test_mse"], rel=1e-6)


def test_evaluating_a_run_whose_data_moved_names_the_run_and_the_path(capsys, tmp_path):
    """It read "--data: 'table.npy' is neither cifar10, digits, synthetic nor an existing path" without a --data."""
    np.save(tmp_path / "table.npy", np.random.default_rng(0).normal(size=(80, 4)))
    code, _, _ = run_cli(capsys, "train", "dense", "--data", tmp_path / "table.npy", "--out", tmp_path / "run",
                         "--epochs", "1")  # fmt: skip
    assert code == 0
    (tmp_path / "table.npy").rename(tmp_path / "moved.npy")
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "run")
    assert_one_line_error(code, err, f"{tmp_path / 'run'}: its data {tmp_path / 'table.npy'} is not there", "--data")
    code, out, _ = run_cli(capsys, "evaluate", tmp_path / "run", "--data", tmp_path / "moved.npy")
    assert code == 0 and "test_mse=" in out


def test_an_image_run_is_evaluated_on_another_folder(capsys, tmp_path):
    data = write_image_folder(tmp_path / "photos", per_class=8, test_per_class=2, size=8)
    run = tmp_path / "run"
    assert run_cli(capsys, "train", "cnn", "--data", data, "--epochs", "1", "--out", run)[0] == 0
    other = write_image_folder(tmp_path / "other", per_class=4, test_per_class=0, size=8) / "train"
    code, out, err = run_cli(capsys, "evaluate", run, "--test-data", other)
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["evaluated_on"] == str(other) and "probe_logreg" in metrics  # its classes are the run's
    larger = write_image_folder(tmp_path / "larger", per_class=2, test_per_class=0, size=12) / "train"
    code, _, err = run_cli(capsys, "evaluate", run, "--test-data", larger)
    assert_one_line_error(code, err, str(larger), "images of shape (3, 12, 12), the run takes (3, 8, 8)")


def test_sequence_run_keeps_its_normalisation(sequence_run):
    config = json.loads((sequence_run / "config.json").read_text())
    assert np.allclose(config["normalization"]["mean"], 3, atol=0.2)
    metrics = json.loads((sequence_run / "metrics.json").read_text())
    assert "probe_logreg" in metrics and metrics["latent_dim"] == 6


@pytest.mark.slow
def test_force_overwrites_a_run(capsys, tmp_path):
    out = tmp_path / "r"
    args = [
        "train",
        "conv1d",
        "--data",
        "synthetic",
        "--train-size",
        "200",
        "--test-size",
        "50",
        "--epochs",
        "1",
        "--out",
        out,
    ]
    assert run_cli(capsys, *args)[0] == 0
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "not empty" in err
    assert run_cli(capsys, *args, "--force")[0] == 0


@pytest.mark.slow
def test_same_seed_gives_byte_identical_metrics(capsys, tmp_path):
    args = ["--data", "synthetic", "--train-size", "200", "--test-size", "50", "--epochs", "2"]
    for name in ("a", "b"):
        assert run_cli(capsys, "train", "conv1d", "--out", tmp_path / name, *args)[0] == 0
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (tmp_path / "b" / "metrics.json").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["folder", "npy"])
def test_streamed_training_matches_in_memory_training(capsys, tmp_path, source):
    """Streaming changes where batches come from, not what they hold: same seed, same metrics and weights."""
    if source == "folder":
        data = write_image_folder(tmp_path / "images", per_class=10, size=8)
    else:
        data = tmp_path / "images.npy"
        np.save(data, np.random.default_rng(0).integers(0, 256, (60, 8, 8, 3), dtype=np.uint8))
    args = ["--data", data, "--epochs", "2", "--batch-size", "8", "--latent-dim", "4"]
    assert run_cli(capsys, "train", "cnn", "--out", tmp_path / "memory", "--in-memory", *args)[0] == 0
    workers = "1" if source == "folder" else "0"  # a background reader, and reading in the training process
    assert (
        run_cli(capsys, "train", "cnn", "--out", tmp_path / "stream", "--stream", "--workers", workers, *args)[0] == 0
    )
    memory, stream = (json.loads((tmp_path / r / "metrics.json").read_text()) for r in ("memory", "stream"))
    assert memory["test_mse"] == pytest.approx(stream["test_mse"], rel=1e-6)
    assert memory["pca_test_mse"] == pytest.approx(stream["pca_test_mse"], rel=1e-6)
    assert memory.get("probe_logreg") == stream.get("probe_logreg")  # npy data has no labels
    assert (tmp_path / "stream" / "plots" / "reconstructions.png").stat().st_size > 0


def test_sweep_takes_the_training_options_of_train(capsys, tmp_path):
    args = ["--data", "synthetic", "--train-size", "60", "--test-size", "20", "--epochs", "1"]
    options = ["--init", "random", "--augment", "none", "--lr", "0.005", "--batch-size", "16"]
    code, out, err = run_cli(capsys, "sweep", "lstm", "--latent-dims", "2,3", *args, *options, "--out", tmp_path / "s")
    assert code == 0, err
    sweep = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert [r["latent_dim"] for r in sweep["rows"]] == [2, 3] and (tmp_path / "s" / "rate_distortion.png").exists()
    table = out[out.index("sweep lstm on synthetic:") :].splitlines()  # a row per size, each beside PCA's
    assert table[1].split() == ["latent", "test", "MSE", "PCA", "MSE", "vs", "PCA", "probe", "seconds"]
    for line, row in zip(table[2:4], sweep["rows"], strict=True):
        assert line.split()[:4] == [str(row["latent_dim"]), f"{row['test_mse']:.5g}", f"{row['pca_test_mse']:.5g}",
                                    f"{row['test_mse'] / row['pca_test_mse']:.3f}x"]  # fmt: skip
    config = json.loads((tmp_path / "s" / "latent-2" / "config.json").read_text())
    assert config["model_config"]["init"] == "random"
    assert (config["train"]["augment"], config["train"]["lr"], config["train"]["batch_size"]) == ("none", 0.005, 16)
    code, _, err = run_cli(
        capsys, "sweep", "lstm", "--latent-dims", "2", *args, "--augment", "flip", "--out", tmp_path / "f"
    )
    assert code == 2 and "augment: 'flip' does not apply to sequences" in err


def test_a_sweep_with_a_latent_size_too_large_for_the_data_trains_nothing(capsys, tmp_path):
    data = tmp_path / "t.npy"
    np.save(data, np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32))
    code, _, err = run_cli(capsys, "sweep", "dense", "--data", data, "--latent-dims", "1,5,9", "--out", tmp_path / "s")
    assert_one_line_error(code, err, "--latent-dims: 5, 9 exceed the 3 values per sample")
    assert not list((tmp_path / "s").glob("latent-*"))


def test_a_sweep_names_exact_reconstructions_rather_than_a_ratio_of_float_noise(capsys, tmp_path):
    """A stream the model and PCA both rebuild to 1e-13 showed 0.957x, which read as a win."""
    x = np.random.default_rng(0).normal(size=(200, 2))
    np.save(tmp_path / "t.npy", np.hstack([x, x @ [[1.0], [2.0]], x @ [[0.5], [-1.0]]]).astype(np.float32))
    code, out, _ = run_cli(capsys, "sweep", "dense", "--data", tmp_path / "t.npy", "--latent-dims", "1,2",
                           "--out", tmp_path / "s", "--epochs", "2")  # fmt: skip
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert code == 0 and rows["2"][3] == "exact" and rows["1"][3].endswith("x")


def test_report_of_a_sweep_directory_draws_its_latent_sizes(capsys, tmp_path):
    """`aelab report` on what `aelab sweep --out DIR` wrote: each size a run, and the sweep's own rate-distortion."""
    x = np.random.default_rng(0).normal(size=(120, 5)).astype(np.float32)
    np.save(tmp_path / "t.npy", x)
    args = [
        "sweep",
        "dense",
        "--data",
        tmp_path / "t.npy",
        "--latent-dims",
        "1,3",
        "--epochs",
        "1",
        "--out",
        tmp_path / "s",
    ]
    assert run_cli(capsys, *args)[0] == 0
    assert run_cli(capsys, "report", tmp_path / "s")[0] == 0
    report = (tmp_path / "s" / "report.md").read_text()
    assert "`latent-1 (dense)`" in report and "`latent-3 (dense)`" in report
    assert "## How does latent size affect quality?" in report and "`dense` sweep: " in report
    assert (tmp_path / "s" / "plots" / "rate_distortion.png").exists()
