"""`aelab lab` end to end on a tiny image folder and a small slice of the synthetic sequences."""

import csv
import json

import pytest

from aelab.evaluate import MATCH_BAND
from aelab.report import COLUMNS

from helpers import assert_one_line_error, run_cli, write_image_folder

pytestmark = pytest.mark.slow  # end to end through the CLI


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    from aelab.cli import main

    root = tmp_path_factory.mktemp("lab")
    cifar = write_image_folder(
        root / "c10", per_class=12, test_per_class=3, size=8, classes=tuple(f"class{i}" for i in range(10))
    )
    out = root / "lab"
    code = main(
        [
            "lab",
            "--out",
            str(out),
            "--cifar10",
            str(cifar),
            "--train-size",
            "100",
            "--test-size",
            "30",
            "--epochs",
            "1",
            "--with-seed-models",
        ]
    )
    assert code == 0
    return out


def test_lab_writes_every_run_and_the_comparison(lab_dir):
    for model in ("cnn", "lstm", "conv1d", "cnn-seed", "lstm-seed"):
        assert (lab_dir / model / "metrics.json").exists(), model
    rows = list(csv.DictReader((lab_dir / "comparison.csv").open()))
    assert list(rows[0]) == COLUMNS
    names = [r["model"] for r in rows]
    assert {"cnn", "lstm", "conv1d", "cnn-seed", "lstm-seed"} <= set(names)
    assert any(n.startswith("PCA-32") for n in names) and any(n.startswith("PCA-20") for n in names)
    assert json.loads((lab_dir / "comparison.json").read_text())[0]["model"] == rows[0]["model"]
    for plot in ("model_comparison.png", "rate_distortion.png"):
        assert (lab_dir / "plots" / plot).stat().st_size > 1000


def test_report_quotes_the_measured_numbers(lab_dir):
    report = (lab_dir / "report.md").read_text()
    metrics = json.loads((lab_dir / "lstm" / "metrics.json").read_text())
    assert f"{metrics['test_mse']:.4g}" in report and f"{metrics['pca_test_mse']:.4g}" in report
    for question in ("How well does each model reconstruct", "latent space", "latent size", "CNN vs LSTM", "Where"):
        assert question in report
    ratio = metrics["test_mse"] / metrics["pca_test_mse"]
    # within MATCH_BAND of 1 (an lstm that ended as PCA, reconstructing as it does up to float rounding) it matches
    verdict = "matches PCA-20" if abs(ratio - 1) <= MATCH_BAND else "beats PCA-20" if ratio < 1 else "loses to PCA-20"
    assert verdict in report
    assert "{" not in report.replace("```", "")  # no unfilled template fields
    html = (lab_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5 and "<table>" in html


def test_report_rerenders_from_saved_files_and_picks_up_sweeps(capsys, lab_dir):
    code, _, err = run_cli(
        capsys,
        "sweep",
        "lstm",
        "--latent-dims",
        "2,4",
        "--data",
        "synthetic",
        "--train-size",
        "100",
        "--test-size",
        "30",
        "--epochs",
        "1",
        "--out",
        lab_dir / "sweep-lstm",
    )
    assert code == 0, err
    sweep = json.loads((lab_dir / "sweep-lstm" / "sweep.json").read_text())
    assert [r["latent_dim"] for r in sweep["rows"]] == [2, 4]
    (lab_dir / "report.md").unlink()
    code, _, err = run_cli(capsys, "report", lab_dir)
    assert code == 0, err
    report = (lab_dir / "report.md").read_text()
    assert "`lstm` sweep: beats PCA at latent sizes" in report


def test_report_on_a_single_run_says_what_it_needs(capsys, lab_dir):

    code, _, err = run_cli(capsys, "report", lab_dir / "cnn")
    assert_one_line_error(code, err, "is a single run", "lab directory")
    assert not (lab_dir / "cnn" / "report.md").exists()
