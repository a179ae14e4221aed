import io
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from aelab.cli import main

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own cache and no CIFAR-10 from the environment."""
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("AELAB_CIFAR10", raising=False)


def fake_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [i % 10 for i in range(n)]}


@pytest.fixture
def cifar_batches(tmp_path):
    """The official python layout with 5 x 20 training and 20 test images."""
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for i in range(1, 6):
        (root / f"data_batch_{i}").write_bytes(pickle.dumps(fake_batch(20, i)))
    (root / "test_batch").write_bytes(pickle.dumps(fake_batch(20, 99)))
    return root


@pytest.fixture
def cifar_tarball(cifar_batches, tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(cifar_batches, arcname="cifar-10-batches-py")
    return path


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


@pytest.fixture
def image_folder(tmp_path):
    return write_image_folder(tmp_path / "images")


@pytest.fixture
def sequences_npy(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(12)
    x = np.sin(rng.uniform(0.2, 0.6, (60, 1, 3)) * t[None, :, None]) + 0.05 * rng.normal(size=(60, 12, 3))
    path = tmp_path / "seq.npy"
    np.save(path, x.astype(np.float32))
    return path


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
