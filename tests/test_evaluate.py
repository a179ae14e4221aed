"""The code behind every "beats PCA" number: error sums, the PCA baseline and PCA's curve over latent sizes."""

import math

import numpy as np
import pytest
from sklearn.decomposition import PCA

from aelab.data import Dataset, DataSpec, Split
from aelab.evaluate import ErrorSums, PCABaseline, per_sample_mse
from aelab.workflows import pca_curve


class OnDisk:
    """An array seen the way a streamed split is: `len`, `shape`, `dtype` and NumPy indexing, but no ndarray."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim

    def __len__(self):
        return len(self.array)

    def __getitem__(self, key):
        return self.array[key]


def low_rank(n, dims=(6, 5), rank=3, seed=0):
    rng = np.random.default_rng(seed)
    flat = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, math.prod(dims))) + 0.1 * rng.normal(
        size=(n, math.prod(dims))
    )
    return flat.reshape(n, *dims).astype(np.float32)


def test_error_sums_over_batches_equal_the_whole_arrays_errors():
    rng = np.random.default_rng(1)
    x, x_hat = rng.normal(size=(50, 4, 3)).astype(np.float32), rng.normal(size=(50, 4, 3)).astype(np.float32)
    sums = ErrorSums()
    for start in range(0, 50, 16):
        sums.add(x[start : start + 16], x_hat[start : start + 16])
    m = sums.metrics(peak=2.0)
    diff = x_hat.astype(np.float64) - x
    assert m["mse"] == pytest.approx(np.mean(diff**2), rel=1e-12)
    assert m["mae"] == pytest.approx(np.mean(np.abs(diff)), rel=1e-12)
    assert m["rmse"] == pytest.approx(math.sqrt(np.mean(diff**2)))
    assert m["psnr"] == pytest.approx(10 * math.log10(4.0 / np.mean(diff**2)))
    assert (sums.low, sums.high) == (float(x.min()), float(x.max()))
    np.testing.assert_allclose(per_sample_mse(x, x_hat), np.mean(diff.reshape(50, -1) ** 2, axis=1))


def test_a_perfect_reconstruction_has_infinite_psnr():
    x = np.ones((3, 2), np.float32)
    sums = ErrorSums()
    sums.add(x, x)
    assert sums.metrics(peak=1.0)["mse"] == 0 and sums.metrics(peak=1.0)["psnr"] == math.inf


def test_pca_baseline_is_sklearn_pca_and_streams_alike():
    x = low_rank(300)
    in_memory = PCABaseline(3).fit(x)
    streamed = PCABaseline(3).fit(OnDisk(x))  # gathered batch by batch
    reference = PCA(3, random_state=42).fit(x.reshape(300, -1))
    for baseline in (in_memory, streamed):
        np.testing.assert_allclose(np.abs(baseline.pca_.components_), np.abs(reference.components_), atol=1e-5)
    codes = in_memory.transform(x)
    np.testing.assert_allclose(in_memory.transform(OnDisk(x)), codes, atol=1e-5)
    x_hat = in_memory.inverse_transform(codes, x.shape[1:])
    assert x_hat.shape == x.shape
    # rank-3 data plus noise: three components leave about the noise's variance
    assert np.mean((x_hat - x) ** 2) == pytest.approx(0.01, rel=0.2)


def test_pca_baseline_subsamples_large_data_and_clips(monkeypatch):
    from aelab import evaluate

    monkeypatch.setattr(evaluate, "PCA_MAX_ROWS", 100)
    x = np.clip(low_rank(400) * 0.2 + 0.5, 0, 1)
    baseline = PCABaseline(2, clip=(0.0, 1.0)).fit(x)
    assert baseline.pca_.n_samples_ == 100
    x_hat = baseline.inverse_transform(baseline.transform(x) * 10, x.shape[1:])  # far outside: clipped
    assert x_hat.min() >= 0 and x_hat.max() <= 1


def test_pca_curve_matches_a_separate_pca_per_latent_size():
    x = low_rank(400, rank=5)
    split = dict(train=Split(x[:300], None), val=Split(x[300:320], None), test=Split(x[320:], None))
    dataset = Dataset("sequence", **split, class_names=None, spec=DataSpec("made.npy"))
    curve = pca_curve(dataset, dims=(1, 2, 4, 8, 64))
    assert curve["latent_dims"] == [1, 2, 4, 8]  # 64 exceeds the 30 values per sample
    for d, mse in zip(curve["latent_dims"], curve["test_mse"], strict=True):
        pca = PCA(d, random_state=42).fit(x[:300].reshape(300, -1))
        test = x[320:].reshape(80, -1)
        expected = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
        assert mse == pytest.approx(expected, rel=1e-4)
    assert curve["test_mse"] == sorted(curve["test_mse"], reverse=True)  # more components, less error
