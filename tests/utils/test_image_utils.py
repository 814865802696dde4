"""Image conversions and files against Keras's own functions (same Pillow)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import callax
from callax.utils import array_to_img, img_to_array, load_img, save_img

pytest.importorskip("PIL")


@pytest.fixture
def keras():
    return pytest.importorskip("keras")


def _rgb(h=5, w=7, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (h, w, 3)).astype("float32")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_and_back_match_keras(keras, channels, scale):
    x = np.random.default_rng(channels).uniform(0, 200, (4, 6, channels)).astype("float32")
    ours = array_to_img(x, scale=scale)
    theirs = keras.utils.array_to_img(x, scale=scale)
    assert ours.mode == theirs.mode and ours.size == theirs.size == (6, 4)
    np.testing.assert_array_equal(img_to_array(ours), keras.utils.img_to_array(theirs))
    for fmt in ("channels_first", "channels_last"):
        a = img_to_array(ours, data_format=fmt, dtype="uint8")
        b = keras.utils.img_to_array(theirs, data_format=fmt, dtype="uint8")
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_scaling_formula_and_wide_grayscale():
    x = np.array([[[2.0], [4.0]], [[6.0], [10.0]]], "float32")
    expected = ((x - 2) / 8 * 255).astype("uint8")[..., 0]
    np.testing.assert_array_equal(np.asarray(array_to_img(x)), expected)
    wide = array_to_img(np.full((2, 2, 1), 1000.0), scale=False)
    assert wide.mode == "I" and np.asarray(wide)[0, 0] == 1000
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel"):
        array_to_img(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("kwargs", [
    {}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
    {"target_size": (3, 4)}, {"target_size": (8, 3), "interpolation": "bilinear"},
    {"target_size": (4, 4), "keep_aspect_ratio": True, "interpolation": "bicubic"},
])  # fmt: skip
def test_load_img_matches_keras(keras, tmp_path, kwargs):
    path = tmp_path / "img.png"
    save_img(path, _rgb(6, 9))
    ours = img_to_array(load_img(path, **kwargs))
    theirs = keras.utils.img_to_array(keras.utils.load_img(str(path), **kwargs))
    np.testing.assert_array_equal(ours, theirs)
    stream = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(img_to_array(load_img(stream, **kwargs)), ours)


def test_save_img_formats(tmp_path, keras):
    x = _rgb()
    save_img(tmp_path / "a.png", x, scale=False)
    np.testing.assert_array_equal(img_to_array(load_img(tmp_path / "a.png")), x.astype("uint8"))
    rgba = np.concatenate([x, np.full((5, 7, 1), 255.0, "float32")], axis=-1)
    with pytest.warns(UserWarning, match="RGBA"):
        save_img(tmp_path / "b.jpg", rgba)
    assert load_img(tmp_path / "b.jpg").size == (7, 5)
    save_img(tmp_path / "c.png", x.transpose(2, 0, 1), data_format="channels_first")
    keras.utils.save_img(str(tmp_path / "d.png"), x.transpose(2, 0, 1),
                         data_format="channels_first")  # fmt: skip
    np.testing.assert_array_equal(
        img_to_array(load_img(tmp_path / "c.png")), img_to_array(load_img(tmp_path / "d.png"))
    )


def test_bad_arguments(tmp_path):
    save_img(tmp_path / "a.png", _rgb())
    with pytest.raises(ValueError, match="color_mode"):
        load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        load_img(tmp_path / "a.png", target_size=(2, 2), interpolation="fancy")
    with pytest.raises(TypeError, match="file path"):
        load_img(123)
    with pytest.raises(ValueError, match="data_format"):
        img_to_array(load_img(tmp_path / "a.png"), data_format="nhwc")


def test_missing_pillow_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"callax\[image\]"):
        callax.utils.array_to_img(np.zeros((2, 2, 3)))
