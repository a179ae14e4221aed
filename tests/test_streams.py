"""Streams: windows (count, stride, views), the step-to-window mapping, `--window auto`, per-step scores and
anomaly metrics, and one-line errors for broken streams."""

import json

import numpy as np
import pytest

from aelab import load_run
from aelab.anomaly import anomaly_metrics, point_adjusted, step_scores
from aelab.data import load_dataset
from aelab.data.streams import auto_window, mean_over_windows, read_stream, window_starts, windows
from aelab.errors import AelabError, ConfigError
from tests.helpers import assert_one_line_error, run_cli


def sine_stream(n=1200, period=25, anomaly=None, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / period) + 0.05 * rng.normal(size=n)
    labels = np.zeros(n, dtype=int)
    if anomaly is not None:
        start, stop = anomaly
        x[start:stop] += 2.0 * np.sin(2 * np.pi * t[start:stop] / 4)
        labels[start:stop] = 1
    return x, labels


def write_stream_csv(path, values, labels=None, timestamps=None):
    values = np.asarray(values).reshape(len(values), -1)
    cols = ["timestamp"] + [f"v{j}" for j in range(values.shape[1])] + (["is_anomaly"] if labels is not None else [])
    lines = [",".join(cols)]
    for i, row in enumerate(values):
        stamp = str(timestamps[i]) if timestamps is not None else str(i)
        cells = [stamp, *(f"{v:.5f}" for v in row)] + ([str(labels[i])] if labels is not None else [])
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("n, window, stride", [(10, 4, 1), (10, 4, 3), (100, 16, 2), (17, 17, 5), (50, 7, 7)])
def test_window_starts_cover_every_step_and_end_at_the_last(n, window, stride):
    starts = window_starts(n, window, stride)
    covered = np.zeros(n, bool)
    for s in starts:
        covered[s : s + window] = True
    assert covered.all()
    assert starts[-1] == n - window and starts[0] == 0
    assert (np.diff(starts)[:-1] == stride).all()
    assert len(starts) == (n - window) // stride + 1 + ((n - window) % stride != 0)


def test_windows_are_views_of_the_stream_not_copies():
    values = np.arange(60, dtype=np.float32).reshape(30, 2)
    w = windows(values, window=5, stride=3)
    assert w.shape == ((30 - 5) // 3 + 1, 5, 2)
    assert np.shares_memory(w, values)
    for i in range(len(w)):
        np.testing.assert_array_equal(w[i], values[3 * i : 3 * i + 5])


def test_each_step_is_the_mean_over_the_windows_that_cover_it():
    values = np.arange(11, dtype=np.float32)[:, None]
    # identity: every covering window holds the step's own value
    np.testing.assert_allclose(mean_over_windows(values, 4, 3, lambda b: b), values)
    # position within the window: step t's result is the mean of (t - start) over the starts covering t
    position = mean_over_windows(values, 4, 3, lambda b: np.broadcast_to(np.arange(4.0), b.shape[:2]), batch_size=2)
    starts = window_starts(11, 4, 3)
    expected = [np.mean([t - s for s in starts if s <= t < s + 4]) for t in range(11)]
    np.testing.assert_allclose(position, expected)


@pytest.mark.parametrize("period, expected", [(25, 25), (5, 20), (40, 40), (1440, 1440)])
def test_auto_window_is_the_dominant_period_in_whole_periods(period, expected):
    """A day of minutes (1,440 steps) is a period too: capped at 512, it fell back to 64-step windows, which found
    an inverted stretch of 400 steps in such a stream at AUPRC 0.14 where one period's windows reach 0.87."""
    x, _ = sine_stream(n=max(4000, 20 * period), period=period)
    window, rule = auto_window(x[:, None].astype(np.float32))
    assert window == expected
    assert f"period {period}" in rule


@pytest.mark.parametrize("seed", range(4))
def test_auto_window_is_the_period_not_a_multiple_under_noise(seed):
    """Under noise the autocorrelation's peaks at every multiple of a period are equal but for the noise: the highest
    was any of them (these draws gave windows of 72, 96, 192, 200, 349 and 487 steps for periods 24, 50 and 97)."""
    rng, t = np.random.default_rng(seed), np.arange(20_000)
    for period, noise in ((24, 0.5), (24, 1.0), (50, 1.0), (97, 1.0)):
        x = np.sin(2 * np.pi * t / period) + noise * rng.normal(size=t.size)
        window, _ = auto_window(x[:, None].astype(np.float32))
        assert abs(window - period) <= 3, (period, noise, window)
    two_periods = np.sin(2 * np.pi * t / 50) + np.sin(2 * np.pi * t / 70) + 0.3 * rng.normal(size=t.size)
    assert auto_window(two_periods[:, None].astype(np.float32))[0] == 350  # what repeats is their common period


def test_auto_window_without_a_period_falls_back():
    walk = np.cumsum(np.random.default_rng(0).normal(size=5000))[:, None].astype(np.float32)
    window, rule = auto_window(walk)
    assert window == 64 and "no clear period" in rule


def test_anomaly_metrics_on_known_scores():
    labels = np.zeros(300, int)
    labels[100:110] = 1
    perfect = labels + 0.01 * np.arange(300) / 300
    m = anomaly_metrics(perfect, labels)
    assert m["anomaly_auroc"] == 1.0 and m["anomaly_best_f1"] == 1.0 and m["ucr_hit"] == 1.0
    # one high step inside the anomaly: point adjustment credits the whole segment, the plain F1 does not
    one_step = np.zeros(300)
    one_step[105] = 1.0
    assert anomaly_metrics(one_step, labels)["anomaly_best_f1_pa"] == 1.0
    assert anomaly_metrics(one_step, labels)["anomaly_best_f1"] < 0.2
    np.testing.assert_array_equal(point_adjusted(one_step, labels)[100:110], 1.0)
    # the top step 150 steps away misses; two anomalies: no ucr_hit; no anomaly at all: nothing defined
    far = np.zeros(300)
    far[260] = 1.0
    assert anomaly_metrics(far, labels)["ucr_hit"] == 0.0
    labels[200:205] = 1
    assert "ucr_hit" not in anomaly_metrics(perfect, labels)
    assert anomaly_metrics(perfect, np.zeros(300, int)) == {}


def test_step_scores_are_high_where_the_reconstruction_fails():
    values = np.zeros((200, 1), np.float32)
    values[120:125] = 5.0

    def flat(b):  # a "model" that reconstructs everything as 0
        return np.zeros_like(b)

    scores = step_scores(flat, values, window=20, stride=4)
    assert scores.shape == (200,)
    assert set(np.flatnonzero(scores > 1)) == set(range(120, 125))


def test_a_stream_splits_by_time_and_scales_with_training_statistics(tmp_path):
    x, _ = sine_stream(n=1000)
    path = write_stream_csv(tmp_path / "s.csv", x + 10)
    ds = load_dataset(str(path), window=20, val_fraction=0.25)
    # last 20% test, last quarter of the rest validation, windows every 20 // 8 = 2 steps
    assert len(ds.stream.test.values) == 200 and len(ds.stream.val.values) == 200
    assert ds.train.x.shape == ((600 - 20) // 2 + 1, 20, 1)
    assert ds.spec.stride == 2 and ds.spec.window == 20
    assert abs(float(ds.normalization.mean[0]) - 10) < 0.1  # fitted on the training part only
    assert ds.test.y is None  # windows have no class labels; no probes


def test_dates_month_or_day_first_are_read_one_way_per_column_the_way_that_steps_evenly():
    """Loggers and spreadsheets write 01/31/2024 13:00 or 31.01.2024 13:00; a column of 01/01, 01/02, 01/03 reads in
    order both ways, and only month first steps by a day (day first jumps by a month)."""
    from aelab.data.csvfile import time_values

    def seconds(cells):
        values, dated = time_values(cells)
        assert dated
        return values

    day = 86_400.0
    us = [f"01/{d:02d}/2024 {h}:30" for d in (1, 2, 3) for h in (0, 12)]
    assert np.diff(seconds(us)).tolist() == [day / 2] * 5
    eu = [f"{d:02d}.01.2024 {h:02d}:30:00" for d in (1, 2, 3) for h in (0, 12)]
    assert np.diff(seconds(eu)).tolist() == [day / 2] * 5
    assert np.diff(seconds(["31/01/2024", "01/02/2024", "02/02/2024"])).tolist() == [day, day]  # only day first
    assert seconds(["2024-01-01T00:00Z", "2024-01-01T00:01Z"]).tolist() == [1704067200.0, 1704067260.0]
    assert seconds(["2024-03-31T01:00", "2024-03-31T03:00+02:00"]).tolist() == [1711846800.0] * 2  # zone-less: UTC
    assert seconds(["01/01/2024 12:00 AM", "01/01/2024 1:00 PM"])[1] - 1704067200.0 == 13 * 3600
    values, dated = time_values(["0", "0.5"])
    assert values.tolist() == [0, 0.5] and not dated  # numbers as written
    with pytest.raises(ValueError, match="'noon' in data row 2 is neither a number nor a date"):
        time_values(["01/01/2024", "noon"])


def test_the_threshold_leaves_out_validation_scores_far_above_the_training_parts():
    from aelab.anomaly import CEILING_FACTOR, threshold

    rng = np.random.default_rng(0)
    train, clean = rng.chisquare(1, 8000), rng.chisquare(1, 2000)
    plain = threshold(clean, 99.0)
    assert plain.value == np.percentile(clean, 99) and plain.left_out == 0 and plain.ceiling is None
    assert threshold(clean, 99.0, train).value == plain.value  # normal data: nothing beyond ten times the training p99
    anomalous = np.concatenate([clean, np.full(60, 500.0)])  # 3% of the validation part: its 99th percentile is 500
    assert np.percentile(anomalous, 99) == 500.0
    found = threshold(anomalous, 99.0, train)
    assert found.left_out == 60 and found.value == plain.value
    assert found.ceiling == CEILING_FACTOR * np.percentile(train, 99)
    assert threshold(np.full(5, 500.0), 99.0, train).value == 500.0  # nothing under the ceiling: the scores stand
    drifted = np.concatenate([clean[:900], np.full(1100, 500.0)])  # most of the part: it differs as a whole
    assert threshold(drifted, 99.0, train) == (500.0, 0, found.ceiling)
    for bad in (0.0, "99"):  # the library names its setting, the CLI the flag
        with pytest.raises(ConfigError, match=r"^percentile: must lie in \(0, 100\]"):
            threshold(clean, bad)


def test_a_stream_trained_whole_flags_the_anomaly_in_its_validation_part(capsys, tmp_path):
    """One stream, trained and scored whole: time order puts its anomaly in the validation part (steps 960-1200 of
    1,500), where it lifted the 99th percentile over itself; the training part tells it from normal variation."""
    x, labels = sine_stream(n=1500, anomaly=(1000, 1030))
    path = write_stream_csv(tmp_path / "s.csv", x, labels)
    code, _, err = run_cli(capsys, "train", "lstm", "--data", path, "--window", "25", "--epochs", "2", "--out",
                           tmp_path / "r")  # fmt: skip
    assert code == 0, err
    val = np.load(tmp_path / "r" / "val_errors.npy")
    assert np.percentile(val, 99) > np.load(tmp_path / "r" / "train_errors.npy").max() * 10  # the old threshold
    code, out, err = run_cli(capsys, "score", tmp_path / "r", path, "-o", tmp_path / "s.scores.csv")
    assert code == 0, err
    assert "an anomaly within the validation part" in out
    rows = (tmp_path / "s.scores.csv").read_text().splitlines()[1:]
    flagged = np.array([row.endswith("True") for row in rows])
    before = np.array([float(row.split(",")[1]) for row in rows]) > np.percentile(val, 99)
    assert flagged[1000:1030].sum() >= 20 and before[1000:1030].sum() <= 5  # measured: 23 of its 30 steps, 3 before
    assert flagged.sum() < 30 + 0.02 * 1500  # and few others
    assert f"{flagged.sum()} of 1,500 steps flagged" in out and "1,500 steps -> " in out
    code, out, _ = run_cli(capsys, "encode", tmp_path / "r", path, "-o", tmp_path / "codes.npy")
    assert code == 0 and f"{len(np.load(tmp_path / 'codes.npy')):,} windows -> " in out
    (tmp_path / "r" / "train_errors.npy").unlink()  # a run from before it was saved: the plain percentile
    assert load_run(tmp_path / "r").threshold(99.0) == (np.percentile(val, 99), 0, None)


def test_a_stream_npy_with_a_batch_axis_in_front_says_how_to_read_it(capsys, tmp_path):
    x, _ = sine_stream(n=300)
    np.save(tmp_path / "s.npy", x.reshape(1, -1, 1))
    code, _, err = run_cli(capsys, "train", "lstm", "--data", tmp_path / "s.npy", "--window", "20", "--out",
                           tmp_path / "r")  # fmt: skip
    assert_one_line_error(code, err, "s.npy", "got shape (1, 300, 1); one series with a batch axis in front: take x[0]")


def test_gaps_in_a_streams_timestamps_are_named_where_it_trains_and_where_it_is_scored(capsys, tmp_path):
    """A logger that skipped readings: windows count rows, so the user is told where time jumps."""
    x, _ = sine_stream(n=400)
    minutes = [m for m in range(520) if not 100 <= m < 220][:400]  # two hours missing after 01:39
    stamps = [f"2024-01-01T{m // 60:02d}:{m % 60:02d}" for m in minutes]
    path = write_stream_csv(tmp_path / "gap.csv", x, timestamps=stamps)
    note = "1 gap in its timestamps, the longest 2.02 h where a step is usually 1 min (the first after 2024-01-01T01:39"
    assert len(read_stream(path).notes) == 1 and note in read_stream(path).notes[0]
    assert note in load_dataset(str(path), window=20).notes[0]
    assert read_stream(write_stream_csv(tmp_path / "even.csv", x)).notes == ()  # steps 0, 1, 2, ...
    code, out, err = run_cli(capsys, "train", "lstm", "--data", path, "--window", "20", "--epochs", "1", "--out",
                             tmp_path / "r")  # fmt: skip
    assert code == 0 and note in out, err
    code, out, err = run_cli(capsys, "score", tmp_path / "r", path, "-o", tmp_path / "s.csv")
    assert code == 0 and note in out, err


def test_a_stream_plot_runs_along_its_timestamps_and_shows_its_labelled_stretches(tmp_path):
    from aelab.plots import _time_axis, stream_scores

    x, _ = sine_stream(n=200)
    stamps = [f"12/31/2024 {h + 20}:{m:02d}" for h in range(4) for m in range(60)][:200]
    stream = read_stream(write_stream_csv(tmp_path / "s.csv", x, timestamps=stamps))
    times, label = _time_axis(stream.times, stream.dated)  # as the reader read them
    assert label == "time (UTC)" and times.dtype == np.dtype("datetime64[us]")
    assert times[0] == np.datetime64("2024-12-31T20:00", "us") and times[-1] == np.datetime64("2024-12-31T23:19", "us")
    numbered = read_stream(write_stream_csv(tmp_path / "n.csv", x))
    assert _time_axis(numbered.times, numbered.dated)[1] == "timestamp" and numbered.times[:2].tolist() == [0, 1]
    assert _time_axis(None, False) == (None, "step")
    assert stream.part(10, 20).times.tolist() == stream.times[10:20].tolist()
    n = 200
    labelled = np.zeros(n, np.int8)
    labelled[50:60] = 1
    scores = np.random.default_rng(0).uniform(0.1, 1, n)
    stream_scores(
        np.zeros((n, 1)), scores, 0.9, scores > 0.9, tmp_path / "p.png", "s", ["v"], stream.times, True, labelled
    )
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_train_score_plot_and_anomaly_metrics_on_a_stream(capsys, tmp_path):
    x, _ = sine_stream(n=1500)
    xt, labels = sine_stream(n=800, anomaly=(500, 530), seed=1)
    train, test = write_stream_csv(tmp_path / "train.csv", x), write_stream_csv(tmp_path / "test.csv", xt, labels)
    run = tmp_path / "run"
    code, out, err = run_cli(
        capsys, "train", "lstm", "--data", train, "--test-data", test, "--window", "auto", "--epochs", "1", "--out", run
    )
    assert code == 0, err
    assert "windows of 25 steps (auto: dominant period 25" in out
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("anomaly_auroc", "anomaly_auprc", "anomaly_best_f1", "anomaly_best_f1_pa", "ucr_hit"):
        assert 0 <= metrics[key] <= 1 and 0 <= metrics["pca_" + key] <= 1
    assert metrics["anomaly_auroc"] > 0.9  # a frequency burst 2x the signal's size stands out
    assert metrics["latent_dim"] == 25 // 8  # a stream's default bottleneck: an eighth of a window's values
    data = json.loads((run / "config.json").read_text())["data"]
    assert data["window"] == 25 and data["stride"] == 3 and "period 25" in data["window_rule"]
    assert len(np.load(run / "val_errors.npy")) == 300  # the validation stream, per step

    code, out, err = run_cli(
        capsys, "score", run, test, "-o", tmp_path / "scores.csv", "--plot", tmp_path / "scores.png"
    )
    assert code == 0, err
    assert "anomaly metrics: auroc" in out and "(PCA " in out  # the test stream is labelled
    rows = (tmp_path / "scores.csv").read_text().splitlines()
    assert rows[0] == "timestamp,score,is_anomaly" and len(rows) == 801
    scores = np.array([float(r.split(",")[1]) for r in rows[1:]])
    assert 495 <= scores.argmax() < 535
    assert (tmp_path / "scores.png").stat().st_size > 10_000
    # an output nobody can create (here under a file, as under a read-only folder): one line, and no scores written
    # before the plot fails
    blocked = tmp_path / "scores.csv"
    code, _, err = run_cli(capsys, "score", run, test, "-o", tmp_path / "s2.csv", "--plot", blocked / "p.png")
    assert_one_line_error(code, err, "--plot", "p.png: cannot write there")
    assert not (tmp_path / "s2.csv").exists()
    code, _, err = run_cli(capsys, "encode", run, test, "-o", blocked / "codes.npy")
    assert_one_line_error(code, err, "codes.npy: cannot write")

    assert run_cli(capsys, "reconstruct", run, test, "-o", tmp_path / "rec.npy")[0] == 0
    assert np.load(tmp_path / "rec.npy").shape == (800, 1)
    assert run_cli(capsys, "encode", run, test, "-o", tmp_path / "codes.csv")[0] == 0
    codes = (tmp_path / "codes.csv").read_text().splitlines()
    assert codes[1].startswith("0,") and len(codes) - 1 == len(window_starts(800, 25, 3))

    code, out, err = run_cli(capsys, "evaluate", run, "--test-data", test)
    assert code == 0 and "anomaly_auroc=" in out

    # the API takes the stream itself, (T, F) or (T,), and gives what the CLI wrote for the file
    loaded, xt = load_run(run), read_stream(test).values  # as the CLI read the file's 5 decimals
    for command in ("encode", "score"):
        assert run_cli(capsys, command, run, test, "-o", tmp_path / f"{command}.npy")[0] == 0
    np.testing.assert_array_equal(loaded.score(xt), np.load(tmp_path / "score.npy")["score"])
    np.testing.assert_array_equal(loaded.score(xt[:, 0]), loaded.score(xt))  # (T,) for one feature
    np.testing.assert_array_equal(loaded.encode(xt), np.load(tmp_path / "encode.npy"))
    np.testing.assert_array_equal(loaded.reconstruct(xt), np.load(tmp_path / "rec.npy"))
    with pytest.raises(AelabError, match="the stream has 20 steps, shorter than one window"):
        loaded.score(xt[:20])


def test_a_loaded_stream_run_reads_a_dataframe_by_its_column_names(capsys, tmp_path):
    pd = pytest.importorskip("pandas")
    x, labels = sine_stream(n=600, anomaly=(300, 310))
    two = np.stack([x, np.roll(x, 5)], axis=1)
    data = write_stream_csv(tmp_path / "s.csv", two, labels)
    code, _, err = run_cli(capsys, "train", "conv1d", "--data", data, "--window", "25", "--epochs", "1",
                           "--out", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    loaded, frame = load_run(tmp_path / "r"), pd.read_csv(data)  # timestamp, v0, v1, is_anomaly
    scores = loaded.score(read_stream(data).values)
    np.testing.assert_array_equal(loaded.score(frame), scores)
    np.testing.assert_array_equal(loaded.score(frame[["v1", "v0"]]), scores)  # not the columns' places
    with pytest.raises(AelabError, match=r"missing \['v1'\]"):
        loaded.score(frame[["v0", "timestamp"]])


def test_an_npy_stream_with_labels_from_a_file(tmp_path):
    x, labels = sine_stream(n=600, anomaly=(300, 310))
    np.save(tmp_path / "s.npy", x.astype(np.float32))
    np.save(tmp_path / "y.npy", labels)
    stream = read_stream(tmp_path / "s.npy", labels=tmp_path / "y.npy")
    assert stream.values.shape == (600, 1) and stream.is_anomaly.sum() == 10


def test_a_tab_separated_stream_reads_as_a_comma_separated_one(tmp_path):
    x, labels = sine_stream(n=200, anomaly=(100, 105))
    comma = write_stream_csv(tmp_path / "comma.csv", x, labels)
    tabbed = tmp_path / "tabbed.csv"
    tabbed.write_text(comma.read_text().replace(",", "\t"))
    a, b = read_stream(comma), read_stream(tabbed)
    np.testing.assert_array_equal(b.values, a.values)
    np.testing.assert_array_equal(b.is_anomaly, a.is_anomaly)


def test_a_parquet_stream_reads_as_the_csv_of_the_same_rows_and_scores_per_step(capsys, tmp_path):
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    from datetime import datetime, timedelta

    x, labels = sine_stream(n=400, anomaly=(300, 310))
    stamps = [datetime(2024, 1, 1) + timedelta(minutes=i) for i in range(len(x))]
    csv = write_stream_csv(tmp_path / "s.csv", x, labels, [s.isoformat() for s in stamps])
    columns = {"timestamp": stamps, "v0": np.round(x, 5), "is_anomaly": labels}
    pq.write_table(pa.table(columns), tmp_path / "s.parquet")
    a, b = read_stream(csv), read_stream(tmp_path / "s.parquet")
    np.testing.assert_array_equal(b.values, a.values)
    np.testing.assert_array_equal(b.is_anomaly, a.is_anomaly)
    assert b.timestamps == a.timestamps and b.feature_names == ["v0"]
    args = ("--window", "25", "--epochs", "1")
    assert run_cli(capsys, "train", "--data", tmp_path / "s.parquet", *args, "--out", tmp_path / "r")[0] == 0
    assert run_cli(capsys, "score", tmp_path / "r", tmp_path / "s.parquet", "-o", tmp_path / "scores.csv")[0] == 0
    rows = (tmp_path / "scores.csv").read_text().splitlines()
    assert rows[0] == "timestamp,score,is_anomaly" and rows[1].startswith("2024-01-01T00:00:00,") and len(rows) == 401
    columns["timestamp"] = list(reversed(stamps))
    pq.write_table(pa.table(columns), tmp_path / "late.parquet")
    with pytest.raises(AelabError, match="late.parquet: timestamp does not increase at data row 2"):
        read_stream(tmp_path / "late.parquet")


BROKEN = [
    ("timestamp,v\n0,1.0\n1,\n2,3.0\n", "gap (missing value) in data row 2"),
    ("timestamp,v\n0,1.0\n1,abc\n2,3.0\n", "not numeric ('abc' in data row 2); every column but timestamp, is_anomaly"),
    ("timestamp,v\n0,1.0\n2,2.0\n1,3.0\n", "timestamp does not increase at data row 3"),
    ("timestamp,v\n2020-01-01,1.0\nnoon,2.0\n", "'timestamp': 'noon' in data row 2 is neither a number nor a date"),
    ("timestamp,v\n2020-01-01,1.0\n01/02/2020,2.0\n", "'timestamp': its dates are written in more than one layout"),
    ("timestamp,v\n01/02/2020,1.0\n01/01/2020,2.0\n", "timestamp does not increase at data row 2"),
    ('timestamp,v\n0,"1,5"\n1,"2,5"\n', "not numeric ('1,5' in data row 1); aelab reads '.' as the decimal mark"),
    ('timestamp,v\n0,"1,304.5"\n1,2.5\n', "not numeric ('1,304.5' in data row 1); aelab reads numbers without thou"),
    ("timestamp;v\n0;1.304,5\n1;2,5\n", "not numeric ('1.304,5' in data row 1); aelab reads numbers without thou"),
    ('timestamp,v\n0,"12,000,000"\n1,2.5\n', "not numeric ('12,000,000' in data row 1); aelab reads numbers without"),
    (
        "date,v\n2024-01-31 12:00,1.0\n2024-01-31 12:01,2.0\n",
        "column 'date' is not numeric ('2024-01-31 12:00' in "
        "data row 1); a date or time column is the time index (never a feature) when it is named 'timestamp'",
    ),
]


@pytest.mark.parametrize("text, fragment", BROKEN)
def test_broken_streams_are_one_line_errors_naming_file_and_problem(capsys, tmp_path, text, fragment):
    path = tmp_path / "s.csv"
    path.write_text(text)
    code, _, err = run_cli(capsys, "train", "lstm", "--data", path, "--window", "2", "--out", tmp_path / "r")
    assert_one_line_error(code, err, str(path), fragment)
    assert not (tmp_path / "r" / "config.json").exists()


def test_a_window_longer_than_the_stream_and_other_test_columns_are_refused(capsys, tmp_path):
    x, _ = sine_stream(n=300)
    path = write_stream_csv(tmp_path / "s.csv", x)
    code, _, err = run_cli(capsys, "train", "lstm", "--data", path, "--window", "100", "--out", tmp_path / "r")
    assert_one_line_error(code, err, str(path), "shorter than one window (100)")
    code, _, err = run_cli(
        capsys, "train", "lstm", "--data", path, "--window", "10", "--stride", "11", "--out", tmp_path / "r"
    )
    assert_one_line_error(code, err, "--stride", "at most the window (10 steps)")
    other = write_stream_csv(tmp_path / "t.csv", np.stack([x, x], axis=1))
    code, _, err = run_cli(
        capsys, "train", "lstm", "--data", path, "--test-data", other, "--window", "20", "--out", tmp_path / "r"
    )
    assert_one_line_error(code, err, str(other), "columns")


def test_a_ucr_anomaly_archive_txt_splits_and_labels_itself_as_its_name_says(tmp_path):
    x, _ = sine_stream(n=900)
    name = "007_UCR_Anomaly_Toy_500_701_720.txt"  # 500 training steps, steps 701-720 (from 1) anomalous
    np.savetxt(tmp_path / name, x)
    stream = read_stream(tmp_path / name)
    assert stream.values.shape == (900, 1) and stream.train_steps == 500
    assert np.flatnonzero(stream.is_anomaly).tolist() == list(range(700, 720))
    (tmp_path / "one_line.txt").write_text(" ".join(f"{v:.18e}" for v in x))  # some archive files are one line
    np.testing.assert_array_equal(read_stream(tmp_path / "one_line.txt").values, stream.values)
    data = load_dataset(str(tmp_path / name), window=25, stride=5, val_fraction=0.2)
    assert (len(data.stream.val), len(data.stream.test)) == (100, 400)  # the file's split, not 80/20
    assert len(data.train.x) == (400 - 25) // 5 + 1  # the first 400 steps train
    assert data.stream.test.is_anomaly.sum() == 20
    with pytest.raises(AelabError, match="a .txt of numbers is read as a stream; pass --window"):
        load_dataset(str(tmp_path / name))


@pytest.mark.parametrize(
    "name, text, fragment",
    [
        ("001_UCR_Anomaly_Toy_500_890_990.txt", None, "an anomaly at steps 890-990, which do not fit its 900 steps"),
        ("s.txt", "1.0 2.0\n3.0 x\n", "s.txt:2: 'x' is not a number"),
        ("s.txt", "1.0 2.0\n3.0\n", "s.txt:2: 1 numbers, the first line has 2"),
    ],
)
def test_broken_txt_streams_are_one_line_errors(tmp_path, name, text, fragment):
    path = tmp_path / name
    if text is None:
        np.savetxt(path, sine_stream(n=900)[0])
    else:
        path.write_text(text)
    with pytest.raises(AelabError, match=fragment):
        read_stream(path)


def test_smd_style_txt_files_train_a_stream_with_labels_from_a_txt(tmp_path):
    """The Server Machine Dataset's layout: comma-separated rows without a header, labels one per line."""
    rng = np.random.default_rng(0)
    t = np.arange(1000)
    x = np.stack([np.sin(2 * np.pi * t / 25), np.cos(2 * np.pi * t / 40), rng.normal(0, 0.1, 1000)], 1)
    np.savetxt(tmp_path / "train.txt", x[:600], delimiter=",", fmt="%.5f")
    np.savetxt(tmp_path / "test.txt", x[600:], delimiter=",", fmt="%.5f")
    labels = np.zeros(400, dtype=int)
    labels[200:230] = 1
    np.savetxt(tmp_path / "labels.txt", labels, fmt="%d")
    data = load_dataset(
        str(tmp_path / "train.txt"), window=25, test_data=str(tmp_path / "test.txt"),
        test_labels=str(tmp_path / "labels.txt"),
    )  # fmt: skip
    assert data.sample_shape == (25, 3) and data.stream.test.is_anomaly.sum() == 30
    np.savetxt(tmp_path / "short.txt", labels[:10], fmt="%d")
    with pytest.raises(AelabError, match="anomaly labels must be a 1-D array of 400 steps"):
        load_dataset(str(tmp_path / "train.txt"), window=25, test_data=str(tmp_path / "test.txt"),
                     test_labels=str(tmp_path / "short.txt"))  # fmt: skip


def test_a_streams_text_columns_that_never_change_are_left_out_and_ones_that_change_are_one_error(tmp_path):
    """A logger writes its sensor's name and unit in every row: they stopped the stream as "not numeric"."""
    x, _ = sine_stream(n=300)
    rows = "".join(f"{60 * i},S-17,{v:.4f},degC\n" for i, v in enumerate(np.ravel(x)))
    (tmp_path / "log.csv").write_text("timestamp,sensor,temp,unit\n" + rows)
    stream = read_stream(tmp_path / "log.csv")
    assert stream.feature_names == ["temp"] and stream.values.shape == (300, 1)
    assert any("not features: 'sensor' ('S-17'), 'unit' ('degC')" in note for note in stream.notes)
    (tmp_path / "status.csv").write_text("temp,status\n1.0,OK\n2.0,OK\n3.0,WARN\n")
    with pytest.raises(AelabError, match=r"'status' holds text that changes \('OK', then 'WARN' in data row 3\)"):
        read_stream(tmp_path / "status.csv")


def test_auto_window_finds_a_period_under_a_trend():
    """A sine of period 100 rising by 0.5 over 1,000 steps kept its autocorrelation above zero at every lag: it fell
    back to 64 steps."""
    t = np.arange(20_000)
    x = np.sin(2 * np.pi * t / 100) + 5e-4 * t + 0.1 * np.random.default_rng(0).normal(size=t.size)
    window, rule = auto_window(x[:, None].astype(np.float32))
    assert window == 100 and "period 100" in rule


def test_a_test_stream_at_another_rate_is_named_in_train_evaluate_and_score(capsys, tmp_path):
    """Windows count rows: a test stream logged every 5 minutes where training was every minute gives windows of
    5x the time, shapes the model never saw, and nothing said so."""
    start = np.datetime64("2024-01-01T00:00")
    values = sine_stream(800, period=40)[0]
    train = write_stream_csv(tmp_path / "train.csv", values, timestamps=start + np.arange(800) * np.timedelta64(1, "m"))
    slow = write_stream_csv(
        tmp_path / "slow.csv", values[:400], timestamps=start + np.arange(400) * np.timedelta64(5, "m")
    )
    same = write_stream_csv(
        tmp_path / "same.csv", values[:400], timestamps=start + np.arange(400) * np.timedelta64(1, "m")
    )
    note = "slow.csv: a step is usually 5 min, the training stream's 1 min: a window of 40 steps holds 5x the time"
    run = tmp_path / "r"
    args = ["--window", "40", "--epochs", "1", "--out", run]
    code, out, err = run_cli(capsys, "train", "lstm", "--data", train, "--test-data", slow, *args)
    assert code == 0 and note in out, err
    assert json.loads((run / "config.json").read_text())["stream_step"] == {"step": 60.0, "dated": True}
    code, out, err = run_cli(capsys, "evaluate", run, "--test-data", slow)
    assert code == 0 and note in out, err
    code, out, err = run_cli(capsys, "score", run, slow, "-o", tmp_path / "s.csv")
    assert code == 0 and note in out, err
    code, out, err = run_cli(capsys, "score", run, same, "-o", tmp_path / "s2.csv")
    assert code == 0 and "a step is usually" not in out, err
