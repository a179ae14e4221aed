"""The lab's comparison table and report, or those of any directory of runs, rendered from saved run directories
(no retraining).

Every number in the report is read from the runs' metrics.json/timings.json; every verdict is computed
from those numbers, so a model that loses to PCA is reported as losing.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path

from . import plots
from .errors import AelabError
from .evaluate import augmented_codes_note, pca_ratio, pca_standing
from .io import atomic_path, read_json, write_json
from .kinds import IMAGE
from .models import model_class, models_in_order
from .run import load_run
from .summary import format_table

# Differences below these shares are noise, and findings do not state them. Measured (benchmarks/README.md,
# "Run-to-run spread"): `aelab train lstm|conv1d --train-size 2000 --epochs 3` five times each on 2 cores, training
# time ranged 7.4% (lstm) and 11.5% (conv1d), and earlier sessions saw this machine's speed vary by +-15%; the
# same command gives bit-identical errors, but seeds 42, 43 and 44 ranged 1.0% (lstm) and 2.4% (conv1d) in test MSE.
TIME_SPREAD = 0.15
ERROR_SPREAD = 0.03

COLUMNS = [
    "model",
    "architecture",
    "input_type",
    "data_shape",
    "test_mse",
    "test_mae",
    "test_rmse",
    "latent_dim",
    "compression_ratio",
    "compression_pct",
    "params",
    "train_seconds",
    "probe_logreg",
    "anomaly_auroc",  # runs whose test data marks anomalies (is_anomaly)
]


def _runs(runs_dir: Path) -> dict[str, dict]:
    """The finished runs (metrics.json written) in `runs_dir`'s sub-directories, by directory name: the lab's, named
    after their models, in the registry's order, then any others by name (a user's runs on one data set, to
    compare)."""
    lab = [runs_dir / name for name in models_in_order()]
    others = sorted(path for path in runs_dir.iterdir() if path.is_dir() and path not in lab)
    runs = {}
    for path in (*lab, *others):
        if (path / "metrics.json").exists():
            config = read_json(path / "config.json")
            runs[path.name] = {
                "path": path,
                "model": config["model"],
                "metrics": read_json(path / "metrics.json"),
                "config": config,
                "timings": read_json(path / "timings.json"),
                "history": read_json(path / "history.json"),
            }
    return runs


def _label(name: str, run: dict) -> str:
    """A run as tables and findings name it: its directory, and its model where the two differ."""
    return name if name == run["model"] else f"{name} ({run['model']})"


def _lab_runs(runs: dict) -> dict:
    """The runs that the lab's findings compare (cnn, lstm, conv1d, ...): those in a directory named after their
    model."""
    return {name: r for name, r in runs.items() if name == r["model"]}


def _shape(config) -> str:
    c = config["model_config"]
    if config["input_kind"] == IMAGE:
        return f"{c['height']}x{c['width']}x{c['channels']}"
    return f"{c['seq_len']}x{c['n_features']}" if "seq_len" in c else f"{c['n_features']} columns"


def comparison_rows(runs: dict) -> list[dict]:
    rows, baselines = [], {}
    for name, r in runs.items():
        m, cfg = r["metrics"], r["config"]
        rows.append(
            {
                "model": _label(name, r),
                "architecture": model_class(r["model"]).description,
                "input_type": cfg["input_kind"],
                "data_shape": _shape(cfg),
                "test_mse": m["test_mse"],
                "test_mae": m["test_mae"],
                "test_rmse": m["test_rmse"],
                "latent_dim": m["latent_dim"],
                "compression_ratio": m["compression_ratio"],
                "compression_pct": m["compression_pct"],
                "params": m["params"],
                "train_seconds": r["timings"]["train_seconds"],
                "probe_logreg": m.get("probe_logreg"),
                "anomaly_auroc": m.get("anomaly_auroc"),
            }
        )
        key = (cfg["data"]["data"], m["latent_dim"])
        if key not in baselines:
            baselines[key] = {
                "model": f"PCA-{m['latent_dim']} ({cfg['data']['data']})",
                "architecture": "PCA",
                "input_type": cfg["input_kind"],
                "data_shape": _shape(cfg),
                "test_mse": m["pca_test_mse"],
                "test_mae": m["pca_test_mae"],
                "test_rmse": m["pca_test_mse"] ** 0.5,
                "latent_dim": m["latent_dim"],
                "compression_ratio": m["compression_ratio"],
                "compression_pct": m["compression_pct"],
                "params": m["latent_dim"] * m["input_dim"] + m["input_dim"],
                "train_seconds": r["timings"].get("pca_fit_seconds"),
                "probe_logreg": m.get("pca_probe_logreg"),
                "anomaly_auroc": m.get("pca_anomaly_auroc"),
            }
    return rows + list(baselines.values())


def write_comparison(lab_dir: Path, rows: list[dict]) -> None:
    write_json(lab_dir / "comparison.json", rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(lab_dir / "comparison.csv") as tmp:
        tmp.write_text(buf.getvalue())


def _sweeps(lab_dir: Path) -> dict:
    sweeps = {}
    for path in sorted([*lab_dir.glob("sweep.json"), *lab_dir.glob("sweep-*/sweep.json")]):  # a sweep's own, a lab's
        s = read_json(path)
        sweeps[s["model"]] = s
    return sweeps


def rate_distortion_curves(lab_dir: Path, sweeps: dict) -> dict:
    curves = {}
    pca_path = lab_dir / "pca_curves.json"
    if pca_path.exists():
        for c in read_json(pca_path).values():
            curves[f"PCA ({c['dataset']})"] = c
    for sweep in sweeps.values():
        for name, curve in sweep_curves(sweep).items():
            if not name.startswith("PCA") or name not in curves:  # the lab's own PCA curve has more sizes
                curves[name] = curve
    return curves


def sweep_curves(sweep: dict) -> dict:
    """The model's and PCA's test MSE by latent size from one sweep.json, as `plots.rate_distortion` draws them."""
    dims, data = [r["latent_dim"] for r in sweep["rows"]], Path(sweep["dataset"]).name  # a file by its name
    return {
        f"{name} ({data})": {"dataset": data, "latent_dims": dims, "test_mse": errors}
        for name, errors in (
            (sweep["model"], [r["test_mse"] for r in sweep["rows"]]),
            ("PCA", [r["pca_test_mse"] for r in sweep["rows"]]),
        )
    }


def render_lab(lab_dir) -> None:
    """report.md, report.html and comparison.csv/json of a directory of runs: a lab (`aelab lab`), or any directory
    whose sub-directories are `aelab train` runs."""
    lab_dir = Path(lab_dir)
    if not lab_dir.is_dir():
        raise AelabError(f"{lab_dir}: not a directory; `aelab report` renders a directory of runs")
    runs = _runs(lab_dir)
    if not runs:
        what = "is a single run" if (lab_dir / "metrics.json").exists() else "holds no finished runs"
        raise AelabError(
            f"{lab_dir}: {what}; `aelab report` renders a lab directory (cnn/, lstm/, conv1d/ ...), as `aelab lab` "
            "writes, or any directory whose sub-directories are runs (aelab train --out DIR/NAME), each with "
            "metrics.json"
        )
    rows = comparison_rows(runs)
    write_comparison(lab_dir, rows)
    plots.model_comparison(rows, lab_dir / "plots" / "model_comparison.png")
    sweeps = _sweeps(lab_dir)
    curves = rate_distortion_curves(lab_dir, sweeps)
    if curves:
        plots.rate_distortion(curves, lab_dir / "plots" / "rate_distortion.png")
    blocks = _report_blocks(lab_dir, runs, rows, sweeps, curves)
    with atomic_path(lab_dir / "report.md") as tmp:
        tmp.write_text(to_markdown(blocks))
    with atomic_path(lab_dir / "report.html") as tmp:
        tmp.write_text(to_html(blocks, lab_dir))


# ---------------------------------------------------------------- findings, computed from the numbers


def _fmt(v, digits=4):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _times(ratio: float) -> str:
    """A compression ratio to three digits: 24x, 26.4x, 1.2x (as a whole number, 6 values -> 5 read as 1x)."""
    return f"{ratio:.3g}x"


def _verdict(m) -> str:
    standing, ratio = pca_standing(m["test_mse"], m["pca_test_mse"]), pca_ratio(m["test_mse"], m["pca_test_mse"])
    if standing == "exact":
        return f"matches PCA-{m['latent_dim']} (both reconstruct the test data exactly, to float precision)"
    if ratio is None:
        return f"**loses to PCA-{m['latent_dim']}**, which reconstructs the test data exactly"
    if m.get("pca_fallback"):
        return (
            f"matches PCA-{m['latent_dim']} ({ratio:.3f}x its MSE) because it ended as PCA: trained from random "
            f"weights it reached {_fmt(m['trained_val_mse'])} validation MSE, PCA {_fmt(m['pca_val_mse'])}"
        )
    if standing == "matches":
        return f"matches PCA-{m['latent_dim']} ({ratio:.3f}x its MSE)"
    if standing == "beats":
        return f"beats PCA-{m['latent_dim']} ({ratio:.2f}x its MSE, {100 * (1 - ratio):.0f}% lower)"
    return f"**loses to PCA-{m['latent_dim']}** ({ratio:.2f}x its MSE)"


def _reconstruction_findings(runs) -> list[str]:
    out = []
    for name, r in runs.items():
        m = r["metrics"]
        scale = "pixels in [0, 1]" if r["config"]["input_kind"] == IMAGE else "z-scored values"
        psnr = f", PSNR {m['test_psnr']:.2f} dB" if r["config"]["input_kind"] == IMAGE else ""
        out.append(
            f"`{_label(name, r)}` on {r['config']['data']['data']}: test MSE {_fmt(m['test_mse'])}, "
            f"MAE {_fmt(m['test_mae'])}, "
            f"RMSE {_fmt(m['test_rmse'])}{psnr} ({scale}), at {_times(m['compression_ratio'])} compression "
            f"({m['input_dim']} values -> {m['latent_dim']}); it {_verdict(m)}, whose MSE is {_fmt(m['pca_test_mse'])}."
        )
    return out


def _latent_findings(runs) -> list[str]:
    out = []
    for name, r in runs.items():
        m = r["metrics"]
        pcs = (
            f"the first two principal axes of its codes hold {100 * m['latent_pc1_variance']:.1f}% and "
            f"{100 * m['latent_pc2_variance']:.1f}% of their variance"
            if "latent_pc1_variance" in m
            else "its test codes have no spread (one sample, or all alike)"
        )
        if "probe_logreg" in m:
            better = "better than" if m["probe_logreg"] > m["pca_probe_logreg"] else "no better than"
            out.append(
                f"`{_label(name, r)}`: {pcs}; a logistic probe on the {m['latent_dim']}-d codes reaches "
                f"{m['probe_logreg']:.1%} test accuracy and 5-NN {m['probe_knn']:.1%}, {better} PCA's codes "
                f"({m['pca_probe_logreg']:.1%} and {m['pca_probe_knn']:.1%})."
            )
            if note := augmented_codes_note(m, (r["config"].get("train") or {}).get("augment", "none")):
                out[-1] += f" {note[0].upper()}{note[1:]}."
        else:
            out.append(f"`{_label(name, r)}`: {pcs}; the data has no labels, so no probe was run.")
    return out


ANOMALY_METRICS = {  # metrics.json key after "anomaly_": how the report names it
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "best_f1": "best F1",
    "best_f1_pa": "point-adjusted F1",
}


def _anomaly_findings(runs) -> list[str]:
    """Per run whose test data marks anomalies (a stream's or a table's is_anomaly): how its reconstruction errors
    rank them, beside PCA's errors on the same samples."""
    out = []
    for name, r in runs.items():
        m = r["metrics"]
        if "anomaly_auroc" not in m:
            continue
        where = "steps of the test stream" if "anomaly_best_f1_pa" in m else "test rows"
        parts = [
            f"{label} {m[f'anomaly_{key}']:.3f}"
            + (f" (PCA {m[f'pca_anomaly_{key}']:.3f})" if f"pca_anomaly_{key}" in m else "")
            for key, label in ANOMALY_METRICS.items()
            if f"anomaly_{key}" in m
        ]
        if "ucr_hit" in m:
            where_top = {1.0: "inside", 0.0: "outside"}
            pca = f" (PCA's: {where_top[m['pca_ucr_hit']]})" if "pca_ucr_hit" in m else ""
            parts.append(f"top score {where_top[m['ucr_hit']]} the one anomaly's +-100 steps{pca}")
        out.append(f"`{_label(name, r)}` on the {where} marked is_anomaly: {', '.join(parts)}.")
    return out


def _latent_size_findings(curves, sweeps) -> list[str]:
    out = []
    for name, c in curves.items():
        dims, mse = c["latent_dims"], c["test_mse"]
        if len(dims) >= 2:
            out.append(
                f"{name}: test MSE falls from {_fmt(mse[0])} at latent {dims[0]} to {_fmt(mse[-1])} at "
                f"latent {dims[-1]} ({mse[0] / mse[-1]:.1f}x lower for {dims[-1] / dims[0]:.0f}x the codes)."
            )
    for model, s in sweeps.items():
        standings = {r["latent_dim"]: pca_standing(r["test_mse"], r["pca_test_mse"]) for r in s["rows"]}
        wins = [d for d, st in standings.items() if st == "beats"]
        ties = [d for d, st in standings.items() if st in ("matches", "exact")]
        losses = [d for d, st in standings.items() if st == "loses"]
        out.append(
            f"`{model}` sweep: beats PCA at latent sizes {wins or 'none'}"
            + (f", matches it at {ties}" if ties else "")
            + (f", loses at {losses}." if losses else ".")
        )
    if not sweeps:
        out.append(
            "No autoencoder sweep in this lab directory (run `aelab lab --sweep` or `aelab sweep`); "
            "the curves above are PCA's, which bound what a linear code of each size can do."
        )
    return out


def differs(a: float, b: float, spread: float) -> bool:
    """Whether a and b differ by more than `spread`, relative to the smaller: a finding states no difference
    that repeating the run could reverse."""
    return abs(a - b) > spread * min(abs(a), abs(b))


def _cnn_vs_lstm_findings(runs) -> list[str]:
    out, runs = [], _lab_runs(runs)
    seq = {
        n: runs[n]["metrics"] | {"secs": runs[n]["timings"]["train_seconds"]}
        for n in ("lstm", "lstm-seed", "conv1d")
        if n in runs
    }
    if "lstm" in seq and "conv1d" in seq:
        lstm, conv = seq["lstm"], seq["conv1d"]
        if differs(lstm["test_mse"], conv["test_mse"], ERROR_SPREAD):
            verdict = f"`{'lstm' if lstm['test_mse'] < conv['test_mse'] else 'conv1d'}` reconstructs better"
        else:
            verdict = f"within the {ERROR_SPREAD:.0%} that separates seeds, they reconstruct alike"
        probes = (
            f"; as features, logistic probes give {lstm['probe_logreg']:.1%} (lstm) "
            f"vs {conv['probe_logreg']:.1%} (conv1d)."
            if "probe_logreg" in lstm and "probe_logreg" in conv
            else "."
        )
        out.append(
            f"On the same sequences at latent {lstm['latent_dim']}, `lstm` reaches test MSE {_fmt(lstm['test_mse'])} "
            f"with {lstm['params']:,} parameters in {lstm['secs']:.0f}s, `conv1d` {_fmt(conv['test_mse'])} with "
            f"{conv['params']:,} parameters in {conv['secs']:.0f}s: {verdict}{probes}"
        )
    if "lstm-seed" in seq and "lstm" in seq:
        seed, lstm = seq["lstm-seed"], seq["lstm"]
        out.append(
            f"The notebook's `lstm-seed` gets {_fmt(seed['test_mse'])} in {seed['secs']:.0f}s; the default `lstm` "
            f"{_fmt(lstm['test_mse'])} ({seed['test_mse'] / lstm['test_mse']:.1f}x lower error)."
        )
    if "cnn" in runs:
        m = runs["cnn"]["metrics"]
        out.append(
            f"On images the convolutional `cnn` compresses {_times(m['compression_ratio'])} at MSE "
            f"{_fmt(m['test_mse'])} ({m['test_mse'] / m['pca_test_mse']:.2f}x PCA). Image and sequence errors are on "
            "different scales, so compare each model with its own PCA row, not across data sets."
        )
    return out


def _where_findings(runs) -> list[str]:
    out, lab = [], _lab_runs(runs)
    if lab.keys() & {"cnn", "lstm", "conv1d"}:
        out.append(
            "Convolutions suit data with local, translation-invariant structure (image patches, local motifs in "
            "sequences): the same small filters apply at every position, and all positions are computed at once."
        )
    if "lstm" in lab and "conv1d" in lab:
        lstm_s, conv_s = (lab[n]["timings"]["train_seconds"] for n in ("lstm", "conv1d"))
        if differs(lstm_s, conv_s, TIME_SPREAD):
            speed = f"`{'conv1d' if conv_s < lstm_s else 'lstm'}` trained faster"
        else:
            speed = f"both trained in about the same time (within the {TIME_SPREAD:.0%} that repeated runs vary)"
        out.append(
            "Recurrent encoders suit sequences whose meaning lies in their dynamics (here, frequencies); in this "
            f"run {speed} ({conv_s:.0f}s conv1d vs {lstm_s:.0f}s lstm)."
        )
    standings = {
        _label(n, r): pca_standing(r["metrics"]["test_mse"], r["metrics"]["pca_test_mse"]) for n, r in runs.items()
    }
    losers = [n for n, st in standings.items() if st == "loses"]
    ties = [n for n, st in standings.items() if st in ("matches", "exact")]
    if losers:
        out.append(f"PCA is the better reducer for {', '.join(losers)} in this run: use it there.")
    if ties:
        verb = "reconstructs" if len(ties) == 1 else "reconstruct"
        out.append(f"{', '.join(ties)} {verb} as well as PCA and no better: PCA is the cheaper choice there.")
    if not losers and not ties:
        out.append(
            "Every autoencoder here beats its PCA baseline, so the non-linear codes are worth their training time; "
            "PCA stays the cheap first choice when seconds matter more than the last few percent of error."
        )
    return out


def _report_blocks(lab_dir: Path, runs, rows, sweeps, curves) -> list[tuple]:
    lab = (lab_dir / "pca_curves.json").exists()  # written by `aelab lab` only
    title = "Autoencoders lab: CNN vs LSTM, each beside PCA" if lab else f"Runs in {lab_dir.name}, each beside PCA"
    b = [("h1", title)]
    b.append(
        (
            "p",
            "Reconstruction errors are on each model's input scale: pixels in [0, 1] for images, z-scored values "
            "for sequences, streams and tables. PCA baselines use as many components as the autoencoder's latent, "
            "fitted on the same training split.",
        )
    )
    b.append(("h2", "Comparison"))
    table_rows = [
        [
            r["model"],
            r["architecture"],
            r["data_shape"],
            _fmt(r["test_mse"]),
            _fmt(r["test_mae"]),
            _fmt(r["test_rmse"]),
            str(r["latent_dim"]),
            _times(r["compression_ratio"]),
            f"{r['params']:,}",
            _fmt(r["train_seconds"], 3),
            _fmt(r["probe_logreg"], 3),
        ]
        for r in rows
    ]
    header = ["model", "architecture", "shape", "test MSE", "MAE", "RMSE", "latent", "compression", "params",
              "train s", "logreg probe"]  # fmt: skip
    if any(r["anomaly_auroc"] is not None for r in rows):  # a column only where some run's test data marks anomalies
        header.append("anomaly AUROC")
        for cells, r in zip(table_rows, rows, strict=True):
            cells.append(_fmt(r["anomaly_auroc"], 3))
    b.append(("table", header, table_rows))
    b.append(("img", "plots/model_comparison.png", "Model comparison"))
    b.append(("h2", "How well does each model reconstruct?"))
    b += [("li", t) for t in _reconstruction_findings(runs)]
    if findings := _anomaly_findings(runs):
        b.append(("h2", "How well do the errors find anomalies?"))
        b += [("li", t) for t in findings]
    b.append(("h2", "What does the latent space show?"))
    b += [("li", t) for t in _latent_findings(runs)]
    if curves:
        b.append(("h2", "How does latent size affect quality?"))
        b += [("li", t) for t in _latent_size_findings(curves, sweeps)]
        b.append(("img", "plots/rate_distortion.png", "Rate vs distortion"))
    if findings := _cnn_vs_lstm_findings(runs):
        b.append(("h2", "CNN vs LSTM for feature extraction"))
        b += [("li", t) for t in findings]
    b.append(("h2", "Where does each apply?"))
    b += [("li", t) for t in _where_findings(runs)]
    for name, r in runs.items():
        b.append(("h2", f"Model `{_label(name, r)}`"))
        if notes := model_class(r["model"]).notes:
            b.append(("p", notes))
        try:
            b.append(("pre", format_table(load_run(r["path"]).model)))
        except AelabError as exc:
            b.append(("p", f"(layer table unavailable: {exc})"))
        for plot, caption in (
            ("history", "training history"),
            ("reconstructions", "reconstructions"),
            ("latent", "latent space"),
        ):
            b.append(("img", f"{name}/plots/{plot}.png", f"{name}: {caption}"))
    return b


def to_markdown(blocks) -> str:
    out = []
    for kind, *rest in blocks:
        if kind == "h1":
            out.append(f"# {rest[0]}\n")
        elif kind == "h2":
            out.append(f"\n## {rest[0]}\n")
        elif kind == "p":
            out.append(f"{rest[0]}\n")
        elif kind == "li":
            out.append(f"- {rest[0]}")
        elif kind == "pre":
            out.append(f"\n```\n{rest[0]}\n```\n")
        elif kind == "img":
            out.append(f"\n![{rest[1]}]({rest[0]})\n")
        elif kind == "table":
            header, rows = rest
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def _inline_md(text: str) -> str:
    """The two inline marks the findings use: `code` and **bold**."""
    parts = html.escape(text).split("`")
    text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = text.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def to_html(blocks, base: Path) -> str:
    body, in_list = [], False
    for kind, *rest in blocks:
        if kind != "li" and in_list:
            body.append("</ul>")
            in_list = False
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{_inline_md(rest[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline_md(rest[0])}</p>")
        elif kind == "li":
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{_inline_md(rest[0])}</li>")
        elif kind == "pre":
            body.append(f"<pre>{html.escape(rest[0])}</pre>")
        elif kind == "img":
            path = base / rest[0]
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(
                    f'<figure><img alt="{html.escape(rest[1])}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(rest[1])}</figcaption></figure>"
                )
        elif kind == "table":
            header, rows = rest
            body.append(
                "<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>"
            )
            body += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            body.append("</tbody></table>")
    if in_list:
        body.append("</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}img{max-width:100%}"
        "pre{background:#f7f7f7;padding:8px;font-size:12px;overflow-x:auto}figcaption{color:#666;font-size:13px}"
        "code{background:#f3f3f3;padding:0 3px}"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>aelab report</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
