"""Augmentation layers: identity at inference, exact transforms at fixed factors."""

import jax
import numpy as np
import pytest

import callax
from callax import layers

IMG = np.random.default_rng(0).random((3, 5, 5, 2)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [layers.RandomFlip(seed=1), layers.RandomRotation(0.2, seed=1),
     layers.RandomTranslation(0.2, 0.2, seed=1), layers.RandomZoom(0.2, seed=1)],
    ids=lambda layer: type(layer).__name__,
)  # fmt: skip
def test_identity_unless_training_and_configs(layer):
    np.testing.assert_array_equal(layer(IMG, training=False), IMG)
    out = layer(IMG, training=True)
    assert out.shape == IMG.shape and out.dtype == IMG.dtype
    assert not np.allclose(out, IMG)
    # Keras 3: a plain call augments (training defaults to True); predict does not.
    assert not np.allclose(layer(IMG), IMG)
    model = callax.Sequential([callax.Input(IMG.shape[1:]), layer])
    np.testing.assert_array_equal(model.predict(IMG, verbose=0), IMG)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_random_flip_flips_whole_images():
    out = np.asarray(layers.RandomFlip("horizontal", seed=3)(IMG, training=True))
    for o, x in zip(out, IMG):
        assert np.array_equal(o, x) or np.array_equal(o, x[:, ::-1])


def test_fixed_rotation_is_rot90():
    quarter = layers.RandomRotation((0.25, 0.25), interpolation="nearest")
    out = np.asarray(quarter(IMG, training=True))
    np.testing.assert_allclose(out, np.rot90(IMG, k=1, axes=(1, 2)), atol=1e-5)


def test_fixed_translation_shifts_with_constant_fill():
    shift = layers.RandomTranslation((0.2, 0.2), (0.0, 0.0), fill_mode="constant",
                                     interpolation="nearest")  # fmt: skip
    out = np.asarray(shift(IMG, training=True))  # one row down (0.2 * 5)
    np.testing.assert_allclose(out[:, 1:], IMG[:, :-1], atol=1e-6)
    np.testing.assert_array_equal(out[:, 0], 0.0)


def test_fixed_zoom_in_scales_around_the_center():
    zoom = layers.RandomZoom((-0.5, -0.5), interpolation="bilinear")
    out = np.asarray(zoom(IMG, training=True))
    # zooming in by 2 samples the source at center + (dst - center) / 2
    np.testing.assert_allclose(out[:, 2, 2], IMG[:, 2, 2], atol=1e-6)
    np.testing.assert_allclose(out[:, 0, 0], IMG[:, 1, 1], atol=1e-6)
    np.testing.assert_allclose(out[:, 1, 1], (IMG[:, 1, 1] + IMG[:, 1, 2] + IMG[:, 2, 1]
                                              + IMG[:, 2, 2]) / 4, atol=1e-5)  # fmt: skip


def test_inside_fit_and_stateless_jit():
    model = callax.Sequential([callax.Input((5, 5, 2)), layers.RandomFlip(seed=0),
                               layers.RandomRotation(0.1, seed=0), layers.Flatten(),
                               layers.Dense(1)])  # fmt: skip
    model.compile("adam", "mse")
    model.fit(IMG, np.ones((3, 1)), epochs=2, verbose=0)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    f = jax.jit(lambda tv, ntv: model.stateless_call(tv, ntv, IMG, training=True))
    a, ntv2 = f(tv, ntv)
    b, _ = f(tv, ntv2)
    assert not np.allclose(a, b)  # the seed state advances


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(
        ValueError, match=r"expects images of shape.*received input with shape \(5,\)"
    ):
        layers.RandomFlip()(np.ones(5, "float32"), training=True)
