"""Figures, drawn with matplotlib's Agg backend and written atomically as PNG."""

from __future__ import annotations

import matplotlib
import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from .evaluate import has_spread
from .io import atomic_path

matplotlib.use("Agg")  # before pyplot is imported, so no GUI backend is ever loaded (headless servers, CI)
import matplotlib.pyplot as plt  # noqa: E402  (must follow matplotlib.use)

TSNE_MAX_POINTS = 2000


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def history(hist: dict, path, title: str) -> None:
    """Loss and MAE, train vs validation; a third panel for the contrastive term when the run had one."""
    epochs = np.arange(1, len(hist["loss"]) + 1)
    panels = [("loss", "MSE loss"), ("mae", "MAE")] + (
        [("contrastive", "contrastive term (InfoNCE)")] if "contrastive" in hist else []
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8))
    for ax, (key, label) in zip(axes, panels, strict=False):
        ax.plot(epochs, hist[key], label="train")
        if f"val_{key}" in hist:
            ax.plot(epochs, hist[f"val_{key}"], label="validation")
            # a loss of exactly 0 (data that PCA reconstructs exactly) has no place on a log scale
            if min([*hist[key], *hist[f"val_{key}"]], default=0) > 0:
                ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{title}: training history")
    _save(fig, path)


def _as_image(x):  # (C, H, W) -> (H, W[, C]) for imshow
    img = np.clip(x.transpose(1, 2, 0), 0, 1)
    return img[:, :, 0] if img.shape[2] == 1 else img


def image_reconstructions(x, ae, pca, path, title: str, n: int = 10) -> None:
    n = min(n, len(x))
    rows = (("original", x), ("autoencoder", ae), ("PCA", pca))
    fig, axes = plt.subplots(3, n, figsize=(1.3 * n, 4.4), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for i in range(n):
            ax = axes[r][i]
            ax.imshow(_as_image(images[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(label)
    fig.suptitle(f"{title}: test images and their reconstructions")
    _save(fig, path)


def sequence_reconstructions(x, ae, pca, path, title: str, n: int = 5, features: int = 3) -> None:
    n, features = min(n, len(x)), min(features, x.shape[2])
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.1 * n), squeeze=False, sharex=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i in range(n):
        ax = axes[i][0]
        for f in range(features):
            c = colors[f % len(colors)]
            ax.plot(x[i, :, f], color=c, lw=1.4, label=f"feature {f} original" if i == 0 else None)
            ax.plot(ae[i, :, f], color=c, lw=1.2, ls="--", label=f"feature {f} autoencoder" if i == 0 else None)
            ax.plot(pca[i, :, f], color=c, lw=0.8, ls=":", alpha=0.8, label=f"feature {f} PCA" if i == 0 else None)
        ax.set_ylabel(f"test #{i}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(ncol=features, fontsize=7, loc="upper right")
    axes[-1][0].set_xlabel("time step")
    fig.suptitle(f"{title}: original (solid), autoencoder (dashed), PCA (dotted)")
    _save(fig, path)


def table_reconstructions(x, ae, pca, path, title: str, n: int = 5) -> None:
    """Each of the first `n` test rows as a profile over its (standardised) columns."""
    n = min(n, len(x))
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.1 * n), squeeze=False, sharex=True)
    for i in range(n):
        ax = axes[i][0]
        ax.plot(x[i], "o-", lw=1.4, ms=3, label="original" if i == 0 else None)
        ax.plot(ae[i], "s--", lw=1.2, ms=3, label="autoencoder" if i == 0 else None)
        ax.plot(pca[i], ":", lw=1.0, label="PCA" if i == 0 else None)
        ax.set_ylabel(f"test #{i}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(ncol=3, fontsize=7, loc="upper right")
    axes[-1][0].set_xlabel("column")
    fig.suptitle(f"{title}: standardised rows, original (solid), autoencoder (dashed), PCA (dotted)")
    _save(fig, path)


def latent_space(codes, labels, class_names, path, title: str, seed: int = 42) -> None:
    """t-SNE and PCA of the codes side by side, coloured by class, PC variance in the axis labels."""
    if len(codes) > TSNE_MAX_POINTS:
        keep = np.random.default_rng(seed).choice(len(codes), TSNE_MAX_POINTS, replace=False)
        codes, labels = codes[keep], None if labels is None else labels[keep]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    width = codes.shape[1]
    codes = _at_least_two_columns(codes)
    if not has_spread(codes):  # nothing to project: the codes themselves, in both panels
        embedded = projected = codes[:, :2]
        var = ("no spread", "no spread")
    else:
        if len(codes) >= 4:
            perplexity = min(30.0, (len(codes) - 1) / 3)
            tsne = TSNE(n_components=2, perplexity=perplexity, max_iter=1000, random_state=seed, init="pca")
            embedded = tsne.fit_transform(codes)
        else:  # too few points for t-SNE: show the codes themselves
            embedded = codes[:, :2]
        pca = PCA(n_components=min(2, len(codes)), random_state=seed).fit(codes)
        projected = _at_least_two_columns(pca.transform(codes))
        share = np.pad(pca.explained_variance_ratio_, (0, 2 - pca.n_components_))
        var = tuple(f"{100 * v:.1f}% of variance" for v in share)
    for ax, pts, name in ((axes[0], embedded, "t-SNE"), (axes[1], projected, "PCA")):
        if labels is None:
            ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.6, color="tab:blue")
        else:
            for k in np.unique(labels):
                sel = labels == k
                name_k = class_names[k] if class_names else str(k)
                ax.scatter(pts[sel, 0], pts[sel, 1], s=4, alpha=0.6, label=name_k, color=plt.cm.tab10(k % 10))
        ax.set_title(f"{name} of the {width}-d test codes")
    axes[0].set_xlabel("t-SNE 1")
    axes[0].set_ylabel("t-SNE 2")
    axes[1].set_xlabel(f"PC1 ({var[0]})")
    axes[1].set_ylabel(f"PC2 ({var[1]})")
    if labels is not None:
        axes[1].legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"{title}: latent space")
    _save(fig, path)


def _at_least_two_columns(points: np.ndarray) -> np.ndarray:
    """1-d codes drawn on a line: a zero second column."""
    return points if points.shape[1] >= 2 else np.pad(points, ((0, 0), (0, 2 - points.shape[1])))


def model_comparison(rows: list[dict], path) -> None:
    """Bars of MSE, MAE, compression ratio and training time, one bar per model or baseline."""
    names = [r["model"] for r in rows]
    panels = (
        ("test_mse", "test MSE (log)", True),
        ("test_mae", "test MAE", False),
        ("compression_ratio", "compression ratio", False),
        ("train_seconds", "training time (s)", False),
    )
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
    for ax, (key, label, log) in zip(axes, panels, strict=False):
        values = [r.get(key) or 0 for r in rows]
        colors = ["tab:gray" if r["architecture"] == "PCA" else "tab:blue" for r in rows]
        ax.bar(range(len(rows)), values, color=colors)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
        ax.set_title(label)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Autoencoders (blue) and PCA baselines (grey); MSE is on each data set's own scale")
    _save(fig, path)


def rate_distortion(curves: dict[str, dict[str, list]], path) -> None:
    """Test MSE against latent size: one line per model or PCA, one panel per data set."""
    datasets = sorted({c["dataset"] for c in curves.values()})
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.5), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=False):
        for name, c in curves.items():
            if c["dataset"] != ds:
                continue
            ax.plot(c["latent_dims"], c["test_mse"], marker="o", ls="--" if name.startswith("PCA") else "-", label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("latent size")
        ax.set_ylabel("test MSE")
        ax.set_title(ds)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Rate vs distortion: test MSE by latent size")
    _save(fig, path)


PLOT_POINTS = 50_000  # a longer stream is drawn in bins: each bin's first values and its highest score


def _time_axis(times: np.ndarray | None, dated: bool) -> tuple[np.ndarray | None, str]:
    """The x values of a stream's steps from its timestamps as the reader read them (`Stream.times`, `.dated`):
    dates (UTC), numbers as written, or None (steps)."""
    if times is None:
        return None, "step"
    if not dated:
        return times, "timestamp"
    return (times * 1e6).astype("datetime64[us]"), "time (UTC)"


def stream_scores(
    values, scores, threshold: float, flagged, path, title: str, feature_names=None, times=None, dated=False,
    labelled=None,
) -> None:  # fmt: skip
    """The stream (first three features) above its per-step scores, the threshold and the flagged stretches, along
    its timestamps where it has them, with the stretches its `is_anomaly` column marks (`labelled`) where given."""
    n = len(scores)
    step = max(1, -(-n // PLOT_POINTS))
    steps = np.arange(0, n, step)
    axis, x_label = _time_axis(times, dated)
    x = steps if axis is None else axis[steps]

    def peaks(per_step: np.ndarray) -> np.ndarray:  # each bin's highest value, so that no score or flag is lost
        return np.maximum.reduceat(per_step, steps) if step > 1 else per_step

    binned_scores, binned_flags = peaks(scores), peaks(flagged.astype(np.int8))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True)
    for j in range(min(3, values.shape[1])):
        top.plot(x, values[steps, j], lw=0.7, label=(feature_names or [f"f{i}" for i in range(values.shape[1])])[j])
    if labelled is not None:
        top.fill_between(
            x, 0, 0.06, where=peaks(labelled.astype(np.int8)) > 0, color="tab:purple",
            transform=top.get_xaxis_transform(), label="labelled anomaly",
        )  # fmt: skip
    bottom.plot(x, binned_scores, lw=0.7, color="black", label="score")
    bottom.axhline(threshold, color="tab:red", ls="--", lw=1, label="threshold")
    for ax in (top, bottom):  # flagged stretches, shaded on both panels
        ax.fill_between(
            x, 0, 1, where=binned_flags > 0, color="tab:red", alpha=0.15, transform=ax.get_xaxis_transform()
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    bottom.set_yscale("log")
    bottom.set_xlabel(x_label)
    bottom.set_ylabel("anomaly score")
    top.set_ylabel("value")
    if dated and axis is not None:
        fig.autofmt_xdate()
    fig.suptitle(f"{title}: {int(flagged.sum())} of {n} steps flagged")
    _save(fig, path)


def log_bins(*groups, n: int = 60) -> np.ndarray:
    """`n` + 1 log-spaced bin edges that span every value of `groups` (errors: 0, an exact reconstruction's, is
    drawn at 1e-12)."""
    values = np.concatenate([np.ravel(group) for group in groups])
    floor = max(float(values.min()), 1e-12)
    return np.geomspace(floor, max(float(values.max()), floor * 1.1), n + 1)


def sample_scores(scores, threshold: float, reference, path, title: str, labelled=None) -> None:
    """A histogram of the samples' scores (log scale: reconstruction errors span decades) beside the run's
    validation errors that set the `threshold` (`reference`), and, where the input flags its anomalies (`labelled`,
    a table's is_anomaly column), the flagged and the normal samples apart."""
    bins = log_bins(scores, reference, [threshold])
    floor = bins[0]
    fig, ax = plt.subplots(figsize=(9, 4))

    def share(values):  # each sample's weight: bars give the share of their group, comparable across groups
        return np.full(len(values), 1 / max(len(values), 1))

    ax.hist(np.clip(reference, floor, None), bins=bins, weights=share(reference), histtype="step", color="gray",
            lw=1.2, label="validation errors (the run's)")  # fmt: skip
    groups = [("samples", scores)] if labelled is None else [
        ("normal (is_anomaly 0)", scores[labelled == 0]), ("labelled anomalies", scores[labelled == 1])
    ]  # fmt: skip
    for (name, values), color in zip(groups, ("tab:blue", "tab:purple"), strict=False):
        if len(values):
            ax.hist(np.clip(values, floor, None), bins=bins, weights=share(values), alpha=0.5, color=color, label=name)
    ax.axvline(threshold, color="tab:red", ls="--", lw=1, label="threshold")
    ax.set_xscale("log")
    ax.set_xlabel("anomaly score (reconstruction MSE)")
    ax.set_ylabel("share of samples")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    flagged = int((np.asarray(scores) > threshold).sum())
    ax.set_title(f"{title}: {flagged} of {len(scores)} samples flagged")
    _save(fig, path)
