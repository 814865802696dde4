"""Pooling layers and ops: outputs vs Keras 3 and numpy, gradients, configs, bad input."""

import jax
import numpy as np
import pytest
from jax.test_util import check_grads

from callax import layers, ops

RNG = np.random.default_rng(1)


def _x(shape):
    return RNG.normal(size=shape).astype("float32")


def _shape(rank, data_format, size=7, channels=3):
    spatial = (size,) * rank
    return (2, *spatial, channels) if data_format == "channels_last" else (2, channels, *spatial)


POOL_CASES = [
    (1, dict(pool_size=2)),
    (1, dict(pool_size=3, strides=2, padding="same")),
    (1, dict(pool_size=2, data_format="channels_first")),
    (2, dict()),
    (2, dict(pool_size=3, strides=2, padding="same")),
    (2, dict(pool_size=(2, 3), strides=(1, 2))),
    (2, dict(pool_size=2, padding="same", data_format="channels_first")),
    (2, dict(pool_size=3, strides=1, padding="same")),
    (3, dict(pool_size=2, padding="same")),
    (3, dict(pool_size=(2, 1, 3), strides=1, data_format="channels_first")),
]


@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("rank,kwargs", POOL_CASES)
def test_pooling_matches_keras(kind, rank, kwargs):
    keras = pytest.importorskip("keras")
    name = f"{kind}Pooling{rank}D"
    if (rank == 3 or kind == "Average") and "pool_size" not in kwargs:
        kwargs = dict(kwargs, pool_size=2)  # required by Keras 3 there
    x = _x(_shape(rank, kwargs.get("data_format", "channels_last"), size=7 if rank < 3 else 5))
    expected = np.asarray(getattr(keras.layers, name)(**kwargs)(x))
    ours = getattr(layers, name)(**kwargs)
    got = np.asarray(ours(x))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    assert ours.compute_output_shape(x.shape) == expected.shape


def test_pooling_numpy_formulas():
    x = _x((1, 5, 1))
    got_max = np.asarray(ops.max_pool(x, 2, 1))[0, :, 0]
    got_avg = np.asarray(ops.average_pool(x, 2, 2, padding="same"))[0, :, 0]
    v = x[0, :, 0]
    np.testing.assert_allclose(got_max, np.maximum(v[:-1], v[1:]), atol=1e-6)
    # same padding, size 5, window 2, stride 2: windows [0,1], [2,3], [4] (padding not counted)
    np.testing.assert_allclose(got_avg, [v[:2].mean(), v[2:4].mean(), v[4]], atol=1e-6)


@pytest.mark.parametrize("kind", ["Max", "Average"])
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_matches_keras(kind, rank, keepdims, data_format):
    keras = pytest.importorskip("keras")
    name = f"Global{kind}Pooling{rank}D"
    x = _x(_shape(rank, data_format, size=4))
    expected = np.asarray(getattr(keras.layers, name)(data_format, keepdims)(x))
    ours = getattr(layers, name)(data_format=data_format, keepdims=keepdims)
    got = np.asarray(ours(x))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert ours.compute_output_shape(x.shape) == expected.shape


def test_global_average_pooling1d_mask_matches_keras():
    keras = pytest.importorskip("keras")
    x = _x((3, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)
    expected = np.asarray(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    got = np.asarray(layers.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(got[1], x[1, 0], atol=1e-6)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("fn", [ops.max_pool, ops.average_pool])
def test_pool_gradients(fn, padding):
    # Distinct values: no ties, so max pooling is differentiable at the point.
    x = (RNG.permutation(50).reshape(1, 5, 5, 2) / 10.0).astype("float32")
    check_grads(lambda a: fn(a, 2, 2, padding), (x,), order=2, modes=("rev",), atol=1e-2, rtol=1e-2)


def test_global_pool_gradients_and_jit():
    layer = layers.GlobalMaxPooling2D()
    x = (RNG.permutation(32).reshape(2, 4, 2, 2) / 10.0).astype("float32")
    check_grads(lambda a: layer(a), (x,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)
    pool = layers.AveragePooling2D(3, 2, "same")
    np.testing.assert_allclose(np.asarray(jax.jit(pool)(x)), np.asarray(pool(x)), atol=1e-6)


def test_integer_max_pool():
    x = np.arange(8, dtype="int32").reshape(1, 8, 1)
    assert np.asarray(ops.max_pool(x, 2, padding="same"))[0, :, 0].tolist() == [1, 3, 5, 7]


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.MaxPooling1D(3, 2, "same"),
        lambda: layers.MaxPooling2D((2, 3), data_format="channels_first"),
        lambda: layers.AveragePooling3D(2, 1),
        lambda: layers.GlobalAveragePooling2D(keepdims=True),
        lambda: layers.GlobalMaxPooling1D(data_format="channels_first"),
    ],
)
def test_config_round_trip(layer):
    layer = layer()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same")),
        ("AveragePooling1D", dict(pool_size=2)),
        ("GlobalAveragePooling3D", dict(keepdims=True)),
    ],
)
def test_config_matches_keras(name, kwargs):
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.layers, name)(**kwargs).get_config()
    ours = getattr(layers, name)(**kwargs).get_config()
    for key in ("dtype", "name"):
        theirs.pop(key), ours.pop(key)
    assert ours == theirs


def test_aliases_and_names():
    assert (
        layers.MaxPool2D is layers.MaxPooling2D
        and layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    )
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.GlobalAveragePooling1D().name == "global_average_pooling1d"


def test_bad_input():
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D 'max_pooling2d' expects inputs of rank 4.*received input with shape \(4, 4\)",
    ):
        layers.MaxPooling2D()(np.zeros((4, 4), "float32"))
    with pytest.raises(
        ValueError,
        match=r"GlobalAveragePooling1D .* rank 3 .*received input with shape \(2, 3, 4, 5\)",
    ):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(
        ValueError, match=r"`padding` must be one of \['same', 'valid'\].*received padding='full'"
    ):
        layers.AveragePooling2D(padding="full")
    with pytest.raises(
        ValueError,
        match=r"`pool_size` must be an int or a tuple of 2 ints; received pool_size=\(1, 2, 3\)",
    ):
        layers.MaxPooling2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"strictly positive; received pool_size=\(0, 0\)"):
        layers.MaxPooling2D(0)


@pytest.mark.parametrize("layer", [layers.MaxPooling2D, layers.AveragePooling2D])
def test_pool_gradients_under_jit(layer):
    """Reverse-mode under jit (the training path): d sum(pool(x)) / dx is the
    argmax indicator of each window (max) or 1/4 everywhere (average, 2x2)."""
    x = (RNG.permutation(32).reshape(1, 4, 4, 2) / 10.0).astype("float32")
    pool = layer(2)
    grad = np.asarray(jax.jit(jax.grad(lambda a: pool(a).sum()))(x))
    if layer is layers.AveragePooling2D:
        expected = np.full_like(x, 0.25)
    else:
        windows = x.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(1, 2, 2, 2, 4)
        hot = np.eye(4)[windows.argmax(-1)].reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 4, 2, 5, 3)
        expected = hot.reshape(x.shape)
    np.testing.assert_allclose(grad, expected, atol=1e-6)
