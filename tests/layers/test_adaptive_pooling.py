"""Adaptive pooling layers: PyTorch-style bins written out in numpy, and Keras 3."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import layers

rng = np.random.default_rng(4)


def _np_pool(x, size, reduce, channels_first=False):
    """Bin i of an axis of length n covers [floor(i n / out), ceil((i + 1) n / out))."""
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    for axis, out in zip(range(1, x.ndim - 1), size):
        n = x.shape[axis]
        bins = [range(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]
        x = np.stack([reduce(np.take(x, b, axis), axis) for b in bins], axis=axis)
    return np.moveaxis(x, -1, 1) if channels_first else x


CASES = [
    ("AdaptiveAveragePooling1D", 4, (2, 7, 3), False),
    ("AdaptiveAveragePooling1D", 9, (2, 7, 3), False),  # more bins than steps
    ("AdaptiveAveragePooling2D", (3, 2), (2, 7, 5, 3), False),
    ("AdaptiveAveragePooling2D", (4, 4), (2, 3, 8, 9), True),
    ("AdaptiveAveragePooling3D", 2, (1, 5, 4, 3, 2), False),
    ("AdaptiveMaxPooling1D", 3, (2, 8, 3), False),
    ("AdaptiveMaxPooling2D", (4, 3), (2, 7, 5, 3), False),
    ("AdaptiveMaxPooling2D", 5, (2, 3, 7, 6), True),
    ("AdaptiveMaxPooling3D", (2, 3, 2), (1, 5, 4, 3, 2), False),
    ("AdaptiveMaxPooling3D", 3, (1, 2, 5, 7, 4), True),
]
IDS = [f"{c[0]}-{c[1]}-{'cf' if c[3] else 'cl'}" for c in CASES]


@pytest.mark.parametrize("name,size,shape,channels_first", CASES, ids=IDS)
def test_matches_numpy_and_keras(name, size, shape, channels_first):
    x = rng.normal(size=shape).astype("float32")
    kw = {"data_format": "channels_first"} if channels_first else {}
    layer = getattr(layers, name)(size, **kw)
    out = np.asarray(layer(x))
    rank = len(shape) - 2
    sizes = (size,) * rank if isinstance(size, int) else size
    reduce = (lambda a, ax: a.mean(ax)) if "Average" in name else (lambda a, ax: a.max(ax))
    np.testing.assert_allclose(out, _np_pool(x, sizes, reduce, channels_first), atol=1e-5)
    assert layer.compute_output_shape(shape) == out.shape
    keras = pytest.importorskip("keras")
    np.testing.assert_allclose(out, getattr(keras.layers, name)(size, **kw)(x), atol=1e-5)


def test_in_a_functional_model_and_config():
    inputs = callax.Input((None, None, 3))  # any image size gives the same output size
    outputs = layers.Dense(2)(layers.Flatten()(layers.AdaptiveAveragePooling2D((2, 2))(inputs)))
    model = callax.Model(inputs, outputs)
    assert model(np.ones((1, 9, 5, 3), "float32")).shape == (1, 2)
    assert model(np.ones((1, 4, 11, 3), "float32")).shape == (1, 2)
    layer = layers.AdaptiveMaxPooling1D(3, name="pool")
    clone = layers.AdaptiveMaxPooling1D.from_config(layer.get_config())
    assert clone.output_size == (3,) and clone.name == "pool"


def test_bad_arguments():
    with pytest.raises(ValueError, match="AdaptiveMaxPooling2D 'adaptive_max_pooling2d'"):
        layers.AdaptiveMaxPooling2D((2, 2))(np.ones((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAveragePooling1D(0)
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAveragePooling2D((1, 2, 3))
