"""What `aelab score` flags on the GutenTAG streams of bench_anomaly.py, at its default threshold (`--percentile 99`),
with the threshold's ceiling (`aelab.anomaly.threshold`: validation scores over 10x the training part's 99th
percentile left out) and without it (the plain 99th percentile of the validation scores, as before 2026-12-01).

Two ways a user brings a stream, each through `aelab train lstm --window auto` and `aelab score` at their defaults:
- `whole`: one stream, the normal training file followed by the test file (20,000 steps, one labelled anomaly),
  trained whole (its own split by time: the anomaly falls where it falls) and scored whole;
- `separate`: trained on the normal file with the test file as `--test-data` (a clean validation part), the test
  file scored.
Per stream: the steps flagged, the anomaly's steps among them, F1 of the flags, recall, and the false-positive rate
over the normal steps. The streams come from bench_anomaly.py's cache (generate them there first).

    .venv/bin/python benchmarks/bench_threshold.py [--only sine-mean,ecg-pattern]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from bench_anomaly import streams_dir
from common import RESULTS, machine

from aelab.cli import main
from aelab.data import HELD_OUT_TEST_FRACTION

RULES = ("plain", "ceiling")  # the threshold without its ceiling (before 2026-12-01) and with it (now)


def joined(folder: Path, path: Path) -> Path:
    """The training file then the test file, as one stream (steps renumbered; the training part labelled 0)."""
    train = folder.joinpath("train.csv").read_text().splitlines()
    test = folder.joinpath("test.csv").read_text().splitlines()
    lines, train_unlabelled = [test[0]], train[0] != test[0]  # a training file without the is_anomaly column
    for step, line in enumerate(train[1:] + test[1:]):
        cells = line.split(",")
        if train_unlabelled and step < len(train) - 1:
            cells.append("0")
        lines.append(",".join([str(step), *cells[1:]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def flags(run: Path, scored: Path, out: Path) -> dict:
    """`aelab score` of `scored` with `run`, and its flags at both thresholds against the stream's labels."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["score", str(run), str(scored), "-o", str(out)]) == 0
    with open(out) as f:
        rows = list(csv.DictReader(f))
    scores = np.array([float(r["score"]) for r in rows])
    with open(scored) as f:
        labels = np.array([int(r["is_anomaly"]) for r in csv.DictReader(f)]) == 1
    ceiling_flags = np.array([r["is_anomaly"] == "True" for r in rows])
    plain_flags = scores > np.percentile(np.load(run / "val_errors.npy"), 99)
    result = {"anomaly_steps": int(labels.sum())}
    for name, flagged in zip(RULES, (plain_flags, ceiling_flags), strict=True):
        tp = int((flagged & labels).sum())
        fp = int((flagged & ~labels).sum())
        result[name] = {
            "flagged": int(flagged.sum()),
            "true": tp,
            "f1": 2 * tp / max(1, 2 * tp + fp + int((~flagged & labels).sum())),
            "recall": tp / labels.sum(),
            "false_positive_rate": fp / (~labels).sum(),
        }
    return result


def part_of(stream: Path, data: dict) -> str:
    """Which part of a stream split by time (the default split) its first anomalous step falls in."""
    with open(stream) as f:
        labels = [int(r["is_anomaly"]) for r in csv.DictReader(f)]
    fit = round(len(labels) * (1 - HELD_OUT_TEST_FRACTION))
    first = labels.index(1)
    return "train" if first < round(fit * (1 - data["val_fraction"])) else "validation" if first < fit else "test"


def train(data: list[str], out: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "lstm", *data, "--window", "auto", "--out", str(out), "--force"]) == 0


def run_stream(folder: Path, work: Path) -> dict:
    row = {"stream": folder.name}
    whole = joined(folder, work / f"{folder.name}.csv")
    train(["--data", str(whole)], work / "whole")
    row["whole"] = flags(work / "whole", whole, work / "whole.csv")
    row["whole"]["anomaly_in"] = part_of(whole, json.loads((work / "whole" / "config.json").read_text())["data"])
    train(["--data", str(folder / "train.csv"), "--test-data", str(folder / "test.csv")], work / "separate")
    row["separate"] = flags(work / "separate", folder / "test.csv", work / "separate.csv")
    line = {k: {t: round(v[t]["f1"], 3) for t in RULES} for k, v in row.items() if k != "stream"}
    print(folder.name, json.dumps(line), flush=True)
    return row


def means(rows: list[dict]) -> dict:
    keys = ("f1", "recall", "false_positive_rate")
    return {
        setup: {rule: {key: statistics.fmean(r[setup][rule][key] for r in rows) for key in keys} for rule in RULES}
        for setup in ("whole", "separate")
    }


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=None, help="comma-separated stream names")
    parser.add_argument("--out", default=str(RESULTS / "threshold.json"))
    args = parser.parse_args()
    folders = sorted(p.parent for p in streams_dir(None).glob("*/test.csv"))
    if args.only:
        folders = [f for f in folders if f.name in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_stream(folder, Path(tmp)) for folder in folders]
    result = {"machine": machine(), "streams": rows, "mean": means(rows)}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["mean"], indent=1))


if __name__ == "__main__":
    main_bench()
