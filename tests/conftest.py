import pickle
import tarfile

import numpy as np
import pytest

from helpers import fake_batch, write_image_folder


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own cache and no CIFAR-10 from the environment."""
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("AELAB_CIFAR10", raising=False)


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
