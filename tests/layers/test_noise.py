"""Noise layers (GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout*)
and basic preprocessing (Rescaling, Normalization): statistics, training flag,
stateless use, Keras 3 oracle, configs, bad input."""

import jax
import numpy as np
import pytest

from callax.layers import (
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    Normalization,
    Rescaling,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)

RS = np.random.RandomState(0)
ONES = np.ones((4000, 8), "float32")


@pytest.mark.parametrize(
    "layer",
    [
        GaussianNoise(0.3),
        GaussianDropout(0.3),
        AlphaDropout(0.3),
        SpatialDropout1D(0.5),
        SpatialDropout2D(0.5),
        SpatialDropout3D(0.5),
    ],  # fmt: skip
    ids=lambda layer: type(layer).__name__,
)
def test_identity_unless_training(layer):
    rank = getattr(layer, "_rank", 0) + 2
    x = RS.randn(*([2] * (rank - 1) + [4])).astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    assert not np.array_equal(np.asarray(layer(x, training=True)), x)


def test_gaussian_noise_statistics():
    x = RS.randn(4000, 8).astype("float32")
    noise = np.asarray(GaussianNoise(0.5, seed=1)(x, training=True)) - x
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 0.5) < 0.02


def test_gaussian_dropout_statistics():
    y = np.asarray(GaussianDropout(0.3, seed=1)(ONES, training=True))
    assert abs(y.mean() - 1) < 0.02 and abs(y.std() - np.sqrt(0.3 / 0.7)) < 0.02


def test_alpha_dropout_keeps_mean_and_variance():
    x = RS.randn(100000).astype("float32")
    y = np.asarray(AlphaDropout(0.2, seed=1)(x, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p**2)) ** -0.5
    dropped = a * alpha_p + (-a * alpha_p * 0.2)  # every dropped unit takes this value
    assert abs(np.isclose(y, dropped, atol=1e-6).mean() - 0.2) < 0.01


def test_spatial_dropout_drops_whole_channels():
    y = np.asarray(SpatialDropout1D(0.5, seed=0)(np.ones((16, 5, 32), "float32"), training=True))
    assert (y == y[:, :1]).all() and set(np.unique(y).tolist()) == {0.0, 2.0}
    y = np.asarray(SpatialDropout2D(0.5, seed=0)(np.ones((8, 3, 3, 16), "float32"), training=True))
    assert (y == y[:, :1, :1]).all()
    layer = SpatialDropout2D(0.5, data_format="channels_first", seed=0)
    y = np.asarray(layer(np.ones((8, 16, 3, 3), "float32"), training=True))
    assert (y == y[:, :, :1, :1]).all()


def test_seed_state_threads_through_stateless_call():
    layer = GaussianNoise(1.0, seed=3)
    state = [v.value for v in layer.non_trainable_variables]
    fn = jax.jit(lambda s: layer.stateless_call([], s, ONES[:2], training=True))
    out1, state1 = fn(state)
    out2, _ = fn(state1)
    assert not np.allclose(np.asarray(out1), np.asarray(out2))
    np.testing.assert_array_equal(np.asarray(layer.non_trainable_variables[0].value), state[0])


def test_rescaling_matches_keras():
    keras = pytest.importorskip("keras")
    img = (RS.rand(2, 4, 4, 3) * 255).astype("float32")
    for scale, offset in ((1 / 127.5, -1.0), ([1.0, 2.0, 3.0], 0.5)):
        want = np.asarray(keras.layers.Rescaling(scale, offset)(img))
        np.testing.assert_allclose(np.asarray(Rescaling(scale, offset)(img)), want, atol=1e-6)


@pytest.mark.parametrize("axis", [-1, (1, 2), None])
def test_normalization_adapt_matches_keras(axis):
    keras = pytest.importorskip("keras")
    data = (RS.randn(50, 3, 4) * 3 + 2).astype("float32")
    k_layer, c_layer = keras.layers.Normalization(axis=axis), Normalization(axis=axis)
    k_layer.adapt(data)
    c_layer.adapt(data)
    np.testing.assert_allclose(np.asarray(c_layer(data)), np.asarray(k_layer(data)), atol=1e-5)
    assert [w.name for w in c_layer.weights] == [w.name for w in k_layer.weights]
    batched = Normalization(axis=axis)
    batched.adapt([data[:20], data[20:35], data[35:]])  # merged batch statistics are exact
    np.testing.assert_allclose(np.asarray(batched(data)), np.asarray(k_layer(data)), atol=1e-5)


def test_normalization_given_stats_and_invert():
    mean, var = [1.0, 2.0], [4.0, 9.0]
    x = RS.randn(3, 2).astype("float32")
    y = np.asarray(Normalization(mean=mean, variance=var)(x))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var), atol=1e-6)
    back = np.asarray(Normalization(mean=mean, variance=var, invert=True)(y))
    np.testing.assert_allclose(back, x, atol=1e-5)


def test_configs_round_trip():
    for layer in (GaussianNoise(0.2, seed=1), GaussianDropout(0.1), AlphaDropout(0.1, seed=2),
                  SpatialDropout1D(0.3), SpatialDropout2D(0.3, data_format="channels_first"),
                  Rescaling(0.5, 1.0), Normalization(axis=(1, 2), mean=0.0, variance=1.0)):  # fmt: skip
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_bad_input():
    with pytest.raises(ValueError, match=r"GaussianDropout '\w+': rate must be a number in "
                       r"\[0, 1\); received rate=1.5"):  # fmt: skip
        GaussianDropout(1.5)
    with pytest.raises(ValueError, match=r"SpatialDropout2D '\w+' expects inputs of rank 4; "
                       r"received input with shape \(2, 3\)"):  # fmt: skip
        SpatialDropout2D(0.5)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last' or "
                       r"'channels_first'; received data_format='nhwc'"):  # fmt: skip
        SpatialDropout2D(0.5, data_format="nhwc")
    with pytest.raises(ValueError, match=r"Normalization '\w+': give both mean and variance"):
        Normalization(mean=1.0)
    norm = Normalization()
    norm.adapt(np.ones((4, 3), "float32"))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(4, 3\); adapt\(\) received "
                       r"a batch of shape \(4, 2\)"):  # fmt: skip
        norm.adapt(np.ones((4, 2), "float32"))
