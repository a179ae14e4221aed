"""scikit-learn is the judge of the estimators' conformance: its own checks, then the uses people make of them."""

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from aelab import AelabError, AutoencoderOutlierDetector, AutoencoderTransformer


@parametrize_with_checks([AutoencoderTransformer(max_steps=20), AutoencoderOutlierDetector(max_steps=20)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_a_pipeline_with_a_grid_search_over_the_latent_size():
    X, y = load_wine(return_X_y=True)
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("ae", AutoencoderTransformer(max_steps=100)), ("clf", LogisticRegression())]
    )
    search = GridSearchCV(pipeline, {"ae__latent_dim": [2, 6]}, cv=3).fit(X, y)
    assert search.best_params_["ae__latent_dim"] in (2, 6) and search.best_score_ > 0.8
    assert search.predict(X[:5]).shape == (5,)
    names = search.best_estimator_[:-1].get_feature_names_out()  # the codes, named as scikit-learn names new features
    assert list(names) == [f"autoencodertransformer{i}" for i in range(search.best_params_["ae__latent_dim"])]


def test_numpy_typed_parameters_as_a_grid_over_np_arange_gives_them_fit_save_and_load(tmp_path):
    """np.int64 epochs were refused as "not a positive integer", an np.int64 seed stopped in torch ("an integer is
    required") and any NumPy-typed parameter in `save` ("int64 is not JSON serializable")."""
    X = load_wine().data
    search = GridSearchCV(AutoencoderTransformer(max_steps=20), {"latent_dim": np.arange(2, 4)}, cv=2).fit(X)
    assert isinstance(search.best_params_["latent_dim"], np.integer)
    typed = dict(epochs=np.int64(2), batch_size=np.int64(32), seed=np.int64(7), val_fraction=np.float32(0.2))
    for est in (search.best_estimator_, AutoencoderTransformer(**typed), AutoencoderOutlierDetector(**typed)):
        est.fit(X).save(tmp_path / type(est).__name__)
        again = type(est).load(tmp_path / type(est).__name__)
        np.testing.assert_allclose(again.transform(X) if hasattr(est, "transform") else again.score_samples(X),
                                   est.transform(X) if hasattr(est, "transform") else est.score_samples(X))  # fmt: skip
    assert np.array_equal(AutoencoderTransformer(**typed).fit(X).transform(X), est_with_int_seed(typed, X))
    for seed in (-1, 2**32, 1.5):
        with pytest.raises(AelabError, match=r"seed: must be a whole number from 0 to 4294967295"):
            AutoencoderTransformer(seed=seed).fit(X)


@pytest.mark.parametrize(
    "setting, value, problem",
    [
        ("val_fraction", "0.1", "must lie strictly between 0 and 1"),  # stopped in round()
        ("val_fraction", float("nan"), "must lie strictly between 0 and 1"),  # in int()
        ("val_fraction", 0, "must lie strictly between 0 and 1"),  # held out one sample regardless
        ("max_steps", "5", "must be a positive whole number or None"),  # in a comparison
        ("max_steps", 2.0, "must be a positive whole number or None"),  # named as `epochs`
        ("lr", "0.01", "must be a number"),
        ("latent_dim", "3", "must be a whole number"),
    ],
)
def test_each_setting_of_the_wrong_type_or_range_is_named_in_fit(setting, value, problem):
    for estimator in (AutoencoderTransformer, AutoencoderOutlierDetector):
        with pytest.raises(AelabError, match=f"^{setting}: {problem}"):
            estimator(**{"max_steps": 5, setting: value}).fit(np.random.default_rng(0).normal(size=(20, 4)))


def est_with_int_seed(typed: dict, X) -> np.ndarray:
    """The codes of the same fit with every parameter as a plain Python number."""
    return AutoencoderTransformer(**{k: v.item() for k, v in typed.items()}).fit(X).transform(X)


def test_the_default_fit_trains_to_its_budget_and_starts_from_pca():
    X = load_wine().data
    est = AutoencoderTransformer().fit(X)  # model="auto" -> dense, latent 8, >= 1,000 optimizer steps
    assert est.model_name_ == "dense" and est.model_.latent_dim == 8
    assert est.train_config_["epochs"] * int(np.ceil(160 / est.train_config_["batch_size"])) >= 1000
    codes = est.transform(X)
    assert codes.dtype == np.float64 and codes.shape == (178, 8)
    assert est.inverse_transform(codes).shape == X.shape


def test_the_outlier_detector_flags_its_contamination_and_finds_planted_outliers(tmp_path):
    rng = np.random.default_rng(0)
    inliers = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 10))  # rank 3 in 10 columns
    outliers = rng.normal(size=(15, 10)) * 3
    X = np.vstack([inliers, outliers])
    truth = np.r_[np.zeros(300), np.ones(15)]
    det = AutoencoderOutlierDetector(latent_dim=3, contamination=0.05, max_steps=300).fit(X)
    assert np.mean(det.predict(X) == -1) == pytest.approx(0.05, abs=0.01)
    np.testing.assert_allclose(det.decision_function(X), det.score_samples(X) - det.offset_)
    auroc = roc_auc_score(truth, -det.score_samples(X))
    assert auroc > 0.95 and auroc >= roc_auc_score(truth, -IsolationForest(random_state=0).fit(X).score_samples(X))
    det.save(tmp_path / "det")
    again = AutoencoderOutlierDetector.load(tmp_path / "det")
    np.testing.assert_array_equal(again.predict(X), det.predict(X))
    np.testing.assert_array_equal(again.score_samples(X), det.score_samples(X))  # both cross-fitted models came back
    assert len(again.fold_models_) == 2 and (tmp_path / "det" / "fold-1.safetensors").exists()
    with pytest.raises(AelabError, match="contamination"):
        AutoencoderOutlierDetector(contamination=0.7).fit(X)


def test_a_detector_saved_before_the_absolute_error_keeps_scoring_the_mse(tmp_path):
    X = np.random.default_rng(4).normal(size=(60, 5))
    det = AutoencoderOutlierDetector(latent_dim=2, max_steps=20).fit(X)
    det.save(tmp_path / "det")
    config = json.loads((tmp_path / "det" / "config.json").read_text())
    assert config["estimator_state"]["error"] == "mae"
    del config["estimator_state"]["error"]  # as the previous version wrote it, its offset_ on the MSE
    (tmp_path / "det" / "config.json").write_text(json.dumps(config))
    old = AutoencoderOutlierDetector.load(tmp_path / "det")
    xs = torch.from_numpy(det._scale(X.astype(np.float32)))
    squared = []
    for m, (low, high) in zip(det.fold_models_, det.code_ranges_, strict=True):
        codes = m.encode(xs).clamp(torch.from_numpy(low), torch.from_numpy(high))
        squared.append(((m.decode(codes) - xs) ** 2).mean(dim=1).detach().numpy())
    assert old.error_ == "mse"
    np.testing.assert_allclose(old.score_samples(X), -np.maximum(*squared), rtol=1e-4, atol=1e-6)


def test_a_training_outlier_is_scored_by_the_model_that_never_saw_it():
    """Each cross-fitted model learns its own half, outliers included; the score is the larger error, so a
    memorised outlier still scores high through the other model."""
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(60, 2)) @ rng.normal(size=(2, 8)), rng.normal(size=(4, 8)) * 4])
    det = AutoencoderOutlierDetector(latent_dim=2, contamination=0.1, max_steps=50).fit(X)
    xs = torch.from_numpy(det._scale(X.astype(np.float32)))
    per_model = []
    for m, (low, high) in zip(det.fold_models_, det.code_ranges_, strict=True):
        codes = m.encode(xs).clamp(torch.from_numpy(low), torch.from_numpy(high))
        per_model.append(-(m.decode(codes) - xs).abs().mean(dim=1).detach().numpy())
    np.testing.assert_allclose(det.score_samples(X), np.minimum(*per_model), rtol=1e-4, atol=1e-6)


def test_a_row_far_out_along_the_datas_own_directions_is_an_outlier():
    """Such a row is reconstructed well (the model's linear path extends past the data), so only the clipping of
    its code to the training codes' range makes it score badly."""
    rng = np.random.default_rng(2)
    basis = rng.normal(size=(2, 8))
    inliers = rng.normal(size=(200, 2)) @ basis + 0.05 * rng.normal(size=(200, 8))
    far = rng.normal(size=(10, 2)) * 4 @ basis + 0.05 * rng.normal(size=(10, 8))
    X, truth = np.vstack([inliers, far]), np.r_[np.zeros(200), np.ones(10)]
    det = AutoencoderOutlierDetector(latent_dim=2, contamination=0.05, max_steps=200).fit(X)
    assert roc_auc_score(truth, -det.score_samples(X)) > 0.9
    assert all(np.all(low < high) for low, high in det.code_ranges_)


def test_rare_large_values_in_nearly_constant_columns_do_not_hide_rows_that_differ_everywhere():
    """The score is the mean absolute error: squared, an inlier's one rare value in a nearly constant column (12-18
    deviations out once standardised, like digits' edge pixels) outweighs an outlier a little off in many columns."""
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(3, 16))
    X = np.zeros((315, 24))
    X[:, :16] = rng.normal(size=(315, 3)) @ basis + 0.3 * rng.normal(size=(315, 16))
    for j in range(16, 24):  # eight columns, each set in 1% of the inliers
        X[rng.choice(300, 3, replace=False), j] = 1.0
    X[300:, :16] += 2.0 * rng.normal(size=(15, 3)) @ rng.normal(size=(3, 16))  # 15 rows off the inliers' subspace
    X, truth = (X - X.mean(0)) / X.std(0), np.r_[np.zeros(300), np.ones(15)]
    det = AutoencoderOutlierDetector(latent_dim=3, contamination=0.05, max_steps=200).fit(X)
    xs = torch.from_numpy(det._scale(X.astype(np.float32)))
    squared = []
    for m, (low, high) in zip(det.fold_models_, det.code_ranges_, strict=True):
        codes = m.encode(xs).clamp(torch.from_numpy(low), torch.from_numpy(high))
        squared.append(((m.decode(codes) - xs) ** 2).mean(dim=1).detach().numpy())
    auroc = roc_auc_score(truth, -det.score_samples(X))
    assert auroc > 0.95 and auroc > roc_auc_score(truth, np.maximum(*squared)) + 0.02  # measured 0.978 vs 0.936


@pytest.mark.parametrize("shape", [(24, 10, 2), (12, 1, 8, 8)])
def test_the_detector_takes_sequences_and_images(shape):
    X = np.random.default_rng(0).random(shape).astype(np.float32)
    det = AutoencoderOutlierDetector(latent_dim=2, max_steps=10, batch_size=8).fit(X)
    assert set(det.predict(X)) <= {-1, 1} and det.score_samples(X).shape == (shape[0],)


def test_images_or_sequences_of_another_shape_are_named_by_shape_not_by_a_feature_count():
    """scikit-learn's own check counts an image's channels (or a sequence's steps) as its features: "X has 1
    features, but ... is expecting 3" for a grayscale image given to a colour model, or 192 for a flattened one."""
    X = np.random.default_rng(0).random((12, 3, 8, 8)).astype(np.float32)
    fitted = AutoencoderTransformer(latent_dim=2, max_steps=2, batch_size=8).fit(X)
    for other, shape in ((X[:, :1], r"\(1, 8, 8\)"), (X.reshape(12, -1), r"\(192,\)")):
        with pytest.raises(
            AelabError, match=rf"^X: samples of shape {shape}, but the model was fitted on \(3, 8, 8\)$"
        ):
            fitted.transform(other)


def test_augment_is_the_presets_unless_set_and_one_for_another_kind_is_refused():
    rng, t = np.random.default_rng(0), np.arange(64)[None, :, None]
    bumps = np.exp(-0.5 * ((t - rng.uniform(20, 44, (60, 1, 1))) / 3) ** 2) + 0.02 * rng.normal(size=(60, 64, 1))
    X = bumps.astype(np.float32)  # unaligned bumps: "auto" chooses time shifts at latent 8
    fitted = {a: AutoencoderTransformer("conv1d", 8, max_steps=5, augment=a).fit(X) for a in (None, "none")}
    assert fitted[None].train_config_["augment"] == "time-shift"
    assert fitted["none"].train_config_["augment"] == "none"
    with pytest.raises(AelabError, match="^augment: 'flip' does not apply to sequences$"):
        AutoencoderOutlierDetector("conv1d", 8, max_steps=5, augment="flip").fit(X)


def test_a_fit_on_two_samples_trains_on_one_without_warnings():
    """PCA of the one training row warned "invalid value encountered in divide" (its variance is 0/0)."""
    import warnings

    X = load_wine().data[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        codes = AutoencoderTransformer(epochs=1).fit(X).transform(X)
    assert codes.shape == (2, 8) and np.isfinite(codes).all()
