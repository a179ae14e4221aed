"""Models that hold up on data they were not tuned for: a budget that fits the data, a PCA start that makes them
never worse than PCA on the training rows, and every default model on inputs of other shapes."""

import json
import re

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from aelab import create_model
from aelab.errors import AelabError, ConfigError
from aelab.evaluate import PCABaseline, anchor_to_pca
from aelab.models import model_class
from aelab.presets import MIN_STEPS, train_config, training_budget

from helpers import assert_one_line_error, run_cli

DEFAULT_MODELS = ["cnn", "lstm", "conv1d", "dense"]  # every model that is not a seed replica


def wavy(n, steps, features, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :, None]
    x = np.sin(rng.uniform(0.05, 0.5, (n, 1, features)) * t + rng.uniform(0, 6, (n, 1, features)))
    return (x + 0.05 * rng.normal(size=(n, steps, features))).astype(np.float32)


def test_default_models_are_the_non_replicas():
    assert sorted(n for n in DEFAULT_MODELS) == sorted(
        n for n in ["cnn", "cnn-seed", "lstm", "lstm-seed", "conv1d", "dense"] if not model_class(n).seed_replica
    )


@pytest.mark.parametrize(
    "name, shape",
    [("lstm", (40, 3)), ("conv1d", (40, 3)), ("dense", (13,))],
)
def test_a_pca_anchored_model_at_step_0_reproduces_pca(name, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, *shape)).astype(np.float32) @ np.diag(rng.uniform(0.1, 2, shape[-1])).astype(np.float32)
    torch.manual_seed(0)
    config = dict(latent_dim=4, init="pca", **({"n_features": shape[0]} if name == "dense" else {}))
    if name != "dense":
        config.update(seq_len=shape[0], n_features=shape[1])
    model = create_model(name, **config)
    anchor_to_pca(model, x, seed=42)
    model.eval()
    baseline = PCABaseline(4, seed=42).fit(x)
    with torch.no_grad():
        codes = model.encode(torch.from_numpy(x)).numpy()
        x_hat = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(codes, baseline.transform(x), atol=1e-5)
    np.testing.assert_allclose(x_hat, baseline.inverse_transform(baseline.transform(x), shape), atol=1e-5)


def test_seed_replicas_refuse_a_pca_start():
    with pytest.raises(Exception, match="init 'random' only"):
        create_model("lstm-seed", seq_len=10, n_features=2, latent_dim=3, init="pca")


def test_the_budget_gives_tiny_data_the_minimum_and_leaves_large_data_alone():
    cfg = train_config("lstm")  # 12 epochs, batch 32
    small, budget = training_budget("lstm", cfg, n_train=23, epochs_given=False)
    assert budget.steps_per_epoch == 1 and small.epochs * budget.steps_per_epoch >= MIN_STEPS
    assert budget.rule == "min_steps"
    large, budget = training_budget("lstm", cfg, n_train=3200, epochs_given=False)
    assert large == cfg and budget.rule == "preset" and budget.steps == 1200  # the lab's lstm: unchanged
    given, budget = training_budget("lstm", cfg, n_train=23, epochs_given=True)
    assert given.epochs == cfg.epochs and budget.rule == "explicit"
    seed, budget = training_budget("lstm-seed", train_config("lstm-seed"), n_train=23, epochs_given=False)
    assert seed.epochs == 30 and budget.rule == "notebook"


def test_train_prints_and_saves_the_budget_and_an_explicit_epochs_wins(capsys, tmp_path):
    np.save(tmp_path / "x.npy", wavy(30, 16, 2))
    code, out, err = run_cli(capsys, "train", "conv1d", "--data", tmp_path / "x.npy", "--out", tmp_path / "a")
    assert code == 0, err
    assert "optimizer steps (raised from the preset's epochs" in out
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["budget"]["steps"] >= MIN_STEPS and config["train"]["epochs"] == config["budget"]["epochs"]
    history = json.loads((tmp_path / "a" / "history.json").read_text())
    assert len(history["loss"]) == config["budget"]["epochs"]
    code, out, err = run_cli(
        capsys, "train", "conv1d", "--data", tmp_path / "x.npy", "--epochs", "3", "--out", tmp_path / "b"
    )
    assert code == 0 and "(--epochs as given)" in out
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["epochs"] == 3


@pytest.mark.parametrize("steps, features", [(1460, 1), (5, 1), (24, 3), (50, 10), (30, 20)])
@pytest.mark.parametrize("name", ["lstm", "conv1d"])
def test_sequence_models_train_on_sequences_of_any_length(name, steps, features, tmp_path):
    from aelab import AutoencoderTransformer

    x = wavy(12, steps, features)
    est = AutoencoderTransformer(model=name, latent_dim=min(4, steps * features - 1), epochs=1).fit(x)
    assert est.transform(x).shape == (12, min(4, steps * features - 1))
    assert est.inverse_transform(est.transform(x)).shape == x.shape
    assert est.model_.config.mixed == (16 if features > 16 else 0)  # many features are mixed into 16 first


@pytest.mark.parametrize("name, shape, latent", [("lstm", (5, 1), 2), ("conv1d", (24, 3), 20), ("cnn", (1, 4, 4), 8)])
def test_the_default_latent_is_at_most_half_the_values_of_a_sample(name, shape, latent):
    from aelab.experiment import new_model

    x = np.random.default_rng(0).random((10, *shape)).astype(np.float32)
    assert new_model(name, x, None, "lab", seed=0).model.latent_dim == latent


@pytest.mark.parametrize("size", [(8, 8, 1), (28, 30, 3), (30, 17, 1), (64, 64, 3)])
def test_cnn_trains_on_images_of_other_sizes(size):
    from aelab import AutoencoderTransformer

    h, w, c = size
    x = np.random.default_rng(0).random((6, c, h, w)).astype(np.float32)
    est = AutoencoderTransformer(model="cnn", latent_dim=4, epochs=1, batch_size=3).fit(x)
    assert est.inverse_transform(est.transform(x)).shape == x.shape


@pytest.mark.parametrize("size, stages, grid", [((8, 8), 2, (2, 2)), ((28, 30), 2, (7, 8)), ((32, 32), 3, (4, 4)),
                                                 ((30, 17), 2, (8, 5)), ((64, 64), 4, (4, 4))])  # fmt: skip
@pytest.mark.parametrize("preset", ["lab", "best"])
def test_the_cnn_presets_go_down_to_a_map_of_4_to_7_pixels_a_side(size, stages, grid, preset):
    from aelab.models.cnn import ConvAutoencoder
    from aelab.presets import model_settings

    shape = dict(channels=3, height=size[0], width=size[1])
    settings = ConvAutoencoder.adapt(model_settings("cnn", preset), shape)
    assert settings["stages"] == stages
    model = create_model("cnn", latent_dim=4, **shape, **settings)
    assert model.grid == grid and model.bottleneck_channels <= 4 * model.config.width_mult
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        assert model.eval()(x).shape == x.shape
    with pytest.raises(ConfigError, match="stages: must be a whole number, got 'auto'"):
        create_model("cnn", latent_dim=4, **shape, stages="auto")  # resolved by adapt, not by the config


@pytest.mark.parametrize("columns, width", [(4, 32), (64, 128), (3906, 512), (5000, 400), (20_000, 100), (200_000, 32)])
def test_wide_tables_get_a_narrower_first_layer(columns, width):
    """At most DenseAutoencoder.MAX_LAYER_WEIGHTS in the first and last layers, never under 32 units."""
    from aelab.experiment import new_model
    from aelab.models.dense import DenseAutoencoder

    x = np.random.default_rng(0).normal(size=(4, columns)).astype(np.float32)
    model = new_model("dense", x, 2, "lab", seed=0).model
    assert model.config.hidden_width == width and model.encoder[0].weight.shape == (width, columns)
    assert model.config.hidden == (0 if columns <= 3906 else width)  # a capped width is saved in the config
    assert DenseAutoencoder.adapt({"latent_dim": 8, "hidden": 96}, {"n_features": 20_000})["hidden"] == 96
    assert DenseAutoencoder.adapt({"latent_dim": 60}, {"n_features": 20_000})["hidden"] == 120  # twice the code
    assert DenseAutoencoder.adapt({"latent_dim": np.int64(60)}, {"n_features": 20_000})["hidden"] == 120
    assert DenseAutoencoder.adapt({"latent_dim": "3"}, {"n_features": 20_000})["hidden"] == 100  # the config names it


@pytest.mark.parametrize(
    "name, steps, features, patch, mixed",
    [
        ("conv1d", 50, 10, 1, 0),  # the lab's shape: read step by step, feature by feature
        ("conv1d", 500, 1, 1, 0),
        ("conv1d", 501, 1, 2, 0),
        ("conv1d", 1460, 1, 3, 0),
        ("conv1d", 2709, 1, 6, 0),
        ("conv1d", 400, 2, 2, 0),
        ("conv1d", 405, 61, 14, 16),
        ("lstm", 50, 10, 5, 0),
        ("lstm", 1460, 1, 73, 0),  # at most 20 recurrent steps
        ("lstm", 200, 1, 10, 0),
        ("lstm", 405, 61, 68, 16),
    ],
)
def test_long_or_many_feature_sequences_are_read_in_patches_and_mixed_and_start_as_pca(
    name, steps, features, patch, mixed
):
    from aelab.experiment import new_model

    x = wavy(8, steps, features)
    model = new_model(name, x, latent_dim=3, preset="lab", seed=0, init="pca").model.eval()
    assert (model.config.patch, model.config.mixed) == (patch, mixed)
    read = mixed or features
    if name == "conv1d":
        assert model.lengths[0] * read <= 500  # positions per sample, over the features read
    else:
        assert (model.n_patches * read <= 100 or model.n_patches <= 2) and model.n_patches <= 20
    baseline = PCABaseline(3, seed=0).fit(x)
    with torch.no_grad():
        x_hat = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(x_hat, baseline.inverse_transform(baseline.transform(x), x.shape[1:]), atol=1e-5)
    with torch.no_grad():  # the branch, its last layer no longer zero, draws curves of the input's shape
        model.branch_outputs()[-1].weight.normal_()
        assert model(torch.from_numpy(x)).shape == x.shape


def test_a_mixed_feature_count_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="mixed"):
        create_model("lstm", seq_len=10, n_features=3, latent_dim=2, mixed=4)


@pytest.mark.parametrize("columns", [1, 4, 64])
def test_dense_trains_on_tables_of_any_width(columns):
    from aelab import AutoencoderTransformer

    x = np.random.default_rng(0).normal(size=(20, columns)).astype(np.float32)
    est = AutoencoderTransformer(model="dense", latent_dim=1, epochs=2).fit(x)
    assert est.transform(x).shape == (20, 1) and est.inverse_transform(est.transform(x)).shape == x.shape


def write_table(path, rows, header="a,b,c,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def table_rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.2]])
    return [f"{a:.4f},{b:.4f},{c:.4f},{'yes' if a > 0 else 'no'}" for a, b, c in x]


def test_a_table_csv_trains_dense_and_every_command_reads_tables(capsys, tmp_path):
    data = write_table(tmp_path / "t.csv", table_rows())
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--latent-dim", "2", "--out", tmp_path / "r")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["input_dim"] == 3 and "probe_logreg" in metrics  # the label column gave labels
    assert metrics["test_mse"] <= metrics["pca_test_mse"] * 1.0001  # started as PCA, kept only what helped
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["feature_names"] == ["a", "b", "c"] and config["input_kind"] == "table"
    for command in ("encode", "reconstruct", "score"):
        code, _, err = run_cli(capsys, command, tmp_path / "r", data, "-o", tmp_path / f"{command}.csv")
        assert code == 0, err
    recon = np.loadtxt(tmp_path / "reconstruct.csv", delimiter=",", skiprows=1)
    original = np.loadtxt(data, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    assert recon.shape == original.shape and np.mean((recon - original) ** 2) < np.var(original)
    np.save(tmp_path / "t.npy", original.astype(np.float32))  # a 2-D .npy is a table too
    code, _, err = run_cli(capsys, "encode", tmp_path / "r", tmp_path / "t.npy", "-o", tmp_path / "z.npy")
    assert code == 0 and np.load(tmp_path / "z.npy").shape == (40, 2), err


def test_a_tables_text_columns_are_categories_that_every_command_reads_as_training_did(capsys, tmp_path):
    """A column of text with few values (a colour, a city) was "not numeric": now one 0/1 feature per value, saved
    in the run, so that a test file or new rows holding only some of the values get the same features."""
    rng = np.random.default_rng(0)
    colours, cities = rng.choice(["red", "green", "blue"], 60), rng.choice(["Paris", "Rome"], 60)
    rows = [
        f"{a:.3f},{c},{t},{a * 2 + (c == 'red'):.3f}"
        for a, c, t in zip(rng.normal(size=60), colours, cities, strict=True)
    ]
    data = write_table(tmp_path / "t.csv", rows, "a,colour,city,b")
    test = write_table(tmp_path / "test.csv", [r for r in rows if ",blue," not in r][:10], "a,colour,city,b")
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--test-data", test, "--epochs", "3",
                             "--out", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    assert "read as categories" in out and "'colour' (3 values), 'city' (2 values)" in out
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["categories"] == {"colour": ["blue", "green", "red"], "city": ["Paris", "Rome"]}
    assert config["feature_names"] == ["a", "colour=blue", "colour=green", "colour=red", "city=Paris", "city=Rome", "b"]
    assert config["model_config"]["latent_dim"] == 4  # F - 1 with a category of k values counted as k - 1 numbers
    code, _, err = run_cli(capsys, "reconstruct", tmp_path / "r", test, "-o", tmp_path / "rec.csv")
    assert code == 0, err
    lines = (tmp_path / "rec.csv").read_text().splitlines()
    assert lines[0] == "a,colour,city,b" and all(line.split(",")[1] in ("green", "red") for line in lines[1:])
    assert run_cli(capsys, "encode", tmp_path / "r", test, "-o", tmp_path / "z.npy")[0] == 0
    assert np.load(tmp_path / "z.npy").shape == (10, config["model_config"]["latent_dim"])
    oslo = [row.replace("Paris", "Oslo").replace("Rome", "Oslo") for row in rows[:3]]  # a city training lacked
    unseen = write_table(tmp_path / "unseen.csv", rows[3:20] + oslo, "a,colour,city,b")
    code, out, err = run_cli(capsys, "score", tmp_path / "r", unseen, "-o", tmp_path / "s.csv")
    assert code == 0, err
    assert "column 'city' holds values the training data did not have in 3 row(s): 'Oslo' (first in data row 18)" in out
    scores = [float(line.split(",")[1]) for line in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    assert len(scores) == 20 and min(scores[17:]) > max(scores[:17])  # scored, and the most unusual rows
    many = write_table(tmp_path / "ids.csv", [f"{i},user{i},{i % 3}" for i in range(80)], "a,name,b")
    code, _, err = run_cli(capsys, "train", "dense", "--data", many, "--out", tmp_path / "r2")
    assert_one_line_error(code, err, "ids.csv", "column 'name' holds 80 different texts", "drop it")


def test_a_loaded_table_run_reads_a_dataframe_by_its_column_names_as_encode_reads_a_csv(capsys, tmp_path):
    """Taken by position, a DataFrame in another column order was coded as if it were in the training order."""
    pd = pytest.importorskip("pandas")
    from aelab import load_run

    rng = np.random.default_rng(0)
    a, colours = rng.normal(size=40), rng.choice(["red", "blue"], 40)
    rows = [f"{v:.3f},{c},{v * 2 + (c == 'red'):.3f}" for v, c in zip(a, colours, strict=True)]
    data = write_table(tmp_path / "t.csv", rows, "a,colour,b")
    assert run_cli(capsys, "train", "dense", "--data", data, "--epochs", "2", "--out", tmp_path / "r")[0] == 0
    assert run_cli(capsys, "encode", tmp_path / "r", data, "-o", tmp_path / "z.npy")[0] == 0
    run, frame = load_run(tmp_path / "r"), pd.read_csv(data)
    shuffled = frame[["b", "colour", "a"]].assign(label=1)  # another order, a text column, a label: as in a CSV
    np.testing.assert_allclose(run.encode(shuffled), np.load(tmp_path / "z.npy"), rtol=1e-6)
    np.testing.assert_allclose(run.score(shuffled), run.score(frame), rtol=1e-6)
    np.testing.assert_allclose(run.encode(shuffled.iloc[3]), np.load(tmp_path / "z.npy")[3:4], rtol=1e-6)  # one row
    with pytest.raises(AelabError, match=r"^x: columns differ from the training data's \(missing \['b'\]\)$"):
        run.encode(frame[["a", "colour"]])


def test_a_table_reconstructed_exactly_stops_training_and_flags_no_row_for_its_float_noise(capsys, tmp_path):
    rng = np.random.default_rng(0)
    cents = rng.integers(-300, 300, size=(200, 2))  # exact sums in decimal: c and d are a's and b's to the digit
    rows = [f"{a / 100},{b / 100},{(a + b) / 100},{(a - b) / 100}" for a, b in cents]
    data = write_table(tmp_path / "rank2.csv", rows, "a,b,c,d")
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--latent-dim", "2", "--out", tmp_path / "r")
    assert code == 0, err
    assert np.percentile(np.load(tmp_path / "r" / "val_errors.npy"), 99) < 1e-9  # exact, to float noise
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics.get("random_start") is None  # nothing left to learn, nor to try
    code, out, err = run_cli(capsys, "score", tmp_path / "r", data, "-o", tmp_path / "s.csv")
    assert code == 0 and "0 of 200 samples flagged" in out, err + out


def test_a_table_parquet_and_npy_train(capsys, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    pq.write_table(pa.table({f"c{i}": x[:, i] for i in range(4)}), tmp_path / "t.parquet")
    np.save(tmp_path / "t.npy", x)
    for data in ("t.parquet", "t.npy"):
        code, _, err = run_cli(
            capsys, "train", "dense", "--data", tmp_path / data, "--epochs", "2", "--out", tmp_path / f"run-{data}"
        )
        assert code == 0, err
    stamps = pa.array(np.datetime64("2024-01-01T00:00:00") + np.arange(30) * np.timedelta64(3600, "s"))
    pq.write_table(pa.table({"c0": x[:, 0], "c1": x[:, 1], "when": stamps}), tmp_path / "dated.parquet")
    code, _, err = run_cli(capsys, "train", "dense", "--data", tmp_path / "dated.parquet", "--out", tmp_path / "d")
    assert_one_line_error(code, err, "column 'when' is not numeric ('2024-01-01 00:00:00' in data row 1)")


@pytest.mark.parametrize(
    "rows, header, fragments",
    [
        (["1,2,,0", "3,4,,1"], "a,b,c,label", ["column 'c' has a missing value in data row 11 (2 of its 12 rows)"]),
        (["1,x,3,0"], "a,b,c,label", ["column 'b' is not numeric", "'x'"]),
        (["1,2,?,0"], "a,b,c,label", ["column 'c' is not numeric ('?' in data row 11)", "a mark for a missing"]),
        (["1,2,nan,0"], "a,b,c,label", ["column 'c' has a missing value"]),
        (None, "label", ["no feature columns"]),
    ],
)
def test_bad_tables_are_one_line_errors_naming_the_column(capsys, tmp_path, rows, header, fragments):
    data = write_table(tmp_path / "bad.csv", table_rows(10) + rows if rows is not None else ["0", "1", "0"], header)
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "bad.csv", *fragments)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_csv_separated_by_semicolons_or_tabs_reads_as_with_commas(tmp_path, delimiter):
    from aelab.data.tables import read_table

    rows = table_rows(10)
    comma = read_table(write_table(tmp_path / "comma.csv", rows))
    other = read_table(write_table(tmp_path / "other.csv", [r.replace(",", delimiter) for r in rows],
                                   "a,b,c,label".replace(",", delimiter)))  # fmt: skip
    np.testing.assert_array_equal(other.x, comma.x)
    assert other.feature_names == ["a", "b", "c"] and list(other.labels) == list(comma.labels)


def test_a_byte_order_mark_before_the_header_is_not_part_of_the_first_name(tmp_path):
    """Excel's "CSV UTF-8" starts with one; read as text it made the first column '\ufeffsequence_id' (a sequence
    file read as a table) or a feature name no other file of the same columns matched."""
    from aelab.data.sequences import sequences_from_csv
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    def with_bom(path, lines):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        return path

    rows = table_rows(10)
    assert read_table(with_bom(tmp_path / "t.csv", ["a,b,c,label", *rows])).feature_names == ["a", "b", "c"]
    steps = [f"{i},{t},{i + t}" for i in range(3) for t in range(4)]
    x = sequences_from_csv(with_bom(tmp_path / "s.csv", ["sequence_id,t,v", *steps]))[0]
    assert x.shape == (3, 4, 1)
    stream = read_stream(with_bom(tmp_path / "st.csv", ["timestamp,v", *[f"{t},{t % 3}" for t in range(20)]]))
    assert stream.feature_names == ["v"] and stream.timestamps[0] == "0"


def test_a_csv_that_is_not_utf8_is_one_line_error(capsys, tmp_path):
    data = tmp_path / "latin.csv"
    data.write_text("temp\u00e9rature,b\n" + "\n".join(f"{i},{2 * i}" for i in range(20)) + "\n", encoding="latin-1")
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "latin.csv", "not UTF-8 text (byte 0xe9)", "save it as UTF-8")


def test_continuous_labels_are_refused_where_whole_numbers_and_names_are_classes(capsys, tmp_path):
    """Each value of a continuous target would be a class of its own, and every probe would score 0%."""
    x = np.random.default_rng(0).normal(size=(30, 6, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(30) / 7)
    code, _, err = run_cli(capsys, "train", "lstm", "--data", tmp_path / "x.npy", "--labels", tmp_path / "y.npy",
                           "--out", tmp_path / "r")  # fmt: skip
    assert_one_line_error(code, err, "y.npy", "0.142857 is not a whole number", "bin it into classes")
    rows = [r.rsplit(",", 1)[0] + f",{i / 3:.3f}" for i, r in enumerate(table_rows(12))]
    code, _, err = run_cli(capsys, "train", "dense", "--data", write_table(tmp_path / "t.csv", rows), "--out",
                           tmp_path / "r")  # fmt: skip
    assert_one_line_error(code, err, "t.csv: column 'label'", "0.333 is not a whole number")
    from aelab.data import load_dataset

    np.save(tmp_path / "y.npy", np.arange(30) % 3 * 1.0)  # whole numbers stored as floats are classes
    assert load_dataset(str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy")).class_names == ["0.0", "1.0", "2.0"]


def test_label_files_that_are_not_one_npy_array_and_test_labels_alone_are_one_line_errors(capsys, tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(30, 6, 2)).astype(np.float32))
    (tmp_path / "y.csv").write_text("label\n" + "\n".join(str(i % 2) for i in range(30)) + "\n")
    np.savez(tmp_path / "y.npz", y=np.arange(30) % 2)
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    train = ("train", "lstm", "--data", tmp_path / "x.npy", "--out", tmp_path / "r")
    for labels, fragment in (("y.csv", "not an .npy file"), ("y.npz", "an .npz archive of y (30,) int64; save each")):
        code, _, err = run_cli(capsys, *train, "--labels", tmp_path / labels)
        assert_one_line_error(code, err, labels, fragment)  # np.load read the CSV as a refused pickle before
    # Keras's mnist.npz as --data, and renamed .npy (it was an internal error): the arrays it holds, and what to do
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((6, 4, 4), np.uint8), y_train=np.arange(6))
    (tmp_path / "renamed.npy").write_bytes((tmp_path / "mnist.npz").read_bytes())
    for data in ("mnist.npz", "renamed.npy"):
        code, _, err = run_cli(capsys, "train", "--data", tmp_path / data, "--out", tmp_path / "r")
        assert_one_line_error(code, err, data, "archive of x_train (6, 4, 4) uint8, y_train (6,) int64", "--labels")
    code, _, err = run_cli(capsys, *train, "--test-data", tmp_path / "x.npy", "--test-labels", tmp_path / "y.npy")
    assert_one_line_error(code, err, "--test-labels", "the training data has no labels")
    for command in (train, ("evaluate", tmp_path / "r")):  # without --test-data they were silently ignored
        code, _, err = run_cli(capsys, *command, "--test-labels", tmp_path / "y.npy")
        assert_one_line_error(code, err, "--test-labels", "pass --test-data too")


def test_labels_saved_as_a_column_are_read_as_one_label_per_sample(tmp_path):
    """Keras and many scikit-learn scripts keep y as (n, 1); a wider array is still refused."""
    from aelab.data import load_dataset

    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(30, 6, 2)).astype(np.float32))
    np.save(tmp_path / "y.npy", (np.arange(30) % 3)[:, None])
    dataset = load_dataset(str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"))
    assert dataset.class_names == ["0", "1", "2"] and dataset.train.y.ndim == 1
    np.save(tmp_path / "y.npy", np.zeros((30, 2), dtype=np.int64))
    with pytest.raises(AelabError, match=r"labels must be a 1-D array of 30 entries, got shape \(30, 2\)"):
        load_dataset(str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"))


def test_bytes_of_shape_n_h_w_train_as_sequences_with_a_note_on_saving_grayscale_images(capsys, tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "mnist_like.npy", pixels)
    args = ("train", "--data", tmp_path / "mnist_like.npy", "--epochs", "1", "--out", tmp_path / "r")
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "uint8 (30, 8, 8) read as 30 sequences of 8 steps x 8 features" in out and "x[..., None]" in out
    np.save(tmp_path / "floats.npy", pixels.astype(np.float32))  # real-valued sequences: no note
    code, out, err = run_cli(capsys, *args[:2], tmp_path / "floats.npy", *args[3:], "--force")
    assert code == 0 and "read as 30 sequences" not in out


def test_a_2d_npy_for_a_sequence_model_says_how_to_save_sequences_of_one_feature(capsys, tmp_path):
    np.save(tmp_path / "uni.npy", np.random.default_rng(0).normal(size=(30, 12)).astype(np.float32))
    code, _, err = run_cli(capsys, "train", "lstm", "--data", tmp_path / "uni.npy", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "uni.npy", "holds tables", "save them as (N, T, 1): x[..., None]", "--window")


def test_weight_decay_is_an_option_saved_with_the_run(capsys, tmp_path):
    data = write_table(tmp_path / "t.csv", table_rows())
    args = ("train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r", "--weight-decay")
    assert run_cli(capsys, *args, "0.01")[0] == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["train"]["weight_decay"] == 0.01
    code, _, err = run_cli(capsys, *args, "-1", "--force")
    assert_one_line_error(code, err, "weight", "must be 0 or more")


def test_booleans_read_as_zeros_and_ones_in_npy_and_parquet_tables_and_as_pandas_writes_them_in_csvs(tmp_path):
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    from aelab.data.sequences import sequences_from_csv
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    flags = np.random.default_rng(0).random((12, 4)) < 0.5
    np.save(tmp_path / "flags.npy", flags)
    pq.write_table(pa.table({f"f{j}": flags[:, j] for j in range(4)}), tmp_path / "flags.parquet")
    rows = [",".join(("True" if v else "false") for v in row) for row in flags]  # any case
    write_table(tmp_path / "flags.csv", rows, "f0,f1,f2,f3")
    for name in ("flags.npy", "flags.parquet", "flags.csv"):
        np.testing.assert_array_equal(read_table(tmp_path / name).x, flags.astype(np.float32))
    np.testing.assert_array_equal(read_stream(tmp_path / "flags.csv").values, flags.astype(np.float32))
    lines = [f"s{i // 3},{i % 3},{row}" for i, row in enumerate(rows)]
    write_table(tmp_path / "seqs.csv", lines, "sequence_id,t,f0,f1,f2,f3")
    np.testing.assert_array_equal(sequences_from_csv(tmp_path / "seqs.csv").x, flags.reshape(4, 3, 4))
    maybe = rows[0].replace("false", "maybe", 1).replace("True", "maybe", 1)
    write_table(tmp_path / "maybe.csv", [maybe, rows[1]], "a,b,c,d")  # a column of booleans but for one cell
    with pytest.raises(AelabError, match=r"column '.' is not numeric \('maybe' in data row 1\)"):
        read_table(tmp_path / "maybe.csv")


def test_a_spreadsheets_trailing_unnamed_empty_columns_are_no_columns(capsys, tmp_path):
    """Excel exports 'a,b,c,,' with CRLF line ends: the two empty names made 'repeated column names' before."""
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    rows = [row.rsplit(",", 1)[0] + ",," for row in table_rows(30)]
    data = tmp_path / "excel.csv"
    data.write_text("\r\n".join(["a,b,c,,", *rows]) + "\r\n")
    table = read_table(data)
    assert table.feature_names == ["a", "b", "c"] and table.x.shape == (30, 3)
    assert read_stream(data).values.shape == (30, 3)
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0 and "row index" not in out, err  # no '' columns named as row indexes either
    rows[3] = rows[3][:-2] + ",7,"  # a value in an unnamed column: a column after all
    data.write_text("\n".join(["a,b,c,,", *rows]) + "\n")
    assert read_table(data).feature_names == ["a", "b", "c"]  # read, as pandas' unnamed columns are, as an index
    with pytest.raises(AelabError, match="data row 4 has a value .'7'. in column 4, which the header does not name"):
        read_stream(data)  # a stream reads row by row: it names the cell rather than guess


def test_decimal_commas_read_where_cells_are_split_by_semicolons_and_are_named_elsewhere(capsys, tmp_path):
    """Spreadsheets in locales that write '1,5' separate cells by ';': there a comma can only be a decimal mark.
    Quoted in a comma-separated file it could be a thousands separator, so it is an error that says so."""
    from aelab.data.sequences import sequences_from_csv
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    rows = table_rows(10)
    european = [r.replace(",", ";").replace(".", ",") for r in rows]
    table = read_table(write_table(tmp_path / "dec.csv", european, "a;b;c;label"))
    np.testing.assert_array_equal(table.x, read_table(write_table(tmp_path / "point.csv", rows)).x)
    (tmp_path / "stream.csv").write_text("timestamp;v\n0;1,5\n1;-2,5e-1\n")
    assert read_stream(tmp_path / "stream.csv").values[:, 0].tolist() == [1.5, -0.25]
    steps = "sequence_id;t;v\n" + "".join(f"{i // 4};{i % 4};{i},25\n" for i in range(12))
    (tmp_path / "seq.csv").write_text(steps)
    assert sequences_from_csv(tmp_path / "seq.csv")[0][2, :, 0].tolist() == [8.25, 9.25, 10.25, 11.25]
    quoted = write_table(tmp_path / "quoted.csv", ['"1,5",2.0,3.0,yes', '"2,5",1.0,0.0,no'])
    code, _, err = run_cli(capsys, "train", "dense", "--data", quoted, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "quoted.csv", "column 'a' is not numeric", "'.' as the decimal mark")


def test_scoring_a_table_with_other_columns_is_refused(capsys, tmp_path):
    data = write_table(tmp_path / "t.csv", table_rows())
    assert run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")[0] == 0
    other = write_table(tmp_path / "o.csv", [r.rsplit(",", 1)[0] for r in table_rows()], "a,b,d")
    code, _, err = run_cli(capsys, "score", tmp_path / "r", other, "-o", tmp_path / "s.csv")
    assert_one_line_error(code, err, "o.csv", "columns differ", "missing ['c']; unknown ['d']")
    assert not (tmp_path / "s.csv").exists()
    # the same columns in another order are matched by name
    reordered = [",".join(cells[i] for i in (2, 0, 1, 3)) for cells in (r.split(",") for r in table_rows())]
    shuffled = write_table(tmp_path / "shuffled.csv", reordered, "c,a,b,label")
    assert run_cli(capsys, "score", tmp_path / "r", data, "-o", tmp_path / "s1.csv")[0] == 0
    assert run_cli(capsys, "score", tmp_path / "r", shuffled, "-o", tmp_path / "s2.csv")[0] == 0
    assert (tmp_path / "s1.csv").read_text() == (tmp_path / "s2.csv").read_text()


def test_a_test_file_with_the_columns_in_another_order_is_matched_by_name(capsys, tmp_path):
    data = write_table(tmp_path / "t.csv", table_rows())
    reordered = [",".join(cells[i] for i in (2, 0, 1, 3)) for cells in (r.split(",") for r in table_rows(20, seed=1))]
    same = write_table(tmp_path / "same.csv", table_rows(20, seed=1))
    shuffled = write_table(tmp_path / "shuffled.csv", reordered, "c,a,b,label")
    errors = []
    for name, test in (("same", same), ("shuffled", shuffled)):
        out = tmp_path / name
        assert (
            run_cli(capsys, "train", "dense", "--data", data, "--test-data", test, "--epochs", "1", "--out", out)[0]
            == 0
        )
        errors.append(json.loads((out / "metrics.json").read_text())["test_mse"])
    assert errors[0] == errors[1]
    # a column too few or too many is named, as encode and score name it, not counted as a shape
    fewer = write_table(tmp_path / "fewer.csv", [r.split(",", 1)[1] for r in table_rows(20, seed=1)], "b,c,label")
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--test-data", fewer, "--out", tmp_path / "f")
    assert_one_line_error(code, err, "--test-data", "fewer.csv: columns differ", "missing ['a']")


def test_files_without_a_header_line_are_named_as_such_when_their_columns_differ(capsys, tmp_path):
    """A CSV's first line is its header (as pandas and R read it); np.savetxt writes none, and the numbers of the
    first row then name the columns, which no other file of such numbers shares."""
    rows = [",".join(r.split(",")[:3]) for r in table_rows(40)]
    data = write_table(tmp_path / "t.csv", rows[1:], rows[0])
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    other = write_table(tmp_path / "new.csv", rows[5:], rows[4])
    code, _, err = run_cli(capsys, "encode", tmp_path / "r", other, "-o", tmp_path / "codes.npy")
    assert_one_line_error(code, err, "new.csv: columns differ", "a file without a header line?")


def test_without_a_model_the_kind_of_data_picks_its_default(capsys, tmp_path):
    table = write_table(tmp_path / "t.csv", table_rows())
    np.save(tmp_path / "seqs.npy", wavy(12, 10, 2))
    for data, expected in ((table, "dense"), (tmp_path / "seqs.npy", "lstm")):
        out = tmp_path / expected
        code, printed, err = run_cli(capsys, "train", "--data", data, "--epochs", "1", "--out", out)
        assert code == 0, err
        assert f"model: {expected}, the default for" in printed
        assert ("--window auto reads them as a stream" in printed) == (expected == "dense")  # a forgotten --window?
        assert json.loads((out / "config.json").read_text())["model"] == expected
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "none")
    assert_one_line_error(code, err, "name a MODEL, or pass --data")
    assert not (tmp_path / "none").exists()


def test_a_table_model_without_data_says_so(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "dense", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "--data", "no default data")


def test_test_data_is_the_whole_test_split_and_pca_stays_on_the_training_rows(capsys, tmp_path):
    train, test = wavy(30, 16, 2, seed=0), wavy(17, 16, 2, seed=1)
    np.save(tmp_path / "train.npy", train)
    np.save(tmp_path / "test.npy", test)
    np.save(tmp_path / "train_y.npy", np.arange(30) % 2)
    np.save(tmp_path / "test_y.npy", np.arange(17) % 2)
    args = ["--data", tmp_path / "train.npy", "--labels", tmp_path / "train_y.npy", "--epochs", "2"]
    code, _, err = run_cli(
        capsys, "train", "conv1d", *args, "--test-data", tmp_path / "test.npy",
        "--test-labels", tmp_path / "test_y.npy", "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 0, err
    from aelab.data import DataSpec, load_dataset

    config = json.loads((tmp_path / "r" / "config.json").read_text())
    dataset = load_dataset(DataSpec.from_dict(config["data"]))
    assert len(dataset.test.x) == 17 and len(dataset.train.x) + len(dataset.val.x) == 30  # nothing carved off
    assert abs(float(dataset.train.x.mean())) < 0.05  # z-scored with the training split's own statistics
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert "probe_logreg" in metrics
    # evaluate --test-data on a run trained with a carved test split: its training split stays the same
    code, _, err = run_cli(capsys, "train", "conv1d", *args, "--out", tmp_path / "carved")
    assert code == 0, err
    before = json.loads((tmp_path / "carved" / "metrics.json").read_text())
    code, out, err = run_cli(
        capsys, "evaluate", tmp_path / "carved", "--test-data", tmp_path / "test.npy",
        "--test-labels", tmp_path / "test_y.npy",
    )  # fmt: skip
    assert code == 0, err
    after = json.loads((tmp_path / "carved" / "metrics.json").read_text())
    assert after["evaluated_on"].endswith("test.npy") and after["test_mse"] != before["test_mse"]
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "carved", "--test-data", tmp_path / "train_y.npy")
    assert_one_line_error(code, err, "train_y.npy", "2-D")


def test_labelled_training_data_with_an_unlabelled_test_file_says_why_there_are_no_probes(capsys, tmp_path):
    np.save(tmp_path / "train.npy", wavy(30, 16, 2, seed=0))
    np.save(tmp_path / "test.npy", wavy(17, 16, 2, seed=1))
    np.save(tmp_path / "train_y.npy", np.arange(30) % 2)
    args = ["--data", tmp_path / "train.npy", "--epochs", "1", "--test-data", tmp_path / "test.npy"]
    code, out, err = run_cli(
        capsys, "train", "conv1d", *args, "--labels", tmp_path / "train_y.npy", "--out", tmp_path / "r"
    )
    assert code == 0, err
    assert f"no probes: --test-data {tmp_path / 'test.npy'} has no labels" in out
    assert "probe_logreg" not in json.loads((tmp_path / "r" / "metrics.json").read_text())
    code, out, err = run_cli(capsys, "train", "conv1d", *args, "--out", tmp_path / "plain")  # nothing labelled
    assert code == 0 and "no probes" not in out, err
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "r")
    assert code == 0 and "no probes: --test-data" in out, err
    # a run with a carved test split, evaluated on a test file without labels or with classes it never saw
    train_args = ["--data", tmp_path / "train.npy", "--labels", tmp_path / "train_y.npy", "--epochs", "1"]
    code, out, err = run_cli(capsys, "train", "conv1d", *train_args, "--out", tmp_path / "carved")
    assert code == 0 and "no probes" not in out, err
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "carved", "--test-data", tmp_path / "test.npy")
    assert code == 0 and "no probes: --test-data" in out and "has no labels" in out, err
    np.save(tmp_path / "test_y.npy", np.arange(17) % 3)
    test_args = ["--test-data", tmp_path / "test.npy", "--test-labels", tmp_path / "test_y.npy"]
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "carved", *test_args)
    assert code == 0 and "has labels the training data does not: 2" in out, err
    assert "probe_logreg" not in json.loads((tmp_path / "carved" / "metrics.json").read_text())
    code, out, err = run_cli(capsys, "train", "conv1d", *train_args, *test_args, "--out", tmp_path / "new-class")
    assert code == 0 and "no probes: --test-data" in out and "does not: 2" in out, err  # as train says for images


def test_a_table_of_one_column_points_to_windows(capsys, tmp_path):
    data = write_table(tmp_path / "one.csv", [f"{np.sin(t):.4f}" for t in range(60)], "value")
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "one.csv", "one feature column", "--window")
    assert not (tmp_path / "r").exists()  # the run directory it had made for the run is gone again
    code, _, err = run_cli(capsys, "sweep", "dense", "--data", data, "--latent-dims", "1", "--out", tmp_path / "s")
    assert_one_line_error(code, err, "one feature column")
    assert not (tmp_path / "s").exists()
    two = write_table(tmp_path / "two.csv", [f"{np.sin(t):.4f},{np.cos(t):.4f}" for t in range(60)], "value,other")
    code, _, err = run_cli(capsys, "train", "dense", "--data", two, "--test-data", data, "--out", tmp_path / "t")
    assert_one_line_error(code, err, "--test-data", "one.csv: columns differ", "missing ['other']")
    (tmp_path / "mine").mkdir()  # an empty folder the user made stays
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--out", tmp_path / "mine")
    assert code == 2 and (tmp_path / "mine").is_dir()


def test_a_single_sequence_is_too_few_in_words(capsys, tmp_path):
    data = write_table(tmp_path / "one.csv", [f"0,{t},{np.sin(t):.4f}" for t in range(20)], "sequence_id,t,v")
    code, _, err = run_cli(capsys, "train", "lstm", "--data", data, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "one.csv: 1 sequence is too few to split")


def test_timestamp_and_is_anomaly_are_not_features_and_one_dimensional_codes_plot(capsys, tmp_path):
    rows = [f"{t},{np.sin(t):.4f},{np.cos(t):.4f},{int(t % 7 == 0)}" for t in range(40)]
    data = write_table(tmp_path / "t.csv", rows, "timestamp,a,b,is_anomaly")
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "2", "--out", tmp_path / "r")
    assert code == 0, err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["feature_names"] == ["a", "b"] and config["model_config"]["latent_dim"] == 1  # min(8, F - 1)
    assert config["class_names"] == ["0", "1"] and (tmp_path / "r" / "plots" / "latent.png").exists()


@pytest.mark.parametrize("index", ["", "Unnamed: 0", "id", "Index"])
def test_a_row_index_is_never_a_feature_of_a_table_a_stream_or_sequences(tmp_path, index):
    """pandas writes its index first unless told index=False: read as a feature it would be a ramp."""
    from aelab.data.sequences import sequences_from_csv
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    plain = read_table(write_table(tmp_path / "plain.csv", table_rows(10)))
    indexed = write_table(tmp_path / "indexed.csv", [f"{i},{row}" for i, row in enumerate(table_rows(10))],
                          f"{index},a,b,c,label")  # fmt: skip
    table = read_table(indexed)
    assert table.feature_names == ["a", "b", "c"] and list(table.labels) == list(plain.labels)
    np.testing.assert_array_equal(table.x, plain.x)
    stream = read_stream(write_table(tmp_path / "s.csv", [f"{i},{np.sin(i):.4f}" for i in range(30)], f"{index},v"))
    assert stream.feature_names == ["v"] and stream.values.shape == (30, 1)
    rows = [f"{i},s{i // 5},{i % 5},{np.sin(i):.4f},{i % 5 == 0:d},{i // 5}" for i in range(20)]
    header = f"{index},sequence_id,t,v,is_anomaly,label"
    x, y, names, features = sequences_from_csv(write_table(tmp_path / "q.csv", rows, header))[:4]
    assert x.shape == (4, 5, 1) and features == ["v"] and list(y) == [0, 1, 2, 3]


def test_train_says_which_columns_are_row_indexes_and_which_features_look_like_labels(capsys, tmp_path):
    rows = [f"{i},{row.rsplit(',', 1)[0]},{i % 2}" for i, row in enumerate(table_rows(30))]
    data = write_table(tmp_path / "t.csv", rows, ",a,b,c,Target")
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    assert "not features: '' (row index)" in out
    assert "column 'Target' is read as a feature; if it holds labels, name it label" in out
    assert json.loads((tmp_path / "r" / "config.json").read_text())["feature_names"] == ["a", "b", "c", "Target"]


def test_reserved_column_names_in_another_case_are_named_as_features_to_rename():
    """'Label' or 'Is_Anomaly' trained as a feature without a word (labels unread, probes and anomaly metrics gone),
    and 'Sequence_ID, T' as a table of three features."""
    from aelab.data.tables import column_notes

    notes = column_notes(["a", "Label", "Is_Anomaly", "label"])
    assert notes == [
        "column 'Label' is read as a feature: aelab reads 'label' by that name, in lower case; rename it",
        "column 'Is_Anomaly' is read as a feature: aelab reads 'is_anomaly' by that name, in lower case; rename it",
    ]
    index, note = column_notes(["", "Sequence_ID", "T", "value"])  # after pandas' index
    assert index == "not features: '' (row index)" and "sequence_id, t" in note
    assert note.startswith("columns 'Sequence_ID', 'T' are read as features of a table")
    assert column_notes(["sequence_id", "t", "value"]) == column_notes(["T", "Sequence_ID", "x"]) == []


def test_a_table_whose_ids_repeat_says_it_may_hold_sequences_one_step_per_row(capsys, tmp_path):
    rows = [f"unit-{i // 10},{i % 10},{np.sin(i):.4f},{np.cos(i):.4f}" for i in range(60)]
    data = write_table(tmp_path / "long.csv", rows, "ID,time,x,y")
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    assert "column 'ID' repeats its values (6 ids in the first 60 rows)" in out and "sequence_id, t" in out
    rows = [f"row-{i},{i % 10},{np.sin(i):.4f},{np.cos(i):.4f}" for i in range(60)]  # one row per id: a table
    data = write_table(tmp_path / "wide.csv", rows, "ID,time,x,y")
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r2")
    assert code == 0 and "repeats its values" not in out


def test_a_header_of_numbers_is_named_where_a_file_without_one_loses_its_first_row(capsys, tmp_path):
    data = tmp_path / "saved.csv"
    np.savetxt(data, np.random.default_rng(0).normal(size=(40, 3)), delimiter=",")  # no header line
    code, out, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    assert "the header line holds only numbers (1.25730221..., " in out and "add a header line" in out
    code, out, err = run_cli(capsys, "encode", tmp_path / "r", data, "-o", tmp_path / "c.npy")
    assert code == 0 and "header line holds only numbers" in out and "39 samples" in out
    from aelab.data.tables import column_notes

    assert not any("header line" in note for note in column_notes(["a", "1", "2"]))  # one name is not a number


def test_a_tables_id_column_names_its_rows_in_outputs(capsys, tmp_path):
    rows = [f"row-{i},{row}" for i, row in enumerate(table_rows(30))]
    data = write_table(tmp_path / "t.csv", rows, "ID,a,b,c,label")
    code, _, err = run_cli(capsys, "train", "dense", "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["feature_names"] == ["a", "b", "c"]
    code, _, err = run_cli(capsys, "score", tmp_path / "r", data, "-o", tmp_path / "s.csv")
    assert code == 0, err
    written = [line.split(",") for line in (tmp_path / "s.csv").read_text().splitlines()]
    assert written[0] == ["index", "score", "is_anomaly", "ID"]
    assert [row[-1] for row in written[1:]] == [f"row-{i}" for i in range(30)]


def test_verdicts_in_words():
    from aelab.evaluate import pca_verdict
    from aelab.report import _verdict

    assert pca_verdict(0.9, 1.0).startswith("beats PCA by 10%")
    assert pca_verdict(1.002, 1.0).startswith("matches PCA")
    assert pca_verdict(8.17, 1.0) == "LOSES TO PCA: 8.17x its MSE"
    assert pca_verdict(1e-16, 5e-15).startswith("matches PCA (both reconstruct the data exactly")
    fell_back = dict(test_mse=1.0, pca_test_mse=1.0, latent_dim=4, pca_fallback=True)
    fell_back.update(trained_val_mse=8.0, pca_val_mse=1.0)
    assert "ended as PCA: trained from random weights it reached 8 validation MSE, PCA 1" in _verdict(fell_back)


def test_one_rule_decides_beats_matches_and_loses_everywhere():
    """A model that kept its PCA start differs from PCA by float noise; metrics.json, the report and a sweep's
    findings must all call it a match (beats_pca was True on 0.9999999x)."""
    from aelab.evaluate import pca_standing, pca_verdict
    from aelab.report import _verdict

    assert pca_standing(0.9999999, 1.0) == "matches"
    assert pca_standing(0.99, 1.0) == "beats"
    assert pca_standing(1.01, 1.0) == "loses"
    assert pca_standing(0.0, 0.0) == "exact"  # no division by a perfect PCA's error
    assert pca_standing(1e-3, 0.0) == "loses"  # nor where PCA alone is exact
    assert pca_verdict(1e-3, 0.0) == "LOSES TO PCA, which reconstructs the data exactly"
    assert _verdict(dict(test_mse=1e-3, pca_test_mse=0.0, latent_dim=3)).startswith("**loses to PCA-3**, which")
    assert _verdict(dict(test_mse=0.0, pca_test_mse=0.0, latent_dim=3)).startswith("matches PCA-3 (both")
    assert _verdict(dict(test_mse=0.9999999, pca_test_mse=1.0, latent_dim=3)).startswith("matches PCA-3")


def test_codes_learned_with_an_augmentation_that_classify_worse_than_pcas_are_named_with_the_option():
    """CBF (30 training sequences) kept the PCA of its time-shifted copies: 0.70x PCA's MSE, probe 76.8% vs 86.8%."""
    from aelab.evaluate import augmented_codes_note
    from aelab.report import _latent_findings

    m = dict(mse_vs_pca=0.70, probe_logreg=0.768, pca_probe_logreg=0.868, latent_dim=20, probe_knn=0.6)
    m.update(pca_probe_knn=0.7, latent_pc1_variance=0.3, latent_pc2_variance=0.2)
    note = augmented_codes_note(m, "time-shift")
    assert "76.8% vs 86.8%" in note and "time-shift" in note and "0.70x" in note and "--augment none" in note
    assert augmented_codes_note(m, "none") is None  # PCA's own codes: nothing to trade
    assert augmented_codes_note({**m, "probe_logreg": 0.85}, "time-shift") is None  # within 2 points
    assert augmented_codes_note({k: v for k, v in m.items() if "probe" not in k}, "time-shift") is None  # no labels
    run = {"model": "lstm", "metrics": m, "config": {"train": {"augment": "time-shift"}}}
    assert "--augment none" in _latent_findings({"lstm": run})[0]
    assert "--augment" not in _latent_findings({"lstm": {**run, "config": {"train": {"augment": "none"}}}})[0]


def test_photos_of_different_sizes_train_with_image_size_and_encode_alike(capsys, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("test", 3)):
        for c in ("a", "b"):
            (tmp_path / "photos" / split / c).mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(12, 40, 2)
                pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / "photos" / split / c / f"{i}.png")
    photos = tmp_path / "photos"
    code, _, err = run_cli(capsys, "train", "cnn", "--data", photos, "--epochs", "1", "--out", tmp_path / "no")
    assert_one_line_error(code, err, "pass --image-size HxW")
    code, _, err = run_cli(
        capsys, "train", "cnn", "--data", photos, "--image-size", "16x20", "--epochs", "1", "--latent-dim", "4",
        "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 0, err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["data"]["image_size"] == "16x20" and config["model_config"]["height"] == 16
    code, _, err = run_cli(capsys, "encode", tmp_path / "r", photos / "test", "-o", tmp_path / "z.npy")
    assert code == 0 and np.load(tmp_path / "z.npy").shape == (6, 4), err
    code, _, err = run_cli(capsys, "train", "cnn", "--data", photos, "--image-size", "big", "--out", tmp_path / "x")
    assert_one_line_error(code, err, "--image-size", "HxW")


def test_augmentation_is_chosen_where_it_helps_pca_generalise():
    from sklearn.datasets import load_digits

    from aelab.data.augment import choose_augmentation

    rng, t = np.random.default_rng(0), np.arange(64)[None, :, None]
    noise = 0.02 * rng.normal(size=(60, 64, 1))
    # one bump, wherever a recording caught it: a shifted copy is another plausible recording
    unaligned = np.exp(-0.5 * ((t - rng.uniform(20, 44, (60, 1, 1))) / 3) ** 2) + noise
    # (at PCA-8: two components cannot hold a bump that moves, shifted or not)
    assert choose_augmentation("sequence", unaligned.astype(np.float32), 8, seed=0).name == "time-shift"
    # the bump always at step 32: shifting it only adds what the data never shows
    aligned = np.exp(-0.5 * ((t - 32) / 3) ** 2) * rng.uniform(0.5, 2, (60, 1, 1)) + noise
    assert choose_augmentation("sequence", aligned.astype(np.float32), 8, seed=0).name == "none"
    digits = (load_digits().images[:400, None] / 16).astype(np.float32)  # a mirrored or shifted digit is another shape
    choice = choose_augmentation("image", digits, 8, seed=0)
    assert choice.name == "none" and "flip+shift" in choice.reason
    assert choose_augmentation("table", np.ones((50, 4), np.float32), 2, seed=0).name == "none"
    photos = np.zeros((12, 3, 512, 512), np.float32)  # 12 x 18 variants of 786,432 values would be 170M values
    assert (
        choose_augmentation("image", photos, 8, seed=0).reason
        == "samples of 786,432 values are too large to test one in memory"
    )
    ragged = unaligned.astype(np.float32)
    ragged[::2, 56:] = np.nan  # padding after step 56, where no bump reaches
    assert choose_augmentation("sequence", ragged, 8, seed=0).name == "time-shift"


def test_variants_hold_the_originals_and_every_kind_of_change_the_augmentation_draws():
    from aelab.data.augment import IMAGE_SHIFT, variants

    x = torch.arange(2 * 64, dtype=torch.float32).reshape(2, 64, 1)
    shifted = variants(x, "time-shift")  # at most 3 steps each way on 64 steps: all 7 shifts
    assert shifted.shape == (14, 64, 1) and torch.equal(shifted[6:8], x)
    assert torch.equal(shifted[12, :4, 0], torch.zeros(4)) and torch.equal(shifted[12, 3:, 0], x[0, :61, 0])  # +3
    ragged = x.clone()
    ragged[1, 40:] = torch.nan
    assert torch.isnan(variants(ragged, "time-shift")[1::2, 40:]).all()  # each keeps its padding
    images = torch.rand(3, 1, 8, 8)
    assert torch.equal(variants(images, "flip"), torch.cat([images, images.flip(-1)]))
    grid = variants(images, "flip+shift").reshape(9, 2, 3, 1, 8, 8)  # (dy, dx) x (as is, mirrored) x images
    assert torch.equal(grid[4, 0], images) and torch.equal(grid[4, 1], images.flip(-1))
    assert torch.equal(grid[5, 0, :, :, :, : 8 - IMAGE_SHIFT], images[..., IMAGE_SHIFT:])  # dx = +2: moved left


def test_a_confirmed_choice_starts_as_the_augmented_pca_and_keeps_plain_pca_beside_it():
    from aelab.experiment import new_model

    rng, t = np.random.default_rng(0), np.arange(64)[None, :, None]
    noise = 0.02 * rng.normal(size=(60, 64, 1))
    x = (np.exp(-0.5 * ((t - rng.uniform(20, 44, (60, 1, 1))) / 3) ** 2) + noise).astype(np.float32)
    built = new_model("conv1d", x, 8, "lab", seed=0, init="pca", augment="auto")
    assert built.augmentation.name == "time-shift" and built.augmentation.confirmed
    plain = new_model("conv1d", x, 8, "lab", seed=0, init="pca", augment="none").model
    assert all(torch.equal(plain.state_dict()[k], v) for k, v in built.pca_weights.items())  # for the veto
    assert not torch.equal(built.model.pca_path.up.weight, plain.pca_path.up.weight)
    assert "t = " in built.augmentation.reason


def test_an_anchored_model_on_augmented_data_starts_as_their_pca_and_keeps_the_plain_pca_to_return_to():
    from aelab.experiment import new_model

    rng, t = np.random.default_rng(0), np.arange(64)[None, :, None]
    x = (np.exp(-0.5 * ((t - rng.uniform(20, 44, (60, 1, 1))) / 3) ** 2)).astype(np.float32)
    built = new_model("conv1d", x, 2, "lab", seed=0, init="pca", augment="time-shift")
    plain = new_model("conv1d", x, 2, "lab", seed=0, init="pca").model
    assert built.augmentation.name == "time-shift"
    assert all(torch.equal(plain.state_dict()[k], v) for k, v in built.pca_weights.items())
    assert not torch.equal(built.model.pca_path.up.weight, plain.pca_path.up.weight)
    assert new_model("conv1d", x, 2, "lab", seed=0, init="random", augment="time-shift").pca_weights is None


def test_augment_auto_is_printed_and_saved_and_an_explicit_augment_wins_or_is_refused(capsys, tmp_path):
    np.save(tmp_path / "x.npy", wavy(30, 16, 2))
    base = ["train", "conv1d", "--data", tmp_path / "x.npy", "--epochs", "1"]
    code, out, err = run_cli(capsys, *base, "--out", tmp_path / "a")
    assert code == 0, err
    chosen = json.loads((tmp_path / "a" / "config.json").read_text())["train"]["augment"]
    assert chosen in ("none", "time-shift") and f"augmentation: {chosen} (" in out
    code, out, err = run_cli(capsys, *base, "--augment", "time-shift", "--out", tmp_path / "b")
    assert code == 0 and "augmentation:" not in out
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["augment"] == "time-shift"
    code, out, err = run_cli(capsys, *base, "--augment", "flip", "--out", tmp_path / "c")
    assert code == 2 and "--augment: 'flip' does not apply to sequences" in err
    assert not (tmp_path / "c" / "config.json").exists()
    code, out, err = run_cli(capsys, *base, "--augment", "rotate", "--out", tmp_path / "d")
    assert (
        code == 2 and "--augment: unknown augment 'rotate'; choose from none, flip, flip+shift, time-shift, auto" in err
    )


def test_the_summary_says_when_a_gain_is_that_of_an_augmented_pca_start():
    from aelab.experiment import summary_line

    m = {"test_mse": 0.5, "pca_test_mse": 1.0, "latent_dim": 20, "epochs": 10, "mse_vs_pca": 0.5, "best_epoch": 0}
    line = summary_line("lstm", m, 3.0, "pca", "time-shift")
    assert "beats PCA by 50%" in line and "(kept its start, PCA fitted to the training data with time-shift;" in line
    assert "kept its start" not in summary_line("lstm", {**m, "best_epoch": 4}, 3.0, "pca", "time-shift")
    assert "kept its start" not in summary_line("lstm", m, 3.0, "pca", "none")  # plain PCA: the verdict says it


def test_an_image_model_on_a_stack_of_grayscale_images_says_how_to_save_them(capsys, tmp_path):
    np.save(tmp_path / "gray.npy", np.random.default_rng(0).integers(0, 256, (12, 8, 8), dtype=np.uint8))
    code, _, err = run_cli(capsys, "train", "cnn", "--data", tmp_path / "gray.npy", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "gray.npy: holds sequences, but model 'cnn' takes images", "x[..., None]")


def test_a_model_from_random_weights_is_kept_only_where_it_clearly_beats_pca():
    from aelab.experiment import pca_unless_beaten
    from aelab.train import TrainConfig, Trainer

    # a parabola: PCA-1 keeps t and loses t^2, a trained autoencoder with one code bends to it
    t = np.random.default_rng(0).uniform(-1, 1, 600).astype(np.float32)
    x = np.stack([t, t**2 - 1 / 3], 1)
    train, val = torch.from_numpy(x[:500]), torch.from_numpy(x[500:])
    torch.manual_seed(0)
    untrained = create_model("dense", n_features=2, latent_dim=1, init="random").eval()
    fallback = pca_unless_beaten("dense", untrained, x[:500], val, "lab", seed=42)
    assert fallback is not None and fallback.val_mse > fallback.pca_val_mse
    assert fallback.model.config.init == "pca"
    baseline = PCABaseline(1, seed=42).fit(x[:500])
    with torch.no_grad():
        x_hat = fallback.model(val).numpy()
    np.testing.assert_allclose(x_hat, baseline.inverse_transform(baseline.transform(x[500:]), (2,)), atol=1e-5)

    trained = create_model("dense", n_features=2, latent_dim=1, init="random")
    Trainer(trained, TrainConfig(epochs=80, batch_size=50, lr=3e-3, schedule="onecycle"), progress=False).fit(
        train, val
    )
    assert pca_unless_beaten("dense", trained.eval(), x[:500], val, "lab", seed=42) is None
    anchored = create_model("dense", n_features=2, latent_dim=1, init="pca")  # judged by its own training
    assert pca_unless_beaten("dense", anchored, x[:500], val, "lab", seed=42) is None


def test_the_estimator_returns_to_pca_as_train_does_and_says_so(monkeypatch):
    import aelab.estimator
    from aelab import AutoencoderTransformer

    x = wavy(60, 24, 2)
    fitted = AutoencoderTransformer(model="conv1d", latent_dim=4, epochs=1).fit(x)
    assert not fitted.pca_fallback_ and fitted.model_.config.init == "pca"  # small data: it started as PCA
    assert fitted.random_start_ is False  # one epoch did not move it: a random start was tried, and lost
    monkeypatch.setattr(aelab.estimator, "default_init", lambda *a: None)  # as for thousands of samples
    fitted = AutoencoderTransformer(model="conv1d", latent_dim=4, epochs=1).fit(x)
    assert fitted.pca_fallback_ and fitted.model_.config.init == "pca"
    scaled = fitted.standardizer_.apply(x)
    baseline = PCABaseline(4, seed=42).fit(scaled[np.random.default_rng(42).permutation(60)[6:]])
    np.testing.assert_allclose(fitted.transform(x), baseline.transform(scaled), atol=1e-4)


def test_a_pca_start_that_training_does_not_move_gets_a_random_start_kept_where_clearly_better(
    capsys, tmp_path, monkeypatch
):
    import aelab.experiment

    np.save(tmp_path / "x.npy", wavy(60, 24, 2))
    args = ["train", "conv1d", "--data", tmp_path / "x.npy", "--epochs", "1", "--latent-dim", "4", "--augment", "none"]
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "a")  # small data: a PCA start, not moved in 1 epoch
    assert code == 0, err
    assert "training it again from random weights" in out and "PCA start kept" in out
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["random_start"] is False and metrics["random_start_val_mse"] > metrics["anchored_val_mse"]
    assert metrics["best_epoch"] == 0 and metrics["mse_vs_pca"] == pytest.approx(1, abs=1e-4)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["model_config"]["init"] == "pca"
    code, _, err = run_cli(capsys, *args, "--out", tmp_path / "a", "--resume")  # both starts resume as finished
    assert code == 0 and json.loads((tmp_path / "a" / "metrics.json").read_text()) == metrics, err

    # where the random start is clearly better (forced here), the run is the one --init random makes, weight for weight
    monkeypatch.setattr(aelab.experiment, "clearly_better", lambda errors, reference: True)
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "b")
    assert code == 0 and "the random start is kept" in out, err
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["random_start"] is True
    code, _, err = run_cli(capsys, *args, "--init", "random", "--out", tmp_path / "c")
    assert code == 0, err
    assert "random_start" not in json.loads((tmp_path / "c" / "metrics.json").read_text())  # asked for: one start
    kept, asked = (load_file(tmp_path / run / "model.safetensors") for run in ("b", "c"))
    assert kept.keys() == asked.keys() and all(torch.equal(kept[k], asked[k]) for k in kept)
    code, out, err = run_cli(capsys, *args, "--init", "pca", "--out", tmp_path / "d")  # asked for: kept as trained
    assert code == 0 and "random weights" not in out, err


def test_a_second_start_that_diverges_leaves_the_anchored_run_standing(capsys, tmp_path, monkeypatch):
    import aelab.experiment
    from aelab.errors import TrainingDiverged

    real = aelab.experiment.new_model

    def diverging(*args, **kwargs):  # the random start's training meets a NaN loss
        built = real(*args, **kwargs)
        if kwargs.get("init") == "random":
            monkeypatch.setattr(built.model, "forward", lambda *a: (_ for _ in ()).throw(TrainingDiverged("nan")))
        return built

    monkeypatch.setattr(aelab.experiment, "new_model", diverging)
    np.save(tmp_path / "x.npy", wavy(60, 24, 2))
    args = ["train", "conv1d", "--data", tmp_path / "x.npy", "--epochs", "1", "--latent-dim", "4", "--augment", "none"]
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "a")
    assert code == 0, err  # it failed the whole run, whose PCA start was sound
    assert "from random weights diverged" in out and "PCA start kept" in out
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["random_start"] is False and metrics["random_start_val_mse"] is None
    assert metrics["mse_vs_pca"] == pytest.approx(1, abs=1e-4)


def test_the_outlier_detector_keeps_its_pca_start_without_a_random_second_start(monkeypatch):
    import aelab.estimator
    from aelab import AutoencoderOutlierDetector

    def refuse(*args, **kwargs):
        raise AssertionError("a detector that fits its training rows better fits their outliers too")

    monkeypatch.setattr(aelab.estimator, "random_start_unless_beaten", refuse)
    detector = AutoencoderOutlierDetector(latent_dim=2, epochs=1).fit(wavy(40, 6, 2).reshape(40, 12))
    assert all(m.config.init == "pca" for m in detector.fold_models_)


def test_a_default_run_that_does_not_beat_pca_from_random_weights_ends_as_pca(capsys, tmp_path, monkeypatch):
    import aelab.experiment

    monkeypatch.setattr(aelab.experiment, "default_init", lambda *a: None)  # as for thousands of samples
    np.save(tmp_path / "x.npy", wavy(60, 24, 2))
    args = ["train", "conv1d", "--data", tmp_path / "x.npy", "--epochs", "1", "--latent-dim", "4"]
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "a")
    assert code == 0, err
    assert "not clearly better, so the run keeps PCA's solution" in out
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["pca_fallback"] and metrics["trained_val_mse"] > metrics["pca_val_mse"]
    assert metrics["mse_vs_pca"] == pytest.approx(1, abs=1e-4) and metrics["best_epoch"] == 0
    assert metrics["beats_pca"] is False  # PCA's solution, within float noise of PCA's error, is no win
    assert json.loads((tmp_path / "a" / "config.json").read_text())["model_config"]["init"] == "pca"
    code, _, err = run_cli(capsys, "encode", tmp_path / "a", tmp_path / "x.npy", "-o", tmp_path / "codes.npy")
    assert code == 0, err
    assert np.load(tmp_path / "codes.npy").shape == (60, 4)
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "a")
    assert code == 0, err
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["trained_val_mse"] == metrics["trained_val_mse"]
    code, out, err = run_cli(capsys, *args, "--init", "random", "--out", tmp_path / "b")  # asked for: kept
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert code == 0 and "pca_fallback" not in metrics and metrics["mse_vs_pca"] > 1.1


def test_a_parquet_column_of_lists_or_records_is_one_error_naming_it(tmp_path):
    """A list or a record per cell stopped in an internal error ("unhashable type: 'list'")."""
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    from aelab.data.streams import read_stream
    from aelab.data.tables import read_table

    x = np.random.default_rng(0).normal(size=40)
    for name, nested, kind in (("lists", [[1.0, 2.0]] * 40, "list<"), ("records", [{"v": 1}] * 40, "struct<")):
        pq.write_table(pa.table({"a": x, name: nested}), tmp_path / f"{name}.parquet")
        for read in (read_table, read_stream):
            with pytest.raises(AelabError, match=rf"column '{name}' holds {kind}.* one number or text per cell"):
                read(tmp_path / f"{name}.parquet")


def test_a_table_with_an_is_anomaly_column_reports_how_the_errors_rank_its_flagged_rows(capsys, tmp_path):
    """Its 0/1 flags were read as two classes for the probes only; now metrics.json holds the anomaly metrics of
    the rows' reconstruction errors beside PCA's (no point adjustment: rows are not time steps), as for a stream."""
    rng = np.random.default_rng(0)
    inliers = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(400, 6))
    outliers = rng.normal(size=(20, 6)) * 2  # off the plane the rest lie on
    x, flags = np.vstack([inliers, outliers]), np.r_[np.zeros(400, int), np.ones(20, int)]
    order = rng.permutation(len(x))
    header = ",".join(f"f{j}" for j in range(6))
    for column, values in (("is_anomaly", flags), ("label", flags)):
        rows = [",".join(f"{v:.5f}" for v in x[i]) + f",{['false', 'true'][values[i]]}" for i in order]
        (tmp_path / f"{column}.csv").write_text(f"{header},{column}\n" + "\n".join(rows) + "\n")
        out = tmp_path / column
        code, stdout, _ = run_cli(capsys, "train", "dense", "--data", tmp_path / f"{column}.csv", "--out", out,
                                  "--latent-dim", "2")  # fmt: skip
        assert code == 0
        metrics = json.loads((out / "metrics.json").read_text())
        if column == "label":  # a class like any other
            assert "anomaly_auroc" not in metrics and "anomaly AUROC" not in stdout
            continue
        assert metrics["anomaly_auroc"] > 0.95 and metrics["pca_anomaly_auroc"] > 0.95
        assert {"anomaly_auprc", "anomaly_best_f1"} <= set(metrics) and "anomaly_best_f1_pa" not in metrics
        assert f"anomaly AUROC {metrics['anomaly_auroc']:.3f} (PCA {metrics['pca_anomaly_auroc']:.3f})" in stdout
        # `aelab score` on a flagged table says how its scores rank the flagged rows, PCA's beside them
        # and draws them (a histogram beside the validation errors; it was a stream runs' option only)
        plot = tmp_path / "scores.png"
        code, stdout, _ = run_cli(capsys, "score", out, tmp_path / f"{column}.csv", "-o", tmp_path / "scores.csv",
                                  "--plot", plot)  # fmt: skip
        found = re.search(r"anomaly metrics: auroc ([\d.]+) \(PCA ([\d.]+)\), auprc [\d.]+ \(PCA [\d.]+\)", stdout)
        assert code == 0 and found and float(found[1]) > 0.95 and float(found[2]) > 0.95
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
        code, _, err = run_cli(capsys, "score", out, tmp_path / f"{column}.csv", "-o", tmp_path / "s2.csv",
                               "--plot", tmp_path / "scores.svg")  # fmt: skip
        assert_one_line_error(code, err, "--plot", "must be a .png file")
        assert not (tmp_path / "s2.csv").exists()
