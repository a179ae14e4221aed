"""`torchrun -m aelab train` with 2 CPU processes (gloo) ends with the weights of one process at the same
global batch size (conv1d has no batch norm, so the two are the same computation)."""

import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from helpers import run_cli

pytestmark = pytest.mark.slow  # end to end through the CLI

# 400 -> 320 train / 80 val: 10 global batches of 32, 16 per rank
ARGS = [
    "train",
    "conv1d",
    "--data",
    "synthetic",
    "--train-size",
    "400",
    "--test-size",
    "100",
    "--epochs",
    "2",
    "--batch-size",
    "32",
]


def test_two_gloo_processes_match_one(capsys, tmp_path):
    ddp = tmp_path / "ddp"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "aelab",
            *ARGS,
            "--out",
            str(ddp),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("run written to") == 1  # rank 0 alone reports and writes
    code, _, err = run_cli(capsys, *ARGS, "--out", tmp_path / "single")
    assert code == 0, err
    a, b = load_file(str(ddp / "model.safetensors")), load_file(str(tmp_path / "single" / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
