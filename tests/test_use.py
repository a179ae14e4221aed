"""Using a trained run: encode / reconstruct / score / export, the estimator, and bad inputs."""

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from aelab import AutoencoderTransformer, load_run
from aelab.cli import main
from aelab.errors import AelabError

from helpers import assert_one_line_error, run_cli, write_sequence_csv


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("img") / "run"
    assert (
        main(
            [
                "train",
                "cnn",
                "--data",
                "digits",
                "--out",
                str(out),
                "--epochs",
                "1",
                "--latent-dim",
                "4",
                "--train-size",
                "300",
                "--test-size",
                "60",
            ]
        )
        == 0
    )
    return out


@pytest.fixture(scope="module")
def seq_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq") / "run"
    assert (
        main(
            [
                "train",
                "conv1d",
                "--data",
                "synthetic",
                "--out",
                str(out),
                "--epochs",
                "1",
                "--train-size",
                "300",
                "--test-size",
                "50",
            ]
        )
        == 0
    )
    return out


def images(n=5, size=8, mode="L"):
    rng = np.random.default_rng(0)
    shape = (size, size) if mode == "L" else (size, size, len(mode))
    return [Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode) for _ in range(n)]


def test_encode_image_folder_with_mixed_modes(capsys, image_run, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for i, img in enumerate(images(3)):
        img.save(folder / f"{i}.png")
    images(1, mode="RGBA")[0].convert("LA").save(folder / "sub" / "alpha.png")  # gray + alpha: alpha dropped
    (folder / "README.md").write_text("not an image: skipped")
    code, out, err = run_cli(capsys, "encode", image_run, folder, "-o", tmp_path / "codes.npy")
    assert code == 0, err
    codes = np.load(tmp_path / "codes.npy")
    assert codes.shape == (4, 4) and np.isfinite(codes).all()


def test_a_grayscale_run_encodes_colour_images_as_their_luminance(capsys, image_run, tmp_path):
    colour, gray = tmp_path / "colour", tmp_path / "gray"
    colour.mkdir(), gray.mkdir()
    for i, img in enumerate(images(3, mode="RGB")):
        img.save(colour / f"{i}.png")
        img.convert("L").save(gray / f"{i}.png")
    for folder in (colour, gray):
        code, _, err = run_cli(capsys, "encode", image_run, folder, "-o", tmp_path / f"{folder.name}.npy")
        assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "colour.npy"), np.load(tmp_path / "gray.npy"))


def test_encode_matches_the_model(capsys, image_run, tmp_path):
    x = np.random.default_rng(1).integers(0, 256, (7, 8, 8, 1), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    for suffix in ("npy", "csv", "parquet"):
        assert run_cli(capsys, "encode", image_run, tmp_path / "x.npy", "-o", tmp_path / f"z.{suffix}")[0] == 0
    model = load_run(image_run).model
    with torch.no_grad():
        expected = model.encode(torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32) / 255)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), expected, atol=1e-5)
    header = (tmp_path / "z.csv").read_text().splitlines()[0]
    assert header == "index,z0,z1,z2,z3"
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "z.parquet").num_rows == 7


def test_reconstruct_keeps_the_input_scale(capsys, image_run, seq_run, tmp_path):
    x = np.random.default_rng(1).integers(0, 256, (3, 8, 8, 1), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    assert run_cli(capsys, "reconstruct", image_run, tmp_path / "x.npy", "-o", tmp_path / "r.npy")[0] == 0
    r = np.load(tmp_path / "r.npy")
    assert r.shape == x.shape and r.dtype == np.uint8
    seq = np.random.default_rng(0).normal(5, 2, (4, 50, 10)).astype(np.float32)
    np.save(tmp_path / "s.npy", seq)
    assert run_cli(capsys, "reconstruct", seq_run, tmp_path / "s.npy", "-o", tmp_path / "rs.npy")[0] == 0
    rs = np.load(tmp_path / "rs.npy")
    assert rs.shape == seq.shape and abs(rs.mean()) < 2  # back in raw units, not z-scores


def test_an_image_runs_reconstructions_go_to_a_new_folder_of_pngs_named_as_the_inputs(capsys, image_run, tmp_path):
    folder = tmp_path / "photos"
    (folder / "b").mkdir(parents=True)
    for name, img in zip(("z.jpg", "b/a.png", "b/a.bmp"), images(3), strict=True):
        img.save(folder / name)
    assert run_cli(capsys, "reconstruct", image_run, folder, "-o", tmp_path / "out")[0] == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["b/a.bmp.png", "b/a.png.png", "z.jpg.png"]  # b/a.* would meet at b/a.png: whole names
    assert run_cli(capsys, "reconstruct", image_run, folder, "-o", tmp_path / "r.npy")[0] == 0
    pixels = np.asarray(Image.open(tmp_path / "out" / "z.jpg.png"))
    np.testing.assert_array_equal(pixels, np.load(tmp_path / "r.npy")[2, ..., 0])  # the .npy's row, as 8-bit gray
    np.save(tmp_path / "x.npy", np.random.default_rng(1).integers(0, 256, (3, 8, 8, 1), dtype=np.uint8))
    (tmp_path / "empty").mkdir()
    assert run_cli(capsys, "reconstruct", image_run, tmp_path / "x.npy", "-o", tmp_path / "empty")[0] == 0
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    code, _, err = run_cli(capsys, "reconstruct", image_run, folder, "-o", tmp_path / "out")
    assert_one_line_error(code, err, "-o", "out: exists and is not an empty folder")  # the user's images are safe
    code, _, err = run_cli(capsys, "reconstruct", image_run, folder, "-o", tmp_path / "one.png")
    assert_one_line_error(code, err, "one.png: ", "photos holds 3 images; name a folder to get one PNG per image")
    assert not list(tmp_path.glob(".*partial"))


def test_one_image_reconstructs_to_the_image_file_named(capsys, image_run, tmp_path):
    """`reconstruct RUN photo.jpg -o photo_ae.png` writes that one image; an existing file is never overwritten."""
    photo = tmp_path / "photo.jpg"
    images(1)[0].save(photo)
    code, out, _ = run_cli(capsys, "reconstruct", image_run, photo, "-o", tmp_path / "again.png")
    assert code == 0 and f"1 sample -> {tmp_path / 'again.png'}" in out
    assert run_cli(capsys, "reconstruct", image_run, photo, "-o", tmp_path / "all.npy")[0] == 0
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "again.png")), np.load(tmp_path / "all.npy")[0, ..., 0]
    )
    before = photo.read_bytes()
    code, _, err = run_cli(capsys, "reconstruct", image_run, photo, "-o", photo)
    assert_one_line_error(code, err, f"-o {photo}: is the input file")
    assert photo.read_bytes() == before
    other = tmp_path / "other.png"
    images(1)[0].save(other)
    kept = other.read_bytes()
    code, _, err = run_cli(capsys, "reconstruct", image_run, photo, "-o", other)
    assert_one_line_error(code, err, f"-o {other}: exists; name a new file")
    assert other.read_bytes() == kept
    assert run_cli(capsys, "reconstruct", image_run, photo, "-o", tmp_path / "again.jpg")[0] == 0
    assert Image.open(tmp_path / "again.jpg").format == "JPEG"


def test_score_flags_outliers(capsys, seq_run, tmp_path):
    from aelab.data.sequences import synthetic

    x = synthetic(n=40, seed=3)[0]
    x[-1] += np.random.default_rng(0).normal(0, 5, x[-1].shape).astype(np.float32)  # one wild sequence
    np.save(tmp_path / "s.npy", x)
    code, out, err = run_cli(capsys, "score", seq_run, tmp_path / "s.npy", "-o", tmp_path / "scores.csv")
    assert code == 0, err
    lines = (tmp_path / "scores.csv").read_text().splitlines()
    assert lines[0] == "index,score,is_anomaly" and len(lines) == 41
    scores = np.array([float(ln.split(",")[1]) for ln in lines[1:]])
    assert scores.argmax() == 39 and lines[-1].endswith("True")
    flagged = sum(ln.endswith("True") for ln in lines[1:])
    assert f"{flagged} of 40 samples flagged ({flagged / 40:.2%}): score over " in out
    assert f"40 samples -> {tmp_path / 'scores.csv'}" in out


def test_sequence_csv_input(capsys, tmp_path):
    csv_path = write_sequence_csv(tmp_path / "train.csv", n=40, steps=8, features=2)
    out = tmp_path / "run"
    assert (
        run_cli(capsys, "train", "lstm", "--data", csv_path, "--out", out, "--epochs", "1", "--latent-dim", "4")[0] == 0
    )
    assert run_cli(capsys, "encode", out, csv_path, "-o", tmp_path / "z.csv")[0] == 0
    assert len((tmp_path / "z.csv").read_text().splitlines()) == 41
    assert run_cli(capsys, "reconstruct", out, csv_path, "-o", tmp_path / "r.csv")[0] == 0
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "sequence_id,t,f0,f1"


def test_outputs_name_each_sequence_and_image_file_as_the_input_does(capsys, image_run, tmp_path):
    """Rows are known by their ids, not only by position: a CSV's sequence ids (and its own t values, in a
    reconstruction, each sequence at its own length) and an image folder's file paths."""
    lines = ["sequence_id,t,v"]
    for s, steps in enumerate((6, 8, 7, 8) * 5):
        lines += [f"unit-{s},{10 + 0.5 * t},{np.sin(t + s):.4f}" for t in range(steps)]
    data = tmp_path / "seqs.csv"
    data.write_text("\n".join(lines) + "\n")
    run = tmp_path / "run"
    assert run_cli(capsys, "train", "conv1d", "--data", data, "--epochs", "1", "--out", run)[0] == 0
    assert run_cli(capsys, "reconstruct", run, data, "-o", tmp_path / "r.csv")[0] == 0
    written = [line.split(",") for line in (tmp_path / "r.csv").read_text().splitlines()]
    assert [row[:2] for row in written] == [row.split(",")[:2] for row in lines]
    latent = json.loads((run / "config.json").read_text())["model_config"]["latent_dim"]
    for command, columns in (("encode", 1 + latent + 1), ("score", 4)):
        assert run_cli(capsys, command, run, data, "-o", tmp_path / f"{command}.csv")[0] == 0
        rows = [line.split(",") for line in (tmp_path / f"{command}.csv").read_text().splitlines()]
        assert rows[0][-1] == "sequence_id" and len(rows[0]) == columns
        assert [row[-1] for row in rows[1:]] == [f"unit-{s}" for s in range(20)]
    folder = tmp_path / "photos"
    (folder / "b").mkdir(parents=True)
    for name, img in zip(("z.png", "b/a.png"), images(2), strict=True):
        img.save(folder / name)
    assert run_cli(capsys, "encode", image_run, folder, "-o", tmp_path / "codes.csv")[0] == 0
    rows = [line.split(",") for line in (tmp_path / "codes.csv").read_text().splitlines()]
    assert rows[0][-1] == "file" and [row[-1] for row in rows[1:]] == ["b/a.png", "z.png"]


def _bad_inputs(tmp_path):
    cases = {}
    (tmp_path / "trunc.png").write_bytes(_png_bytes()[:60])
    cases["truncated"] = (tmp_path / "trunc.png", "trunc.png")
    (tmp_path / "zero.png").write_bytes(b"")
    cases["zero-byte"] = (tmp_path / "zero.png", "empty file")
    folder = tmp_path / "textonly"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    cases["no image files in folder"] = (folder, "no image files")
    (tmp_path / "empty").mkdir()
    cases["empty folder"] = (tmp_path / "empty", "no image files")
    np.save(tmp_path / "big.npy", np.zeros((2, 12, 12, 1), np.uint8))
    cases["wrong size"] = (tmp_path / "big.npy", "--resize")
    np.save(tmp_path / "ch.npy", np.zeros((2, 8, 8, 2), np.uint8))
    cases["wrong channels"] = (tmp_path / "ch.npy", "channels")
    np.save(tmp_path / "range.npy", np.full((2, 8, 8, 1), 2.0, np.float32))
    cases["float out of range"] = (tmp_path / "range.npy", "[0, 1]")
    np.save(tmp_path / "nan.npy", np.full((2, 8, 8, 1), np.nan, np.float32))
    cases["nan"] = (tmp_path / "nan.npy", "NaN")
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    cases["pickled npy"] = (tmp_path / "obj.npy", "pickled")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    cases["malformed npy"] = (tmp_path / "junk.npy", "junk.npy")
    return cases


def _png_bytes():
    import io

    buf = io.BytesIO()
    images(1, size=8)[0].save(buf, format="PNG")
    return buf.getvalue()


def test_bad_image_inputs_each_get_one_line(capsys, image_run, tmp_path):
    for name, (path, fragment) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out-{name.replace(' ', '_')}.npy"
        code, _, err = run_cli(capsys, "encode", image_run, path, "-o", out)
        assert code == 2, name
        assert len(err.strip().splitlines()) == 1 and fragment in err, (name, err)
        assert not out.exists(), name
        assert not list(tmp_path.glob(".out-*")), name  # no temp file left behind


def test_resize_makes_other_sizes_fit(capsys, image_run, tmp_path):
    np.save(tmp_path / "big.npy", np.zeros((2, 12, 12, 1), np.uint8))
    assert run_cli(capsys, "encode", image_run, tmp_path / "big.npy", "-o", tmp_path / "z.npy", "--resize")[0] == 0


def test_bad_sequence_inputs(capsys, seq_run, tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((3, 20, 10), np.float32))
    code, _, err = run_cli(capsys, "encode", seq_run, tmp_path / "short.npy", "-o", tmp_path / "z.npy")
    assert code == 2 and "T=50" in err
    bad = np.zeros((3, 50, 10), np.float32)
    bad[1, 4, 2] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    code, _, err = run_cli(capsys, "encode", seq_run, tmp_path / "inf.npy", "-o", tmp_path / "z.npy")
    assert code == 2 and "sequence 1" in err and not (tmp_path / "z.npy").exists()
    # one sequence without its batch axis, and one long series, each say what to do
    for name, shape, hint in (("one.npy", (50, 10), r"x\[None\]"), ("series.npy", (900, 10), "--window")):
        np.save(tmp_path / name, np.zeros(shape, np.float32))
        code, _, err = run_cli(capsys, "encode", seq_run, tmp_path / name, "-o", tmp_path / "z.npy")
        assert code == 2 and re.search(rf"{name}: a 2-D array .*takes sequences \(N, T=50, F=10\).*{hint}", err)


def test_broken_run_directories(capsys, image_run, tmp_path):
    import shutil

    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 8, 8, 1), np.uint8))
    broken = {}
    for name in ("no-weights", "mismatch", "schema"):
        shutil.copytree(image_run, tmp_path / name)
        broken[name] = tmp_path / name
    (broken["no-weights"] / "model.safetensors").unlink()
    cfg = json.loads((broken["mismatch"] / "config.json").read_text())
    cfg["model_config"]["latent_dim"] = 5
    (broken["mismatch"] / "config.json").write_text(json.dumps(cfg))
    cfg["model_config"]["latent_dim"] = 4
    cfg["schema_version"] = 99
    (broken["schema"] / "config.json").write_text(json.dumps(cfg))
    for name, fragment in (
        ("no-weights", "missing model weights"),
        ("mismatch", "do not match config.json"),
        ("schema", "unknown schema_version 99"),
    ):
        code, _, err = run_cli(capsys, "encode", broken[name], x, "-o", tmp_path / "z.npy")
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, (name, err)
    with pytest.raises(AelabError, match="load_run: takes a run directory's path, got int 5"):
        load_run(5)  # a TypeError from inside pathlib before


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lstm") / "run"
    assert (
        main(
            [
                "train",
                "lstm",
                "--data",
                "synthetic",
                "--out",
                str(out),
                "--epochs",
                "1",
                "--train-size",
                "200",
                "--test-size",
                "50",
            ]
        )
        == 0
    )
    return out


@pytest.mark.parametrize("which", ["image_run", "seq_run", "lstm_run"])
def test_onnx_export_matches_pytorch(capsys, request, which, tmp_path):
    import onnxruntime as ort

    run_dir = request.getfixturevalue(which)
    code, _, err = run_cli(capsys, "export", run_dir, "--out", tmp_path / "onnx")
    assert code == 0, err
    run = load_run(run_dir)
    x = np.random.default_rng(0).random((5, *run.model.input_shape), dtype=np.float32)  # another batch size
    if run.normalization is not None:  # in the data's own units, as `aelab encode` reads a file
        x = x * 10 * run.normalization.std + run.normalization.mean
    enc = ort.InferenceSession(str(tmp_path / "onnx" / "encoder.onnx"))
    dec = ort.InferenceSession(str(tmp_path / "onnx" / "decoder.onnx"))
    z_onnx = enc.run(None, {"x": x})[0]
    np.testing.assert_allclose(z_onnx, run.encode(x), atol=1e-4)  # standardised inside, as by the run
    x_hat = dec.run(None, {"z": z_onnx})[0]
    np.testing.assert_allclose(x_hat, run.reconstruct(x), rtol=1e-4, atol=1e-4 * (x.std() + 1))


@pytest.mark.parametrize(
    "model, shape",
    [("conv1d", (12, 600, 1)), ("lstm", (12, 30, 20)), ("dense", (40, 6))],
    ids=["conv1d-in-patches", "lstm-mixing-features", "dense"],
)
def test_onnx_export_of_adapted_models_takes_any_batch_size(capsys, model, shape, tmp_path):
    """Long sequences read in patches, many features mixed, tables: the layers `adapt` adds export too, and no
    reshape keeps the example's batch size (conv1d's patches once did: 2 rows exported, 3 refused by onnxruntime)."""
    import onnxruntime as ort

    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).normal(size=shape).astype(np.float32))
    code, _, err = run_cli(capsys, "train", model, "--data", data, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    code, _, err = run_cli(capsys, "export", tmp_path / "r", "--out", tmp_path / "onnx")
    assert code == 0, err
    run = load_run(tmp_path / "r")
    if run.model.name == "conv1d":
        assert run.model.config.patch > 1  # 600 steps are read in patches
    encoder = ort.InferenceSession(str(tmp_path / "onnx" / "encoder.onnx"))
    decoder = ort.InferenceSession(str(tmp_path / "onnx" / "decoder.onnx"))
    for batch in (1, 3):
        x = np.random.default_rng(batch).normal(size=(batch, *run.model.input_shape)).astype(np.float32)
        z_onnx = encoder.run(None, {"x": x})[0]
        np.testing.assert_allclose(z_onnx, run.encode(x), atol=1e-4)
        np.testing.assert_allclose(decoder.run(None, {"z": z_onnx})[0], run.reconstruct(x), atol=1e-4)


def test_a_loaded_run_encodes_reconstructs_and_scores_arrays_as_the_cli_does_files(capsys, seq_run, tmp_path):
    run = load_run(seq_run)
    x = np.random.default_rng(3).normal(2.0, 3.0, size=(7, *run.model.input_shape)).astype(np.float32)
    x[2, 40:] = np.nan  # a shorter sequence
    np.save(tmp_path / "x.npy", x)
    for command in ("encode", "reconstruct"):
        assert run_cli(capsys, command, seq_run, tmp_path / "x.npy", "-o", tmp_path / f"{command}.npy")[0] == 0
    np.testing.assert_array_equal(run.encode(x), np.load(tmp_path / "encode.npy"))
    np.testing.assert_array_equal(run.reconstruct(x), np.load(tmp_path / "reconstruct.npy"))
    assert run_cli(capsys, "score", seq_run, tmp_path / "x.npy", "-o", tmp_path / "score.npy")[0] == 0
    np.testing.assert_array_equal(run.score(x), np.load(tmp_path / "score.npy")["score"])
    assert np.isnan(run.reconstruct(x)[2, 40:]).all() and not np.isnan(run.reconstruct(x)[2, :40]).any()
    with pytest.raises(AelabError, match="the run's model takes") as info:
        run.encode(x[:, :10])
    assert "one sample?" not in str(info.value)
    with pytest.raises(AelabError, match=r"one sample\? pass x\[None\]"):
        run.encode(x[0])
    x[3, 5, 0] = np.nan
    with pytest.raises(AelabError, match="sequence 3 has NaN or inf at step 5"):
        run.encode(x)


def test_a_loaded_image_run_names_channels_last_and_8_bit_arrays_and_how_to_convert_them(image_run):
    from aelab import load_run

    run = load_run(image_run)
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1), dtype=np.uint8)  # as an .npy file holds them
    with pytest.raises(AelabError, match=r"channels-last; the run takes \(1, 8, 8\).*x.transpose\(0, 3, 1, 2\)"):
        run.encode(pixels)
    eight_bit = r"^x: image values must lie in \[0, 1\], found \[0, 2\d\d\]; 8-bit values\? divide them by 255"
    with pytest.raises(AelabError, match=eight_bit):  # not "float images": these are uint8
        run.encode(pixels.transpose(0, 3, 1, 2))
    assert run.encode(pixels.transpose(0, 3, 1, 2) / 255).shape == (4, 4)


def test_an_npy_of_images_in_another_layout_says_how_to_convert_it(tmp_path):
    from aelab.data.images import images_from_npy

    pixels = np.zeros((5, 8, 8, 3), np.uint8)
    np.save(tmp_path / "chw.npy", pixels.transpose(0, 3, 1, 2))
    with pytest.raises(AelabError, match=r"chw.npy: .*got shape \(5, 3, 8, 8\); .*np.transpose\(x, \(0, 2, 3, 1\)\)"):
        images_from_npy(tmp_path / "chw.npy")
    np.save(tmp_path / "rgba.npy", np.zeros((5, 8, 8, 4), np.uint8))
    with pytest.raises(AelabError, match=r"rgba.npy: .*4 channels \(RGBA\)\? drop the alpha channel"):
        images_from_npy(tmp_path / "rgba.npy")
    with pytest.raises(AelabError, match=r"X: images of shape \(6, 8, 8, 12\): .*X.reshape\(len\(X\), -1\)"):
        AutoencoderTransformer(epochs=1).fit(np.zeros((6, 8, 8, 12), np.float32))
    np.save(tmp_path / "bands.npy", np.zeros((5, 8, 8, 12), np.float32))  # multispectral
    with pytest.raises(AelabError, match=r"bands.npy: .*12 channels \(bands\)\? .*x.reshape\(len\(x\), -1\)"):
        images_from_npy(tmp_path / "bands.npy")


def test_estimator_follows_sklearn_conventions(tmp_path):
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from aelab.data.sequences import synthetic

    x, y, _ = synthetic(n=80, steps=12, features=2, seed=0)
    est = AutoencoderTransformer(model="conv1d", latent_dim=4, epochs=2)
    assert clone(est).get_params() == est.get_params()
    assert est.fit(x) is est
    z = est.transform(x)
    assert z.shape == (80, 4)
    assert est.inverse_transform(z).shape == x.shape
    assert est.score(x) < 0
    est.save(tmp_path / "est")
    again = AutoencoderTransformer.load(tmp_path / "est")
    np.testing.assert_allclose(again.transform(x), z, atol=1e-6)
    pipe = Pipeline(
        [
            ("ae", AutoencoderTransformer(model="conv1d", latent_dim=4, epochs=1)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__latent_dim": [2, 4]}, cv=2).fit(x, y % 2)
    assert search.best_params_["ae__latent_dim"] in (2, 4)


def test_estimator_names_what_is_wrong_with_its_input(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((40, 1, 8, 8), dtype=np.float32)
    est = AutoencoderTransformer(model="cnn", latent_dim=4, epochs=1).fit(images)
    est.save(tmp_path / "est")
    cases = [
        (lambda: est.transform(np.zeros((3, 1, 16, 16), np.float32)), "fitted on (1, 8, 8)"),
        (lambda: est.inverse_transform(np.zeros((3, 5))), "shape (N, 4)"),
        (lambda: est.score(np.full((3, 1, 8, 8), np.nan)), "Input X contains NaN"),  # scikit-learn's words
        (lambda: AutoencoderTransformer(model="cnn").fit(images.transpose(0, 2, 3, 1)), "channels-last"),
        (lambda: AutoencoderTransformer(model="cnn").fit(images * 255), "[0, 1]"),
        (lambda: AutoencoderTransformer(model="lstm").fit([["a", "b"]]), "could not convert string to float"),
        # finite as float64, infinite as the model's float32: it fitted on NaN with a warning
        (lambda: AutoencoderTransformer(epochs=1).fit(np.eye(6) * 1e300), "beyond float32's range (1e+300"),
        (lambda: load_run(tmp_path / "est").encode(images.astype(np.float64) * 1e300), "beyond float32's range"),
    ]
    for call, fragment in cases:
        with pytest.raises(ValueError, match=re.escape(fragment)) as info:  # AelabError is a ValueError
            call()
        assert "\n" not in str(info.value)


def test_an_estimator_saves_over_a_former_save_but_never_into_a_run_or_other_files(tmp_path, seq_run):
    x = np.random.default_rng(0).normal(size=(60, 5))
    est = AutoencoderTransformer(epochs=1).fit(x)
    est.save(tmp_path / "est")
    est.save(tmp_path / "est")  # a former save is replaced
    assert sorted(p.name for p in (tmp_path / "est").iterdir()) == ["config.json", "model.safetensors"]
    before = (seq_run / "model.safetensors").read_bytes()
    (tmp_path / "file").write_text("")
    refused = ((seq_run, r"holds other files \(checkpoints, environment\.json"), (tmp_path / "file", "not a directory"))
    for target, fragment in refused:
        with pytest.raises(AelabError, match=fragment):
            est.save(target)
    assert (seq_run / "model.safetensors").read_bytes() == before
    np.testing.assert_allclose(AutoencoderTransformer.load(tmp_path / "est").transform(x), est.transform(x))


@pytest.mark.parametrize("command", ["encode", "reconstruct", "score"])
def test_an_output_named_as_the_input_is_refused_and_the_input_kept(capsys, image_run, tmp_path, command):
    """`aelab encode RUN data.npy -o data.npy` replaced the user's data with its codes."""
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(1).integers(0, 256, (3, 8, 8, 1), dtype=np.uint8))
    before = data.read_bytes()
    code, _, err = run_cli(capsys, command, image_run, data, "-o", tmp_path / "." / "x.npy")
    assert_one_line_error(code, err, "x.npy: is the input file; name another file")
    assert data.read_bytes() == before
