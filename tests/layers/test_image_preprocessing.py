"""Image preprocessing layers: Keras 3 (JAX backend) as oracle where outputs are
deterministic, numpy formulas at fixed factors, and statistics of the random draws."""

import jax
import numpy as np
import pytest

import callax
from callax import layers

RNG = np.random.default_rng(0)
IMGS = (RNG.random((4, 6, 8, 3)) * 255).astype("float32")
UNIT = RNG.random((4, 6, 8, 3)).astype("float32")


def _keras():
    return pytest.importorskip("keras")


def _close(a, b, atol=1e-4):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=atol)


# ------------------------------------------------------------ geometry vs Keras
@pytest.mark.parametrize("kwargs", [
    {"height": 3, "width": 5},
    {"height": 9, "width": 4, "interpolation": "nearest"},
    {"height": 4, "width": 4, "interpolation": "bicubic", "crop_to_aspect_ratio": True},
    {"height": 4, "width": 12, "pad_to_aspect_ratio": True, "fill_value": 7.0},
    {"height": 3, "width": 3, "antialias": True, "interpolation": "lanczos3"},
], ids=str)  # fmt: skip
def test_resizing_matches_keras(kwargs):
    keras = _keras()
    ours, theirs = layers.Resizing(**kwargs), keras.layers.Resizing(**kwargs)
    _close(ours(IMGS), theirs(IMGS))
    _close(ours(IMGS[0]), theirs(IMGS[0]))
    conf = ours.get_config()
    assert {k: v for k, v in conf.items() if k != "name"} == {
        k: v for k, v in theirs.get_config().items() if k != "name"
    }


def test_resizing_channels_first_uint8_and_area():
    keras = _keras()
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    kw = {"height": 3, "width": 5, "data_format": "channels_first"}
    _close(layers.Resizing(**kw)(chw), keras.layers.Resizing(**kw)(chw))
    u8 = IMGS.astype("uint8")
    out = layers.Resizing(3, 5)(u8)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, keras.layers.Resizing(3, 5)(u8))
    area = layers.Resizing(3, 4, interpolation="area")(IMGS)
    _close(area, IMGS.reshape(4, 3, 2, 4, 2, 3).mean(axis=(2, 4)))


@pytest.mark.parametrize("size", [(3, 4), (6, 8), (8, 10), (4, 10)])
def test_center_crop_matches_keras_and_slices(size):
    keras = _keras()
    ours = layers.CenterCrop(*size)(IMGS)
    _close(ours, keras.layers.CenterCrop(*size)(IMGS))
    _close(layers.CenterCrop(*size)(IMGS[1]), ours[1])
    if size == (3, 4):
        np.testing.assert_array_equal(ours, IMGS[:, 1:4, 2:6])


def test_random_crop_windows_inference_and_small_inputs():
    keras = _keras()
    crop = layers.RandomCrop(3, 4, seed=0)
    # Keras 3 passes images through unchanged at inference
    np.testing.assert_array_equal(crop(IMGS, training=False), IMGS)
    windows = set()
    for _ in range(20):
        out = np.asarray(crop(IMGS))
        assert out.shape == (4, 3, 4, 3)
        hits = [(i, j) for i in range(4) for j in range(5)
                if np.array_equal(out, IMGS[:, i : i + 3, j : j + 4])]  # fmt: skip
        assert len(hits) == 1  # one window for the whole batch, as Keras
        windows.add(hits[0])
    assert len(windows) > 5
    # not larger on both sides: centred aspect-ratio crop (+ resize), as Keras
    for size in [(6, 5), (8, 10), (2, 8), (7, 3), (6, 12)]:
        _close(layers.RandomCrop(*size)(IMGS), keras.layers.RandomCrop(*size)(IMGS))


# --------------------------------------------------------- colour at fixed factors
def test_fixed_contrast_brightness_invert_match_numpy_and_keras():
    keras = _keras()
    mean = UNIT.mean(axis=(1, 2), keepdims=True)
    cases = [
        ("RandomContrast", {"factor": (-0.5, 0.5), "value_range": (0, 1)},
         np.clip((UNIT - mean) * 1.5 + mean, 0, 1)),
        ("RandomContrast", {"factor": 0.0, "value_range": (0, 1)}, UNIT),
        ("RandomBrightness", {"factor": (0.2, 0.2), "value_range": (0, 1)},
         np.clip(UNIT + 0.2, 0, 1)),
        ("RandomBrightness", {"factor": (-0.3, -0.3), "value_range": (0, 255)},
         np.clip(UNIT * 255 - 0.3 * 255, 0, 255)),
        ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (0, 1)}, 1 - UNIT),
        ("RandomInvert", {"factor": 0.0, "value_range": (0, 1)}, UNIT),
    ]  # fmt: skip
    for name, kwargs, expected in cases:
        x = UNIT * 255 if kwargs["value_range"] == (0, 255) else UNIT
        ours = getattr(layers, name)(**kwargs)
        theirs = getattr(keras.layers, name)(**kwargs)
        _close(ours(x), expected)
        _close(ours(x), theirs(x))
        _close(ours(x[0]), expected[0])
        np.testing.assert_array_equal(ours(x, training=False), x)


def test_grayscale_solarization_autocontrast_match_numpy_and_keras():
    keras = _keras()
    gray = (UNIT @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None]
    _close(layers.RandomGrayscale(factor=1.0)(UNIT), np.broadcast_to(gray, UNIT.shape))
    _close(layers.RandomGrayscale(factor=0.0)(UNIT), UNIT)
    _close(layers.RandomGrayscale(factor=1.0)(UNIT), keras.layers.RandomGrayscale(factor=1.0)(UNIT))
    # Solarization: everything at or above the threshold is inverted
    sol = layers.Solarization(threshold_factor=(0.5, 0.5), value_range=(0, 1))
    _close(sol(UNIT), np.where(UNIT * 255 < 127.5, UNIT, 1 - UNIT), atol=1e-5)
    add = layers.Solarization(addition_factor=(0.2, 0.2), threshold_factor=(1.0, 1.0))
    shifted = np.clip(IMGS + 51, 0, 255)
    _close(add(IMGS), np.where(shifted < 255, shifted, 0), atol=1e-3)
    _close(layers.Solarization()(IMGS), keras.layers.Solarization()(IMGS), atol=1e-3)
    # AutoContrast: per image and channel, min -> 0 and max -> top of the range
    lo, hi = UNIT.min(axis=(1, 2), keepdims=True), UNIT.max(axis=(1, 2), keepdims=True)
    auto = layers.AutoContrast(value_range=(0, 1))
    _close(auto(UNIT), (UNIT - lo) / (hi - lo), atol=1e-5)
    _close(auto(UNIT, training=False), (UNIT - lo) / (hi - lo), atol=1e-5)
    _close(auto(UNIT), keras.layers.AutoContrast(value_range=(0, 1))(UNIT), atol=1e-5)
    flat = np.full((1, 3, 3, 3), 0.4, "float32")
    np.testing.assert_array_equal(auto(flat), flat)  # constant channels stay as they are


# ------------------------------------------------------------- random draws
def test_random_draws_are_per_sample_in_range_and_seeded():
    x = np.full((256, 2, 2, 3), 100.0, "float32")
    out = np.asarray(layers.RandomBrightness(0.2, seed=3)(x))
    delta = out[:, 0, 0, 0] - 100.0
    assert np.all(np.abs(delta) <= 0.2 * 255 + 1e-3)
    assert np.all(out == out[:, :1, :1, :1])  # one delta per image
    assert delta.std() > 20 and abs(delta.mean()) < 8  # uniform on [-51, 51]: std 29
    again = np.asarray(layers.RandomBrightness(0.2, seed=3)(x))
    np.testing.assert_array_equal(out, again)
    inv = np.asarray(layers.RandomInvert(seed=1, value_range=(0, 1))(np.zeros((400, 1, 1, 1))))
    assert 0.4 < inv.mean() < 0.6  # probability ~ U(0, 1): inverted half of the time
    gray = layers.RandomGrayscale(0.25, seed=2)(UNIT[:1].repeat(400, 0))
    is_gray = np.all(np.isclose(gray[..., :1], gray), axis=(1, 2, 3))
    assert 0.15 < is_gray.mean() < 0.35
    contrast = layers.RandomContrast(0.5, seed=0, value_range=(0, 1))
    out = np.asarray(contrast(np.array([[[[0.4], [0.6]]]] * 200, "float32")))
    spread = out[:, 0, 1, 0] - out[:, 0, 0, 0]  # 0.2 * factor, factor in [1, 1.5]
    assert spread.min() >= 0.2 - 1e-6 and spread.max() <= 0.3 + 1e-6 and spread.std() > 0.02


def test_training_semantics_in_models_fit_and_stateless_jit():
    aug = layers.RandomBrightness(0.5, seed=0, value_range=(0, 1))
    model = callax.Sequential([callax.Input((6, 8, 3)), aug, layers.Flatten(), layers.Dense(1)])
    assert not np.allclose(model.layers[0](UNIT), UNIT)  # as Keras: a plain call augments
    pred = model.predict(UNIT, verbose=0)
    plain = model.layers[2](model.layers[1](UNIT))
    _close(pred, plain, atol=1e-5)  # predict does not augment
    model.compile("adam", "mse")
    model.fit(UNIT, np.ones((4, 1)), epochs=2, verbose=0)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    f = jax.jit(lambda tv, ntv: model.stateless_call(tv, ntv, UNIT, training=True))
    a, ntv2 = f(tv, ntv)
    b, _ = f(tv, ntv2)
    assert not np.allclose(a, b)  # the seed state advances
    c, _ = f(tv, ntv)
    _close(a, c)  # same state, same draw


def test_configs_match_keras_and_round_trip():
    keras = _keras()
    cases = [
        ("RandomContrast", {"factor": 0.3, "seed": 5}),
        ("RandomBrightness", {"factor": [-0.2, 0.4], "value_range": (1, 0)}),
        ("RandomInvert", {"factor": 0.7}),
        ("RandomGrayscale", {"factor": 0.3}),
        ("Solarization", {"addition_factor": 0.1, "threshold_factor": (0.6, 0.2)}),
        ("AutoContrast", {"value_range": (0, 1)}),
        ("CenterCrop", {"height": 2, "width": 3}),
        ("RandomCrop", {"height": 2, "width": 3, "seed": 4}),
        ("RandomErasing", {"factor": 0.5, "scale": 0.2, "fill_value": [1, 2, 3]}),
        ("RandomSaturation", {"factor": 0.4, "value_range": [255, 0]}),
        ("RandomHue", {"factor": [0.1, 0.3]}),
        ("RandomColorJitter", {"brightness_factor": 0.2, "hue_factor": 0.1, "seed": 2}),
    ]
    for name, kwargs in cases:
        ours = getattr(layers, name)(**kwargs)
        theirs = getattr(keras.layers, name)(**kwargs).get_config()
        conf = ours.get_config()
        for key, value in theirs.items():
            if key != "name":
                assert conf[key] == value or list(conf[key]) == list(value), (name, key)
        clone = type(ours).from_config(conf)
        assert clone.get_config() == conf


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r"RandomContrast 'c': factor must be .*\[0, 1\]; "
                                         r"received factor=1.5"):  # fmt: skip
        layers.RandomContrast(1.5, name="c")
    with pytest.raises(ValueError, match="value_range must be a pair.*received value_range=5"):
        layers.RandomBrightness(0.1, value_range=5)
    with pytest.raises(ValueError, match="probability in.*received factor=2"):
        layers.RandomGrayscale(2)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        layers.Resizing(2, 2, interpolation="cubic")
    with pytest.raises(ValueError, match="threshold_factor must be"):
        layers.Solarization(threshold_factor=(-0.1, 0.5))
    with pytest.raises(ValueError, match=r"CenterCrop 'center_crop' expects images of rank 3.*"
                                         r"received input with shape \(5, 5\)"):  # fmt: skip
        layers.CenterCrop(2, 2)(np.ones((5, 5), "float32"))


def test_erasing_saturation_hue_jitter_at_fixed_factors_match_keras():
    keras = _keras()
    cases = [
        ("RandomErasing", {"factor": (1.0, 1.0), "scale": (1.0, 1.0), "fill_value": 9.0}),
        ("RandomErasing", {"factor": 0.0}),
        ("RandomSaturation", {"factor": (0.3, 0.3)}),
        ("RandomSaturation", {"factor": (0.5, 0.5), "value_range": (0, 1)}),
        ("RandomHue", {"factor": (1.0, 1.0)}),
        ("RandomColorJitter", {"brightness_factor": (0.1, 0.1), "saturation_factor": (0.4, 0.4),
                               "hue_factor": (1.0, 1.0)}),
    ]  # fmt: skip
    for name, kwargs in cases:
        x = UNIT if kwargs.get("value_range") == (0, 1) else IMGS
        ours = getattr(layers, name)(**kwargs)
        _close(ours(x), getattr(keras.layers, name)(**kwargs)(x), atol=2e-3)
        np.testing.assert_array_equal(ours(x, training=False), x)
    # numpy formulas: saturation 0.5 keeps the image; hue by 1/2 turns red to cyan
    _close(layers.RandomSaturation((0.5, 0.5), value_range=(0, 1))(UNIT), UNIT, atol=1e-5)
    red = np.array([[[1.0, 0.0, 0.0]]], "float32")
    _close(layers.RandomHue((1.0, 1.0), value_range=(0, 1))(red), [[[0.0, 1.0, 1.0]]])
    erased = layers.RandomErasing((1.0, 1.0), scale=(1.0, 1.0), fill_value=(1, 2, 3))(IMGS)
    _close(erased, np.broadcast_to(np.array([1.0, 2.0, 3.0], "float32"), IMGS.shape))


def test_random_erasing_rectangles():
    layer = layers.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=-1.0,
                                 value_range=(-1, 1), seed=3)  # fmt: skip
    out = np.asarray(layer(np.zeros((50, 8, 8, 2), "float32")))
    for image in out:
        rows, cols = np.nonzero(image[..., 0] == -1.0)
        # a half-side rectangle (sqrt(0.25) of 8 = 4 wide, covering 4 or 5 pixels)
        assert rows.max() - rows.min() + 1 in (4, 5) and cols.max() - cols.min() + 1 in (4, 5)
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        np.testing.assert_array_equal(image[..., 0], image[..., 1])
    noise = np.asarray(layers.RandomErasing(factor=(1.0, 1.0), seed=0)(IMGS))
    assert (noise >= 0).all() and (noise <= 255).all() and not np.allclose(noise, IMGS)


def test_channels_first_matches_keras():
    keras = _keras()
    chw = np.ascontiguousarray(np.transpose(IMGS, (0, 3, 1, 2)))
    cases = [
        ("RandomContrast", {"factor": (-0.5, 0.5)}),
        ("RandomGrayscale", {"factor": 1.0}),
        ("RandomHue", {"factor": (1.0, 1.0)}),
        ("RandomErasing", {"factor": (1.0, 1.0), "scale": (1.0, 1.0), "fill_value": 2.0}),
        ("CenterCrop", {"height": 3, "width": 4}),
        ("CenterCrop", {"height": 8, "width": 4}),
        ("RandomCrop", {"height": 7, "width": 5}),
    ]
    for name, kwargs in cases:
        kwargs = {**kwargs, "data_format": "channels_first"}
        ours = getattr(layers, name)(**kwargs)(chw)
        _close(ours, getattr(keras.layers, name)(**kwargs)(chw), atol=2e-3)
        # the same numbers as channels_last, moved
        last = getattr(layers, name)(**{**kwargs, "data_format": "channels_last"})(IMGS)
        _close(ours, np.transpose(np.asarray(last), (0, 3, 1, 2)), atol=2e-3)
    erase = layers.RandomErasing((1.0, 1.0), scale=(1.0, 1.0), fill_value=(1, 2, 3),
                                 data_format="channels_first")(chw)  # fmt: skip
    _close(erase, np.broadcast_to(np.array([1.0, 2.0, 3.0], "float32")[:, None, None], chw.shape))


# ------------------------------------------------- photometric extras (second file)
def test_photometric_extras_at_fixed_factors_match_numpy_and_keras():
    keras = _keras()
    gray = (IMGS @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None]
    bits = 3
    posterized = np.left_shift(np.right_shift(IMGS.astype("uint8"), 8 - bits), 8 - bits)
    a, b = 1 / 13, 5 / 13
    pad = np.pad(IMGS, ((0, 0), (1, 1), (1, 1), (0, 0)))
    smooth = sum(
        (b if (i, j) == (1, 1) else a) * pad[:, i : i + 6, j : j + 8]
        for i in range(3)
        for j in range(3)
    )
    cases = [
        ("RandomColorDegeneration", {"factor": (0.7, 0.7)},
         np.clip(IMGS + 0.7 * (gray - IMGS), 0, 255)),
        ("RandomColorDegeneration", {"factor": (-0.5, -0.5)},
         np.clip(IMGS - 0.5 * (gray - IMGS), 0, 255)),
        ("RandomPosterization", {"factor": (bits, bits)}, posterized),
        ("RandomSharpness", {"factor": (0.8, 0.8)},
         np.clip(IMGS + (1 - 1.6) * (smooth - IMGS), 0, 255)),
        ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.5, 0.5)}, None),
        ("Equalization", {}, None),
    ]  # fmt: skip
    for name, kwargs, expected in cases:
        ours = getattr(layers, name)(**kwargs)
        theirs = getattr(keras.layers, name)(**kwargs)
        out = ours(IMGS)
        if expected is not None:
            _close(out, expected, atol=1e-3)
        _close(out, theirs(IMGS), atol=1e-3)
        _close(ours(IMGS[0]), theirs(IMGS[:1])[0], atol=1e-3)
        np.testing.assert_array_equal(ours(IMGS, training=False), IMGS)
        conf = ours.get_config()
        for key, value in theirs.get_config().items():
            if key != "name":
                assert conf[key] == value or list(conf[key]) == list(value), (name, key)
        assert type(ours).from_config(conf).get_config() == conf


def test_equalization_spreads_the_histogram():
    # numpy: rank of each value in the cumulative histogram, scaled to [0, 255]
    x = np.array([10.0, 20.0, 20.0, 30.0, 30.0, 30.0, 200.0, 255.0], "float32")
    hist = np.bincount(x.astype(int), minlength=256)
    cdf = np.cumsum(hist)
    cdf_min = cdf[np.nonzero(cdf)[0][0]]
    ref = np.clip(np.round((cdf - cdf_min) * 255 / (cdf[-1] - cdf_min)), 0, 255)[x.astype(int)]
    out = layers.Equalization()(x.reshape(1, 2, 4, 1))
    _close(np.asarray(out).ravel(), ref)
    scaled = layers.Equalization(value_range=(0, 1))(x.reshape(1, 2, 4, 1) / 255)
    _close(np.asarray(scaled).ravel(), ref / 255, atol=1e-5)
    flat = np.full((1, 3, 3, 1), 40.0, "float32")
    np.testing.assert_array_equal(layers.Equalization()(flat), flat)  # one bin: unchanged
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    _close(layers.Equalization(data_format="channels_first")(chw),
           np.transpose(np.asarray(layers.Equalization()(IMGS)), (0, 3, 1, 2)))  # fmt: skip


def test_photometric_extras_draw_per_image():
    x = np.broadcast_to(IMGS[:1], (64, 6, 8, 3))
    for layer in [layers.RandomColorDegeneration(0.5, seed=1), layers.RandomSharpness(0.9, seed=1),
                  layers.RandomPosterization((1, 8), seed=1),
                  layers.RandomGaussianBlur(factor=0.5, seed=1)]:  # fmt: skip
        out = np.asarray(layer(x))
        distinct = len({o.tobytes() for o in out})
        # the blur's sigma is one per batch (as Keras): images are blurred or not
        expected = 2 if isinstance(layer, layers.RandomGaussianBlur) else 4
        assert distinct >= expected, type(layer).__name__
    with pytest.raises(ValueError, match="kernel_size must be an odd number"):
        layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match=r"factor must be .*\[1, 8\]; received factor=9"):
        layers.RandomPosterization(9)


def test_pipeline_applies_in_turn_configs_and_saving(tmp_path):
    keras = _keras()
    pipe = layers.Pipeline([layers.Resizing(3, 4), layers.RandomBrightness((0.1, 0.1)),
                            layers.RandomInvert((1.0, 1.0))])  # fmt: skip
    expected = 255 - np.clip(np.asarray(layers.Resizing(3, 4)(IMGS)) + 25.5, 0, 255)
    _close(pipe(IMGS), expected, atol=1e-3)
    _close(pipe(IMGS, training=False), layers.Resizing(3, 4)(IMGS))  # training reaches each
    conf = pipe.get_config()
    assert [c["class_name"] for c in conf["layers"]] == ["Resizing", "RandomBrightness",
                                                          "RandomInvert"]  # fmt: skip
    clone = layers.Pipeline.from_config(conf)
    _close(clone(IMGS), expected, atol=1e-3)
    # Keras reads callax's config and computes the same
    theirs = keras.layers.Pipeline.from_config(conf)
    _close(theirs(IMGS), expected, atol=1e-3)
    # inside a model saved to .keras
    model = callax.Sequential([callax.Input((6, 8, 3)), layers.Pipeline([layers.Resizing(3, 4)]),
                               layers.Flatten(), layers.Dense(2)])  # fmt: skip
    model.save(tmp_path / "m.keras")
    back = callax.saving.load_model(tmp_path / "m.keras")
    _close(back.predict(IMGS, verbose=0), model.predict(IMGS, verbose=0))
    with pytest.raises(ValueError, match="layers must be a list of layers"):
        layers.Pipeline("resize")


def test_mixup_blends_images_and_labels_consistently():
    keras = _keras()
    n = 32
    # image i is the constant i, label i is one-hot i: the mixed image's value must
    # equal the mixed label's expectation, and each mixes exactly two images
    x = np.broadcast_to(np.arange(n, dtype="float32")[:, None, None, None], (n, 2, 2, 3))
    y = np.eye(n, dtype="float32")
    out = layers.MixUp(alpha=0.4, seed=1)({"images": x, "labels": y})
    images, labels = np.asarray(out["images"]), np.asarray(out["labels"])
    _close(images[:, 0, 0, 0], labels @ np.arange(n), atol=1e-3)
    _close(labels.sum(-1), np.ones(n), atol=1e-5)
    assert ((labels > 1e-6).sum(-1) <= 2).all() and not np.allclose(labels, y)
    assert np.all(images == images[:, :1, :1, :1])
    # weights ~ Beta(0.4, 0.4): mostly near 0 or 1
    w = labels.max(-1)
    assert w.min() >= 0.5 - 1e-6
    # images only; inference; batch of one (nothing to mix with, as Keras)
    assert layers.MixUp(seed=0)(IMGS).shape == IMGS.shape
    np.testing.assert_array_equal(layers.MixUp()(IMGS, training=False), IMGS)
    _close(layers.MixUp()(IMGS[:1]), IMGS[:1], atol=1e-3)
    _close(layers.MixUp()(IMGS[:1]), keras.layers.MixUp()(IMGS[:1]), atol=1e-3)
    conf = layers.MixUp(alpha=0.3, seed=2).get_config()
    assert conf["alpha"] == 0.3 and conf["seed"] == 2
    assert layers.MixUp.from_config(conf).get_config() == conf


def test_dict_inputs_transform_images_and_keep_labels():
    labels = np.arange(8.0).reshape(4, 2)
    out = layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))({"images": UNIT,
                                                                    "labels": labels})  # fmt: skip
    _close(out["images"], np.clip(UNIT + 0.1, 0, 1))
    np.testing.assert_array_equal(out["labels"], labels)
    out = layers.Resizing(3, 4)({"images": IMGS[0]})
    assert out["images"].shape == (3, 4, 3)
    with pytest.raises(ValueError, match=r"takes a dict with 'images'.*\['bounding_boxes'"):
        layers.RandomContrast(0.2)({"bounding_boxes": IMGS, "images": IMGS})
