"""A run killed with SIGKILL mid-training resumes from its checkpoint and ends where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from helpers import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow  # end to end through the CLI

# --init random: the weights training reaches are compared; a default run this small starts as PCA, which training
# does not move here, and its second, random start would run whole after the kill in both runs
ARGS = ["train", "conv1d", "--data", "synthetic", "--train-size", "2000", "--test-size", "200", "--epochs", "8",
        "--init", "random"]  # fmt: skip


def _kill_at(args, out, checkpoint_name: str, epoch_at_least: int = 2) -> int:
    """Run `aelab *args --out out` and SIGKILL it once checkpoints/`checkpoint_name` holds `epoch_at_least`
    epochs; return the epoch it held."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aelab", *args, "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = out / "checkpoints" / checkpoint_name
    deadline = time.time() + 120
    epoch = 0
    while time.time() < deadline and proc.poll() is None:
        if checkpoint.exists():
            try:
                epoch = torch.load(checkpoint, weights_only=True)["epoch"]
            except Exception:  # caught between write and rename: try again
                epoch = 0
            if epoch >= epoch_at_least:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return epoch


def _resumed_and_whole(capsys, args, killed, whole) -> tuple[dict, dict]:
    """The metrics of the killed run resumed, and of the same run uninterrupted."""
    for out, more in ((killed, ["--resume"]), (whole, [])):
        code, _, err = run_cli(capsys, *args, "--out", out, *more)
        assert code == 0, err
    return tuple(json.loads((out / "metrics.json").read_text()) for out in (killed, whole))


def test_sigkill_then_resume_matches_uninterrupted(capsys, tmp_path):
    killed = tmp_path / "killed"
    epoch = _kill_at(ARGS, killed, "last.pt")
    assert 2 <= epoch < 8, f"killed at epoch {epoch}"
    assert not (killed / "metrics.json").exists()  # no final artefacts from a killed run
    resumed, whole = _resumed_and_whole(capsys, ARGS, killed, tmp_path / "whole")
    assert resumed["epochs"] == whole["epochs"] == 8
    assert abs(resumed["test_mse"] - whole["test_mse"]) <= 0.01 * whole["test_mse"]


def test_a_run_killed_in_its_random_second_start_resumes_it(capsys, tmp_path):
    """A default run this small starts as PCA, which 8 epochs do not move; its random second start, kept here
    (0.69x PCA-20), is killed midway and resumed from its own checkpoint."""
    args = ARGS[: ARGS.index("--init")]
    killed = tmp_path / "killed"
    epoch = _kill_at(args, killed, "random-start.pt")
    assert 2 <= epoch < 8, f"killed at epoch {epoch} of the second start"
    resumed, whole = _resumed_and_whole(capsys, args, killed, tmp_path / "whole")
    assert resumed["random_start"] is whole["random_start"] is True
    assert abs(resumed["test_mse"] - whole["test_mse"]) <= 0.01 * whole["test_mse"]


def test_a_resume_with_other_data_or_another_model_size_is_refused_naming_each(capsys, tmp_path):
    """Other data of the same shape resumed the checkpoint and wrote a run that read as trained on it; another
    latent size stopped in torch's "size mismatch" of many lines."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", rng.normal(size=(80, 5)))
    out = tmp_path / "run"
    base = ["train", "dense", "--out", out, "--epochs", "2"]
    assert run_cli(capsys, *base, "--data", tmp_path / "a.npy")[0] == 0
    for more, fragment in (
        (["--data", tmp_path / "b.npy"], f"data.data='{tmp_path / 'b.npy'}' (checkpoint: '{tmp_path / 'a.npy'}')"),
        (["--data", tmp_path / "a.npy", "--latent-dim", "2"], "model.latent_dim=2 (checkpoint: 4)"),
    ):
        code, _, err = run_cli(capsys, *base, *more, "--resume")
        assert_one_line_error(code, err, "--resume:", "trained with other settings", fragment)
    code, _, err = run_cli(capsys, *base, "--data", tmp_path / "a.npy", "--resume")  # the same run resumes
    assert code == 0, err
