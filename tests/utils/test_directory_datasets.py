"""image_dataset_from_directory / text_dataset_from_directory: files, labels,
splits and resizing (checked against jax.image.resize without antialiasing, the
same half-pixel rule as tf.image.resize), and training on the result."""

from __future__ import annotations

import os

import numpy as np
import pytest

import callax
from callax.utils import image_dataset_from_directory, save_img, text_dataset_from_directory

pytest.importorskip("PIL")


@pytest.fixture
def image_dir(tmp_path):
    rng = np.random.default_rng(0)
    images = {}
    for cls, count in (("cats", 5), ("dogs", 3), ("owls", 2)):
        os.makedirs(tmp_path / cls / "nested")
        for i in range(count):
            x = rng.integers(0, 256, (6, 8, 3)).astype("float32")
            sub = "nested" if i == 0 else ""
            path = tmp_path / cls / sub / f"{i}.png"
            save_img(path, x, scale=False)
            images[str(path)] = (x, cls)
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path, images


def test_classes_labels_and_shapes(image_dir, capsys):
    root, images = image_dir
    ds = image_dataset_from_directory(root, image_size=(6, 8), batch_size=4, shuffle=False)
    assert "Found 10 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["cats", "dogs", "owls"]
    assert len(ds) == 3 and len(ds.file_paths) == 10
    x, y = ds[0]
    assert x.shape == (4, 6, 8, 3) and x.dtype == np.float32 and y.dtype == np.int32
    batches = list(ds)
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    for path, image, label in zip(ds.file_paths, xs, ys):
        np.testing.assert_array_equal(image, images[path][0])  # same size: unchanged
        assert ds.class_names[label] == images[path][1]


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_resizing_matches_the_half_pixel_rule(image_dir, interpolation):
    import jax

    root, images = image_dir
    ds = image_dataset_from_directory(root, image_size=(4, 11), batch_size=None, shuffle=False,
                                      interpolation=interpolation, verbose=False)  # fmt: skip
    x, _ = ds[0]
    source = images[ds.file_paths[0]][0]
    method = {"bilinear": "linear", "nearest": "nearest", "bicubic": "cubic"}[interpolation]
    expected = jax.image.resize(source, (4, 11, 3), method, antialias=False)
    np.testing.assert_allclose(x, np.asarray(expected), rtol=1e-5, atol=1e-3)


def test_label_modes_color_modes_and_formats(image_dir):
    root, _ = image_dir
    common = dict(image_size=(3, 3), shuffle=False, verbose=False)
    _, y = image_dataset_from_directory(root, label_mode="categorical", **common)[0]
    assert y.shape == (10, 3) and y.dtype == np.float32 and (y.sum(axis=1) == 1).all()
    x = image_dataset_from_directory(root, labels=None, color_mode="grayscale", **common)[0]
    assert isinstance(x, np.ndarray) and x.shape == (10, 3, 3, 1)
    x, _ = image_dataset_from_directory(root, color_mode="rgba", data_format="channels_first",
                                        **common)[0]  # fmt: skip
    assert x.shape == (10, 4, 3, 3)
    ds = image_dataset_from_directory(root, class_names=["owls", "dogs"], **common)
    assert ds.class_names == ["owls", "dogs"] and len(ds.file_paths) == 5
    _, y = image_dataset_from_directory(root, class_names=["cats", "owls"], label_mode="binary",
                                        **common)[0]  # fmt: skip
    assert y.shape == (7, 1) and y.sum() == 2
    for option in ("crop_to_aspect_ratio", "pad_to_aspect_ratio"):
        x, _ = image_dataset_from_directory(root, **{**common, "image_size": (2, 5)},
                                            **{option: True})[0]  # fmt: skip
        assert x.shape == (10, 2, 5, 3)


def test_validation_subsets_partition_the_files(image_dir):
    root, _ = image_dir
    train, val = image_dataset_from_directory(root, validation_split=0.3, subset="both", seed=7,
                                              image_size=(3, 3), verbose=False)  # fmt: skip
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    again = image_dataset_from_directory(root, validation_split=0.3, subset="validation", seed=7,
                                         image_size=(3, 3), verbose=False)  # fmt: skip
    assert again.file_paths == val.file_paths
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(root, validation_split=0.3, subset="training")
    with pytest.raises(ValueError, match="exactly 2 classes"):
        image_dataset_from_directory(root, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(root, label_mode="sparse")
    with pytest.raises(ValueError, match="does not exist"):
        image_dataset_from_directory(root / "nothing")


def test_shuffle_reorders_each_epoch_and_fit_trains(image_dir):
    root, _ = image_dir
    ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=1,
                                      verbose=False)  # fmt: skip
    first = np.concatenate([b[1] for b in ds])
    ds.on_epoch_end()
    second = np.concatenate([b[1] for b in ds])
    assert sorted(first) == sorted(second)
    model = callax.Sequential([
        callax.layers.Input((4, 4, 3)), callax.layers.Rescaling(1 / 255),
        callax.layers.Flatten(), callax.layers.Dense(3),
    ])  # fmt: skip
    model.compile("adam", callax.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds.prefetch(2).cache(), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(ds.map(lambda x, y: x), verbose=0).shape == (10, 3)
    assert len(list(ds.take(1))) == 1


def test_text_dataset(tmp_path):
    texts = {"neg": ["awful film", "boring"], "pos": ["great ✓ movie", "loved it", "fine"]}
    for cls, items in texts.items():
        os.makedirs(tmp_path / cls)
        for i, t in enumerate(items):
            (tmp_path / cls / f"{i}.txt").write_text(t, encoding="utf-8")
    (tmp_path / "pos" / "skip.md").write_text("ignored")
    ds = text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False, verbose=False)
    got = [(t, int(y)) for xb, yb in ds for t, y in zip(xb, yb)]
    expected = [(t, 0) for t in sorted(texts["neg"], key=lambda s: texts["neg"].index(s))]
    expected += [(t, 1) for t in texts["pos"]]
    assert got == expected
    short = text_dataset_from_directory(tmp_path, max_length=5, shuffle=False, verbose=False,
                                        label_mode=None)  # fmt: skip
    assert short[0].tolist() == ["awful", "borin", "great", "loved", "fine"]
    train, val = text_dataset_from_directory(tmp_path, validation_split=0.4, subset="both",
                                             seed=3, verbose=False)  # fmt: skip
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2


def test_file_order_and_shuffle_match_keras_indexing(image_dir):
    pytest.importorskip("keras")
    from keras.src.utils import dataset_utils as keras_du

    from callax.utils.dataset_utils import index_directory

    root, _ = image_dir
    formats = (".png",)
    for shuffle in (False, True):
        ours = index_directory(str(root), "inferred", formats, shuffle=shuffle, seed=11,
                               verbose=False)  # fmt: skip
        theirs = keras_du.index_directory(str(root), "inferred", formats, shuffle=shuffle,
                                          seed=11, verbose=False)  # fmt: skip
        assert [os.path.normpath(p) for p in ours[0]] == [os.path.normpath(p) for p in theirs[0]]
        np.testing.assert_array_equal(ours[1], theirs[1])
        assert ours[2] == theirs[2]
