"""Helpers the tests share: tiny data sets written to disk, and the CLI run in-process."""

import numpy as np
from PIL import Image

from aelab.cli import main


def fake_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [i % 10 for i in range(n)]}


def write_image_folder(root, per_class=6, test_per_class=3, size=8, classes=("a", "b", "c"), mode="RGB"):
    rng = np.random.default_rng(0)
    for split, n in (("train", per_class), ("test", test_per_class)):
        for c in classes:
            d = root / split / c
            d.mkdir(parents=True)
            for i in range(n):
                shape = (size, size, 3) if mode == "RGB" else (size, size)
                Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(d / f"{i}.png")
    return root


def write_sequence_csv(path, n=20, steps=8, features=2, label=True):
    rng = np.random.default_rng(1)
    cols = ["sequence_id", "t"] + [f"f{j}" for j in range(features)] + (["label"] if label else [])
    lines = [",".join(cols)]
    for s in range(n):
        for t in range(steps):
            vals = [f"{v:.4f}" for v in rng.normal(size=features)]
            lines.append(",".join([f"s{s}", str(t), *vals] + ([str(s % 2)] if label else [])))
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(capsys, *argv):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
