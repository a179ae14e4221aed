import hashlib
import io
import pickle
import re
import shutil
import time
import urllib.error

import numpy as np
import pytest
from PIL import Image

from aelab.data import cifar10 as cifar
from aelab.data import load_dataset, sample, split_off
from aelab.data.normalization import Standardizer
from aelab.data.sequences import synthetic
from aelab.errors import AelabError, ConfigError

from helpers import write_image_folder, write_sequence_csv


def small(path, **kw):
    return load_dataset(
        "cifar10", cifar10=str(path), train_size=kw.pop("train_size", 50), test_size=kw.pop("test_size", 10), **kw
    )


def test_cifar_batches_dir(cifar_batches):
    d = small(cifar_batches)
    assert d.kind == "image"
    assert d.train.x.shape == (40, 3, 32, 32) and d.val.x.shape == (10, 3, 32, 32) and d.test.x.shape == (10, 3, 32, 32)
    assert d.train.x.dtype == np.float32 and 0 <= d.train.x.min() and d.train.x.max() <= 1
    assert d.class_names[0] == "airplane"


def test_cifar_pixels_are_decoded_channel_planar(cifar_batches):
    batch = pickle.loads((cifar_batches / "test_batch").read_bytes())
    d = small(cifar_batches, test_size="all")
    raw = batch[b"data"].reshape(-1, 3, 32, 32) / 255.0
    # every test image of the split is one of the batch's images, with red/green/blue planes intact
    for img in d.test.x[:3]:
        assert np.isclose(raw, img[None], atol=1e-6).all(axis=(1, 2, 3)).any()


def test_cifar_tarball_and_parent_dir(cifar_tarball, cifar_batches):
    a = small(cifar_tarball)
    b = small(cifar_batches.parent)  # parent of cifar-10-batches-py/ is detected
    np.testing.assert_array_equal(a.train.x, b.train.x)


def test_cifar_image_folder_and_one_level_off(tmp_path):
    root = write_image_folder(tmp_path / "c10", per_class=10, test_per_class=4, size=8)
    d = load_dataset("cifar10", cifar10=str(root), train_size="all", test_size="all")
    assert d.train.x.shape == (24, 3, 8, 8) and d.test.x.shape == (12, 3, 8, 8)
    with pytest.raises(AelabError, match="pass its parent"):
        load_dataset("cifar10", cifar10=str(root / "train"))


def test_cifar_lookup_prefers_env_then_cache(cifar_batches, monkeypatch, tmp_path):
    monkeypatch.setenv("AELAB_CIFAR10", str(cifar_batches))
    assert cifar.locate_cifar10() == cifar_batches
    monkeypatch.delenv("AELAB_CIFAR10")
    cache = tmp_path / "cache"
    monkeypatch.setenv("AELAB_CACHE", str(cache))
    (cache / "cifar-10-batches-py").mkdir(parents=True)
    (cache / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"x")
    assert cifar.locate_cifar10() == cache / "cifar-10-batches-py"


def test_download_checks_md5_and_replaces_corrupt_cache(cifar_tarball, monkeypatch, tmp_path):
    payload = cifar_tarball.read_bytes()
    monkeypatch.setattr(cifar, "MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(cifar.download, "__defaults__", (cifar.URL, cifar.MD5))
    cache = tmp_path / "dl-cache"
    monkeypatch.setenv("AELAB_CACHE", str(cache))
    cache.mkdir()
    (cache / cifar.TARBALL).write_bytes(b"corrupt")
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(cifar.urllib.request, "urlopen", fake_urlopen)
    path = cifar.locate_cifar10()
    assert calls == [cifar.URL]
    assert path.read_bytes() == payload
    assert not list(cache.glob(".*tmp"))  # written atomically
    assert cifar.locate_cifar10() == path and len(calls) == 1  # a good cached copy is not fetched again


def test_download_fails_fast_without_network(monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(cifar.urllib.request, "urlopen", offline)
    with pytest.raises(AelabError, match="AELAB_CIFAR10"):
        cifar.locate_cifar10()
    assert not list(cifar.cache_dir().glob("*.tar.gz"))


def test_bad_md5_download_leaves_nothing(monkeypatch):
    monkeypatch.setattr(cifar.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"not the tarball"))
    with pytest.raises(AelabError, match="MD5"):
        cifar.locate_cifar10()
    assert not any(cifar.cache_dir().iterdir())


def test_pickled_code_in_a_batch_is_refused(cifar_batches):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (cifar_batches / "data_batch_1").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(AelabError, match="data_batch_1"):
        small(cifar_batches)


def test_not_a_cifar_copy(tmp_path):
    with pytest.raises(AelabError, match="not a CIFAR-10 copy"):
        load_dataset("cifar10", cifar10=str(tmp_path))


def test_digits():
    d = load_dataset("digits")
    assert d.train.x.shape[1:] == (1, 8, 8)
    assert len(d.train.x) + len(d.val.x) + len(d.test.x) == 1797
    assert d.class_names == [str(i) for i in range(10)]


def test_synthetic_matches_the_contract():
    x, y, names = synthetic()
    assert x.shape == (5000, 50, 10) and len(names) == 10
    assert np.bincount(y).tolist() == [500] * 10  # decile labels are balanced
    d = load_dataset("synthetic")
    assert (len(d.train.x), len(d.val.x), len(d.test.x)) == (3200, 800, 1000)  # 64/16/20
    np.testing.assert_allclose(d.train.x.mean(axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(d.train.x.std(axis=(0, 1)), 1, atol=1e-4)
    assert abs(d.test.x.mean()) < 0.05  # test is scaled with train statistics, not its own


def test_image_folder_path_and_npy(image_folder, tmp_path):
    d = load_dataset(str(image_folder))
    assert d.class_names == ["a", "b", "c"] and d.test.x.shape == (9, 3, 8, 8)
    images = (np.random.default_rng(0).random((30, 8, 8, 1))).astype(np.float32)
    np.save(tmp_path / "imgs.npy", images)
    np.save(tmp_path / "labels.npy", np.arange(30) % 3)
    d = load_dataset(str(tmp_path / "imgs.npy"), labels=str(tmp_path / "labels.npy"))
    assert d.kind == "image" and d.train.x.shape[1:] == (1, 8, 8) and d.has_labels


def test_image_folder_without_test_gets_seeded_split(tmp_path):
    root = write_image_folder(tmp_path / "only", per_class=10, test_per_class=0)
    for c in ("a", "b", "c"):
        (root / "test" / c).rmdir()
    (root / "test").rmdir()
    d1, d2 = load_dataset(str(root)), load_dataset(str(root))
    assert len(d1.test.x) == 6
    np.testing.assert_array_equal(d1.test.x, d2.test.x)


def test_a_folder_of_class_folders_or_of_images_alone_trains_and_another_folder_is_the_test_set(tmp_path):
    root = write_image_folder(tmp_path / "photos", per_class=10, test_per_class=4)
    shutil.copytree(root / "train", tmp_path / "classes")
    (tmp_path / "classes" / "a" / "notes.txt").write_text("not an image: skipped")
    classes = load_dataset(str(tmp_path / "classes"))  # <class>/ folders without train/ above them
    assert classes.class_names == ["a", "b", "c"] and classes.has_labels and len(classes.test.x) == 6
    assert len(classes.train.x) + len(classes.val.x) + len(classes.test.x) == 30
    flat = tmp_path / "flat"
    flat.mkdir()
    for c in ("a", "b"):
        for f in (root / "train" / c).iterdir():
            (flat / f"{c}{f.name}").write_bytes(f.read_bytes())
    (flat / "labels.csv").write_text("file,label\n")  # a file beside the images is not a sub-folder nor an image
    unlabelled = load_dataset(str(flat))
    assert unlabelled.class_names is None and unlabelled.train.y is None and unlabelled.train.x.shape[1:] == (3, 8, 8)
    held = load_dataset(str(tmp_path / "classes"), test_data=str(root / "test"))  # all 12, labelled alike
    assert len(held.test.x) == 12 and held.has_labels and len(held.train.x) + len(held.val.x) == 30
    unlabelled_test = load_dataset(str(flat), test_data=str(root / "test"))
    assert len(unlabelled_test.test.x) == 12 and not unlabelled_test.has_labels
    (flat / "c").mkdir()
    with pytest.raises(AelabError, match="both files and sub-folders"):
        load_dataset(str(flat))
    (flat / "c").rmdir()
    in_place = load_dataset(str(root), test_data=str(flat))  # in place of the folder's own test/
    assert len(in_place.test.x) == 20 and in_place.class_names == ["a", "b", "c"] and not in_place.has_labels
    larger = write_image_folder(tmp_path / "larger", per_class=2, test_per_class=0, size=12) / "train"
    with pytest.raises(AelabError, match=f"--test-data {larger}: train and test images differ in size: 8x8 for "):
        load_dataset(str(flat), test_data=str(larger))
    scaled = load_dataset(str(flat), test_data=str(larger), image_size="8x8")  # as the error says
    assert scaled.test.x.shape[1:] == scaled.train.x.shape[1:] == (3, 8, 8)
    with pytest.raises(AelabError, match="not an image folder or an .npy of images"):
        load_dataset(str(root), test_data=str(tmp_path / "classes" / "a" / "0.png"))


def test_a_test_folder_with_classes_the_training_data_lacks_is_a_test_set_without_probes(tmp_path):
    """Train on good parts, test on good and defective ones: before, "class 'defect' is not among the training
    classes" stopped the run; arrays of such labels already got this note."""
    root = write_image_folder(tmp_path / "parts", per_class=8, test_per_class=3, classes=("good", "worn"))
    other = write_image_folder(tmp_path / "other", per_class=3, test_per_class=0, classes=("good", "defect")) / "train"
    for test_data in (None, other):
        if test_data is None:  # the folder's own test/ holds the new class
            shutil.copytree(other / "defect", root / "test" / "defect")
        data = load_dataset(str(root), **({} if test_data is None else {"test_data": str(test_data)}))
        assert data.class_names == ["good", "worn"] and data.train.y is not None and not data.has_labels
        assert data.probe_note().startswith("no probes: ") and "has classes the training data does not: defect" in (
            data.probe_note()
        )
    assert len(load_dataset(str(root)).test.x) == 3 * 2 + 3  # every test image, the new class's too


def test_sequence_npy_and_csv(sequences_npy, tmp_path):
    d = load_dataset(str(sequences_npy))
    assert d.kind == "sequence" and d.train.x.shape[1:] == (12, 3) and not d.has_labels
    csv_path = write_sequence_csv(tmp_path / "s.csv")
    d = load_dataset(str(csv_path))
    assert d.train.x.shape[1:] == (8, 2) and d.class_names == ["0", "1"] and d.feature_names == ["f0", "f1"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda lines: lines + [lines[1]], "duplicate row"),
        (lambda lines: [lines[0], lines[1].replace("s0,0,", "s0,0,abc")] + lines[2:], "non-numeric"),
        (
            lambda lines: [
                lines[0],
                *[ln for ln in lines[1:] if not ln.startswith("s0,3,")],
                lines[4].replace("s0,3,", "s0,9,"),
            ],
            "gap",
        ),
        (lambda lines: [lines[0], lines[1].replace("s0,0,", "s0,0,nan,")[: len(lines[1]) + 4]] + lines[2:], "NaN"),
        (lambda lines: [lines[0], lines[1].replace("s0,0,", "s0,first,")] + lines[2:], "t 'first' is neither a number"),
    ],
)
def test_bad_csv(tmp_path, mutate, message):
    path = write_sequence_csv(tmp_path / "bad.csv", label=False)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(mutate(lines)) + "\n")
    with pytest.raises(AelabError, match=message) as info:
        load_dataset(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_csv_of_sequences_may_give_t_as_times_and_steps_stay_even_across_a_clock_change(tmp_path, monkeypatch):
    """ISO times order each sequence's steps as numbers do; dates without a zone read as UTC, so the night the clocks
    go back (2024-10-27 in Berlin, where local time would make 02:00 -> 03:00 two hours) is still one hour per step."""
    from aelab.data.sequences import sequences_from_csv

    lines = ["sequence_id,t,v"]
    for s in range(20):
        lines += [f"s{s},2024-10-27T{h:02d}:00:00,{np.sin(h + s):.4f}" for h in reversed(range(6))]  # any row order
    data = tmp_path / "times.csv"
    data.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        read = sequences_from_csv(data)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert read.x.shape == (20, 6, 1) and read.steps[0][:2] == ["2024-10-27T00:00:00", "2024-10-27T01:00:00"]
    np.testing.assert_allclose(read.x[3, :, 0], np.round(np.sin(np.arange(6) + 3), 4), atol=1e-6)
    data.write_text(data.read_text().replace("s0,2024-10-27T03:00:00", "s0,2024-10-27T03:30:00"))
    with pytest.raises(AelabError, match="sequence s0 has a gap in t"):
        sequences_from_csv(data)


def test_a_feature_constant_on_the_training_split_is_only_centred(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 10, 3)).astype(np.float32)
    x[:, :, 1] = 3.0
    np.save(tmp_path / "flat.npy", x)
    d = load_dataset(str(tmp_path / "flat.npy"))
    assert d.normalization.std[1] == 1.0 and d.normalization.mean[1] == 3.0
    assert (d.train.x[:, :, 1] == 0).all() and abs(d.train.x[:, :, 0].std() - 1) < 0.05
    assert d.notes == ("flat.npy: constant on the training split, so only centred: feature 1 (a later change there "
                       "counts in its own units)",)  # fmt: skip
    names = [f"c{i}" for i in range(9)]
    many = Standardizer.fit(np.c_[np.ones((5, 7)), np.arange(10).reshape(5, 2)], "t.csv").constant_note(names, "t")
    assert "'c0', 'c1', 'c2', 'c3', 'c4' and 2 more" in many


def test_data_constant_in_every_feature_is_one_clear_error(tmp_path):
    """A column of ones, a stuck sensor: all zeros once centred. Before, a table of them trained, wrote NaN and
    Infinity into metrics.json, and t-SNE of its identical codes crashed the process (segmentation fault)."""
    np.save(tmp_path / "ones.npy", np.ones((100, 4)))
    (tmp_path / "stuck.csv").write_text("value\n" + "2.5\n" * 400)
    black = write_image_folder(tmp_path / "black", size=8)
    for path in black.rglob("*.png"):
        Image.new("RGB", (8, 8)).save(path)
    cases = ((tmp_path / "ones.npy", {}), (tmp_path / "stuck.csv", {"window": 20}), (black, {"stream": False}))
    for data, options in cases:
        with pytest.raises(
            AelabError, match="every (feature is constant on the training split|training image is)"
        ) as info:
            load_dataset(str(data), **options)
        assert str(data) in str(info.value) and "\n" not in str(info.value)


def test_a_value_beyond_float32s_range_is_one_error_naming_the_file(tmp_path):
    """1e300 is a finite float64 but infinite as the float32 that features are stored in: a table or a stream
    of it trained on NaN silently (loss 0, "matches PCA"), sequences of it stopped in an internal error."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(100, 3))
    table[5, 1] = 1e300
    np.save(tmp_path / "table.npy", table)
    rows = "\n".join(f"{1e300 if i == 5 else i % 7},{i % 3}" for i in range(400))
    (tmp_path / "table.csv").write_text("a,b\n" + rows + "\n")
    (tmp_path / "sequences.csv").write_text(
        "sequence_id,t,x\n" + "\n".join(f"{i // 10},{i % 10},{-1e300 if i == 55 else i % 10}" for i in range(600))
    )
    cases = ((tmp_path / "table.npy", {}), (tmp_path / "table.csv", {}), (tmp_path / "table.csv", {"window": 20}))
    for data, options in (*cases, (tmp_path / "sequences.csv", {})):
        with pytest.raises(AelabError, match=r"beyond float32's range \(-?1e\+300; at most") as info:
            load_dataset(str(data), **options)
        assert str(data) in str(info.value) and "\n" not in str(info.value)


def test_sequences_of_one_step_are_one_error_naming_the_file(tmp_path):
    """An (N, 1, F) file stopped in the model's config, "sequences need at least 2 steps", without the file."""
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(50, 1, 3)).astype(np.float32))
    with pytest.raises(AelabError, match=r"rows\.npy: sequences of 1 step; .*save it as \(N, F\)"):
        load_dataset(str(tmp_path / "rows.npy"))
    with pytest.raises(ConfigError, match="length: must be a whole number of at least 2"):
        load_dataset(str(tmp_path / "rows.npy"), length=1)


def test_images_too_small_or_too_large_for_the_models_are_one_error_naming_the_data(tmp_path):
    """Photos of 4000x3000 trained at full size until the process was killed without a word (a PCA path of 2.3
    billion parameters); images above 512x512 are scaled with --image-size instead."""
    folder = write_image_folder(tmp_path / "icons", size=2)
    np.save(tmp_path / "icons.npy", np.random.default_rng(0).random((30, 3, 3, 3)).astype(np.float32))
    photos = write_image_folder(tmp_path / "photos", per_class=2, test_per_class=1, size=520)
    np.save(tmp_path / "photos.npy", np.zeros((6, 600, 440, 3), np.uint8))
    cases = ((folder, True, "too small"), (tmp_path / "icons.npy", False, "too small"))
    cases += ((photos, True, "too large"), (tmp_path / "photos.npy", False, "too large"))
    for data, files, fragment in cases:
        with pytest.raises(AelabError, match=fragment) as info:
            load_dataset(str(data))
        assert str(info.value).startswith(f"{data}: images of ") and ("--image-size" in str(info.value)) == files
    assert load_dataset(str(photos), image_size="64x64").train.x.shape[-2:] == (64, 64)
    with pytest.raises(AelabError, match="--image-size 1024x1024: images of 1024x1024 are too large"):
        load_dataset(str(photos), image_size="1024x1024")


@pytest.mark.parametrize(
    "name, content, options, fragment",
    [
        ("log.csv", "# exported by logger v2\na,b,c\n1,2,3\n4,5,6\n", {}, "the first line is a comment (#): remove it"),
        ("log.csv", "# exported by logger v2\ntimestamp,v\n1,2\n2,5\n", {"window": 2}, "the first line is a comment"),
        ("sheet.xlsx", "PK", {}, "a spreadsheet: save the sheet as CSV"),
        ("data.csv.gz", "x", {}, "compressed: unpack it first"),
        ("data.json", "{}", {}, "save it as CSV or parquet"),
        ("Leaf_TRAIN.arff", "@relation Leaf\n@data\n", {}, "ship each set as .ts (and UCR's as .tsv) beside .arff"),
    ],
)
def test_files_users_have_in_other_shapes_say_how_to_bring_them(tmp_path, name, content, options, fragment):
    (tmp_path / name).write_text(content)
    with pytest.raises(AelabError, match=re.escape(fragment)) as info:
        load_dataset(str(tmp_path / name), **options)
    assert str(info.value).startswith(str(tmp_path / name))


def test_a_class_folder_with_images_in_sub_folders_is_read_whole(tmp_path):
    """<class>/<session>/<image> (as ImageFolder reads it) stopped at "the class folders hold no image files"."""
    flat = load_dataset(str(write_image_folder(tmp_path / "flat", per_class=8)), stream=False)
    nested = write_image_folder(tmp_path / "nested", per_class=8)
    for image in sorted((nested / "train").rglob("*.png")):
        session = image.parent / ("day1" if int(image.stem) < 4 else "day2")
        session.mkdir(exist_ok=True)
        image.rename(session / image.name)
    (nested / "train" / "a" / ".thumbs").mkdir()
    Image.new("RGB", (8, 8)).save(nested / "train" / "a" / ".thumbs" / "0.png")  # hidden: not an image of the set
    d = load_dataset(str(nested), stream=False)
    assert d.class_names == flat.class_names == ["a", "b", "c"]
    assert len(d.train.x) + len(d.val.x) == len(flat.train.x) + len(flat.val.x) == 24
    assert sorted(np.bincount(np.concatenate([d.train.y, d.val.y]))) == [8, 8, 8]


def test_pickled_npy_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AelabError, match="pickled"):
        load_dataset(str(tmp_path / "obj.npy"))


def test_split_sizes_stratification_and_determinism(cifar_batches):
    d1 = small(cifar_batches, train_size=60, test_size=20)
    d2 = small(cifar_batches, train_size=60, test_size=20)
    assert (len(d1.train.x), len(d1.val.x), len(d1.test.x)) == (48, 12, 20)
    np.testing.assert_array_equal(d1.train.x, d2.train.x)
    assert np.bincount(d1.test.y).tolist() == [2] * 10  # stratified
    assert np.bincount(d1.val.y, minlength=10).min() >= 1
    d3 = small(cifar_batches, train_size=60, test_size=20, seed=7)
    assert not np.array_equal(d1.train.x, d3.train.x)


def test_splits_do_not_overlap():
    idx = np.arange(1000)
    labels = idx % 10
    pool = sample(idx, labels, 500, 42, "--train-size")
    rest, held = split_off(pool, labels, 0.2, 42, "val")
    assert len(set(rest) & set(held)) == 0 and len(rest) + len(held) == 500 and len(set(pool)) == 500
    assert np.bincount(labels[held]).tolist() == [10] * 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(train_size=10_000), "--train-size: asked for 10000"),
        (dict(train_size=5), "cannot cover the 10 classes"),
        (dict(train_size="lots"), "train_size: expected a positive integer"),  # the library's terms; the CLI's below
        (dict(val_fraction=1.5), "val_fraction: must lie strictly between 0 and 1"),
    ],
)
def test_size_validation(cifar_batches, kwargs, message):
    with pytest.raises(AelabError, match=message):
        small(cifar_batches, **kwargs)


def test_unknown_data_value():
    with pytest.raises(AelabError, match="neither cifar10, digits, synthetic"):
        load_dataset("imagenet")


def test_streamed_split_reads_the_same_images_as_the_in_memory_one(tmp_path):
    root = write_image_folder(tmp_path / "images", per_class=8, size=8)
    memory = load_dataset(str(root), stream=False)
    stream = load_dataset(str(root), stream=True)
    for name in ("train", "val", "test"):
        lazy, eager = getattr(stream, name).x, getattr(memory, name).x
        assert not isinstance(lazy, np.ndarray) and lazy.shape == eager.shape and len(lazy) == len(eager)
        np.testing.assert_array_equal(lazy[:], eager)
        picked = np.array([3, 0, 2])  # unsorted rows come back in the order asked for
        np.testing.assert_array_equal(lazy[picked], eager[picked])
        np.testing.assert_array_equal(lazy[1], eager[1])


def test_image_npy_is_memory_mapped_until_a_split_takes_rows(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.random.default_rng(0).random((40, 4, 4, 3)).astype(np.float32))
    stream = load_dataset(str(path), stream=True)
    assert isinstance(stream.train.x.pool.images, np.memmap)
    np.testing.assert_allclose(stream.test.x[:], load_dataset(str(path), stream=False).test.x)


def test_data_too_big_for_memory_is_streamed_by_default(tmp_path, monkeypatch):
    from aelab.data import lazy

    root = write_image_folder(tmp_path / "images", per_class=4, size=8)
    assert isinstance(load_dataset(str(root)).train.x, np.ndarray)
    monkeypatch.setattr(lazy, "physical_memory", lambda: 1024)  # a machine with 1 KiB of memory
    assert isinstance(load_dataset(str(root)).train.x, lazy.LazyImages)


def test_a_folder_mixing_grayscale_and_colour_is_read_in_colour(tmp_path):
    root = write_image_folder(tmp_path / "images", per_class=8, size=8, mode="L")
    colour = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(colour, "RGB").save(root / "train" / "b" / "5.png")  # one colour image among grayscale ones
    data = load_dataset(str(root), stream=False)
    assert {s.x.shape[1] for s in (data.train, data.val, data.test)} == {3}
    gray = [x for x in (*data.train.x, *data.val.x, *data.test.x) if not np.array_equal(x[0], x[1])]
    assert len(gray) == 1  # only the colour image has unequal channels
    with pytest.raises(AelabError, match="colour images among grayscale ones.*--in-memory"):
        streamed = load_dataset(str(root), stream=True)
        for s in (streamed.train, streamed.val):
            s.x[:]


def test_16_bit_and_float_images_are_scaled_to_8_bits_not_clipped(tmp_path):
    """Pillow's convert("L") clips: a 16-bit microscopy PNG read as all but white, a float TIFF in [0, 1] as black."""
    from aelab.data.images import read_image

    wide = np.array([[0, 257, 32896], [65535, 1000, 60000]], dtype=np.uint16)
    Image.fromarray(wide).save(tmp_path / "wide.png")
    np.testing.assert_array_equal(read_image(tmp_path / "wide.png")[..., 0], np.rint(wide / 257).astype(np.uint8))
    unit = np.array([[0.0, 0.25], [0.5, 1.0]], dtype=np.float32)
    Image.fromarray(unit).save(tmp_path / "unit.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "unit.tif")[..., 0], [[0, 64], [128, 255]])
    Image.fromarray(unit * 4).save(tmp_path / "beyond.tif")
    with pytest.raises(AelabError, match=r"beyond.tif: float image values must lie in \[0, 1\], found \[0, 4\]"):
        read_image(tmp_path / "beyond.tif")


def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path):
    from aelab.data.images import read_image

    stored = np.zeros((4, 6, 3), np.uint8)
    stored[0, :, 0] = 255  # a red top row, 4 high and 6 wide as stored
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6  # EXIF orientation: turn 90 degrees clockwise to display
    img.save(tmp_path / "portrait.png", exif=exif)
    upright = read_image(tmp_path / "portrait.png")
    assert upright.shape == (6, 4, 3)
    np.testing.assert_array_equal(upright[:, -1, 0], 255)  # the top row is now the right-hand column
    img.save(tmp_path / "plain.png")  # no tag: the pixels as stored
    np.testing.assert_array_equal(read_image(tmp_path / "plain.png"), stored)


def write_ucr_tsv(path, x, y):
    """The UCR archive's layout: label, then the values, tab-separated; NaN padding written as the archive does."""
    lines = [f"{label}\t" + "\t".join(f"{v:.6g}" for v in row) + "\n" for label, row in zip(y, x, strict=True)]
    path.write_text("".join(lines))
    return path


def test_a_ucr_archive_tsv_reads_as_the_same_sequences_and_labels_as_npy_files(tmp_path):
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(30, 24)), 4).astype(np.float32)
    x[3, 20:] = np.nan  # a shorter sequence, padded as the archive pads them
    y = np.array([1, 2, 3] * 10)
    tsv = write_ucr_tsv(tmp_path / "Set_TRAIN.tsv", x, y)
    with tsv.open("a") as f:
        f.write("2\t" + "\t".join(["0.5"] * 10) + "\n")  # a line that stops early
    np.save(tmp_path / "x.npy", np.concatenate([x, np.r_[[0.5] * 10, [np.nan] * 14][None]])[..., None])
    np.save(tmp_path / "y.npy", np.r_[y, 2])
    from_tsv, from_npy = load_dataset(str(tsv)), load_dataset(str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"))
    assert from_tsv.kind == "sequence" and from_tsv.sample_shape == (24, 1)
    for a, b in ((from_tsv.train, from_npy.train), (from_tsv.test, from_npy.test)):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
    assert from_tsv.class_names == ["1", "2", "3"]


@pytest.mark.parametrize(
    "data, options, fragment",
    [
        ("seq.npy", dict(image_size="8x8"), "image_size: applies to image folders"),
        ("table.csv", dict(image_size="8x8"), "image_size: applies to image folders"),
        ("digits", dict(image_size="8x8"), "image_size: applies to image folders"),
        ("digits", dict(labels="y.npy"), "labels: digits brings its own labels"),
        ("synthetic", dict(labels="y.npy"), "labels: synthetic brings its own labels"),
        ("table.csv", dict(length=3), "length: applies to sequence files (.csv, .npy); table.csv is a table"),
        ("stream.npy", dict(window=5, length=3), "length: applies to sequence files; a stream's windows"),
        ("series.npy", {}, "got shape (200,); one series? read it as a stream of windows with --window W"),
    ],
)
def test_an_ignored_option_or_a_series_as_a_table_is_refused(tmp_path, monkeypatch, data, options, fragment):
    """Each option was silently ignored, and recorded in the run as if used."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save("seq.npy", rng.normal(size=(20, 6, 1)).astype(np.float32))
    np.save("stream.npy", rng.normal(size=(200, 2)).astype(np.float32))
    np.save("series.npy", rng.normal(size=200).astype(np.float32))  # and a shape it reads otherwise
    np.save("y.npy", np.arange(20) % 2)
    (tmp_path / "table.csv").write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(20)))
    with pytest.raises(AelabError, match=re.escape(fragment)):
        load_dataset(data, **options)


@pytest.mark.parametrize(
    "first_line, fragment",
    [
        ("label\tv1\tv2", "Set.tsv:1: value 'v1' is not a number.*with a header line\\? name the file .csv"),
        ("1\t0.5\tx", "Set.tsv:1: value 'x' is not a number.*no header line\\)$"),  # one bad cell: no header
        ("1,0.5,0.7", "Set.tsv:1: no tab"),
    ],
)
def test_a_tsv_not_in_the_ucr_layout_is_one_line_naming_the_line(tmp_path, first_line, fragment):
    path = tmp_path / "Set.tsv"
    path.write_text(first_line + "\n1\t0.5\t0.7\n")
    with pytest.raises(AelabError, match=fragment) as info:
        load_dataset(str(path))
    assert "UCR archive's layout" in str(info.value) and "\n" not in str(info.value)


def test_a_uea_ts_file_reads_its_dimensions_lengths_and_class_labels(tmp_path):
    cases = [
        ("0.1,0.2,0.3,0.4:1,2,3,4", "walk"),
        ("0.5,0.6:5,6", "run"),  # a shorter case: padded with NaN at its end
        ("0.7,0.8,0.9,?:7,8,9,?", "walk"),  # the archive's missing value at the end: padding too
    ]
    header = "# a comment\n@problemName Toy\n@timeStamps false\n@univariate false\n@classLabel true walk run\n@data\n"
    (tmp_path / "toy.ts").write_text(header + "".join(f"{values}:{label}\n" for values, label in cases * 4))
    from aelab.data.sequences import sequences_from_ts

    x, labels = sequences_from_ts(tmp_path / "toy.ts")
    assert x.shape == (12, 4, 2) and list(labels[:3]) == ["walk", "run", "walk"]
    np.testing.assert_array_equal(x[0, :, 1], [1, 2, 3, 4])
    assert np.isnan(x[1, 2:]).all() and np.isnan(x[2, 3]).all() and not np.isnan(x[2, :3]).any()
    data = load_dataset(str(tmp_path / "toy.ts"))
    assert data.kind == "sequence" and data.sample_shape == (4, 2) and data.class_names == ["run", "walk"]
    regression = header.replace("@classLabel true walk run", "@targetLabel true")
    (tmp_path / "reg.ts").write_text(regression + "".join(f"{values}:{i}.5\n" for i, (values, _) in enumerate(cases)))
    x, labels = sequences_from_ts(tmp_path / "reg.ts")
    assert x.shape == (3, 4, 2) and labels is None  # a regression target is neither a class nor a dimension
    (tmp_path / "bad.ts").write_text("0.1,0.2:walk\n")
    with pytest.raises(AelabError, match=r"bad.ts:1: expected '@' header lines"):
        load_dataset(str(tmp_path / "bad.ts"))
    # a case whose dimensions differ in length read as a gap "at step 2" of another dimension
    (tmp_path / "uneven.ts").write_text(header + "0.1,0.2,0.3:1,2:walk\n")
    with pytest.raises(AelabError, match=r"uneven.ts:7: dimensions of 2 and 3 values; every dimension of a case"):
        load_dataset(str(tmp_path / "uneven.ts"))


def test_constant_is_relative_to_a_features_size(tmp_path):
    """A signal in small units (picoamperes, about 1e-12) is data, not a constant column; a large constant with
    float32 rounding noise in it is constant."""
    rng = np.random.default_rng(0)
    tiny = (rng.normal(size=(300, 3)) * 1e-12).astype(np.float32)
    tiny[:, 2] = np.float32(1000.0) + np.float32(1000.0) * np.finfo(np.float32).eps * rng.integers(-2, 3, 300)
    np.save(tmp_path / "tiny.npy", tiny)
    d = load_dataset(str(tmp_path / "tiny.npy"))
    assert abs(d.train.x[:, 0].std() - 1) < 0.1 and abs(d.train.x[:, 1].std() - 1) < 0.1
    assert d.normalization.std[2] == 1.0


def test_a_folder_of_data_files_that_are_not_images_says_how_to_bring_them(tmp_path):
    """One recording per CSV is a common layout; the folder read as images said only "no image files to read"."""
    (tmp_path / "recordings").mkdir()
    for i in range(3):
        (tmp_path / "recordings" / f"r{i}.csv").write_text("t,x\n0,1\n1,2\n")
    with pytest.raises(AelabError, match=r"recordings: no image files to read \(it holds \.csv files: .*sequence_id"):
        load_dataset(str(tmp_path / "recordings"))


def test_labels_given_beside_a_files_own_are_used_and_say_so(tmp_path):
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{b:.3f},{'ab'[i % 2]}" for i, (a, b) in enumerate(rng.normal(size=(60, 2))))
    (tmp_path / "t.csv").write_text("x,y,label\n" + rows + "\n")
    np.save(tmp_path / "other.npy", np.arange(60) % 3)
    data = load_dataset(str(tmp_path / "t.csv"), labels=str(tmp_path / "other.npy"))
    assert data.class_names == ["0", "1", "2"]
    assert any("its own class labels are not used" in note and "other.npy" in note for note in data.notes)
