import numpy as np
import pytest
from PIL import Image

from aelab import plots


def test_history_adds_a_panel_for_the_contrastive_term(tmp_path):
    hist = {"loss": [0.2, 0.1], "mae": [0.3, 0.2], "val_loss": [0.25, 0.12], "val_mae": [0.35, 0.25]}
    plots.history(hist, tmp_path / "plain.png", "cnn")
    plots.history({**hist, "contrastive": [4.0, 3.5]}, tmp_path / "contrastive.png", "cnn")
    plain, contrastive = (Image.open(tmp_path / name).size for name in ("plain.png", "contrastive.png"))
    assert contrastive[0] > 1.3 * plain[0]


def test_a_history_of_exact_zeros_plots_without_a_warning(tmp_path):
    import warnings

    hist = {"loss": [0.0, 0.0], "mae": [0.0, 0.0], "val_loss": [0.0, 0.0], "val_mae": [0.0, 0.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a log scale has no positive values
        plots.history(hist, tmp_path / "zeros.png", "dense")
    assert (tmp_path / "zeros.png").stat().st_size > 0


def test_codes_without_spread_plot_as_they_are_and_have_no_principal_axes(tmp_path):
    from aelab.evaluate import principal_axes_share

    alike = np.ones((50, 4), np.float32)  # before: t-SNE of such codes crashed the process
    assert principal_axes_share(alike) is None and principal_axes_share(np.ones((1, 4))) is None
    assert principal_axes_share(np.eye(3, 1, dtype=np.float32)) == pytest.approx([1.0, 0.0])
    plots.latent_space(alike, None, None, tmp_path / "alike.png", "dense")
    assert (tmp_path / "alike.png").stat().st_size > 0


def test_score_histogram_bins_span_every_score_and_error_and_exact_zeros(tmp_path):
    """The bins began at the larger of the two groups' smallest values: scores below the validation errors were
    piled into the first bar."""
    scores, reference = np.array([0.25, 0.3, 0.9]), np.array([0.4, 0.5])
    bins = plots.log_bins(scores, reference, [0.6])
    assert bins[0] == 0.25 and bins[-1] == 0.9 and len(bins) == 61
    assert plots.log_bins(np.zeros(3), [0.0])[0] == 1e-12  # exact reconstructions, drawn at 1e-12
    plots.sample_scores(np.r_[scores, 0.0], 0.6, reference, tmp_path / "s.png", "t", labelled=np.array([0, 0, 1, 0]))
    assert Image.open(tmp_path / "s.png").size[0] > 500
