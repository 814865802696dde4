"""Sequential models: building, add/pop, calls equal to the layers called by hand."""

import numpy as np
import pytest

import callax
from callax import layers


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_lazy_build_on_first_call():
    d1, d2 = layers.Dense(8, activation="relu"), layers.Dense(2)
    model = callax.Sequential([d1, d2])
    assert not model.built and model.layers == [d1, d2]
    with pytest.raises(AttributeError, match="no defined inputs"):
        model.inputs  # noqa: B018
    x = _x(4, 5)
    y = model(x)
    assert model.built and y.shape == (4, 2)
    np.testing.assert_allclose(y, d2(d1(x)), rtol=1e-6)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(y, np.maximum(x @ k1 + b1, 0) @ k2 + b2, rtol=1e-5, atol=1e-6)
    # Keras records the first call's concrete shape
    assert model.get_config()["build_input_shape"] == (4, 5)
    assert model(_x(7, 5)).shape == (7, 2)


def test_input_first_builds_immediately():
    model = callax.Sequential([callax.Input((5,)), layers.Dense(3), layers.Dense(1)])
    assert model.built and len(model.weights) == 4
    assert model.input_shape == (None, 5) and model.output_shape == (None, 1)
    assert [type(x).__name__ for x in model.layers] == ["Dense", "Dense"]
    assert model.layers[0]._build_shapes == (None, 5)


def test_input_shape_kwarg_on_first_layer():
    model = callax.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2)
    assert model.get_config()["layers"][0]["class_name"] == "InputLayer"
    assert model.get_config()["build_input_shape"] == (None, 4)


def test_explicit_build():
    model = callax.Sequential([layers.Dense(3)])
    model.build((None, 6))
    assert model.weights[0].shape == (6, 3) and model.output_shape == (None, 3)


def test_add_and_pop():
    model = callax.Sequential()
    model.add(callax.Input((4,)))
    model.add(layers.Dense(3))
    assert model.built and model.output_shape == (None, 3)
    model.add(layers.Dense(2, name="head"))
    assert model.output_shape == (None, 2) and len(model.weights) == 4
    popped = model.pop()
    assert popped.name == "head" and model.output_shape == (None, 3)
    assert [x.name for x in model.layers] == ["dense"]
    model.pop()
    with pytest.raises(TypeError, match="no layers"):
        model.pop()
    with pytest.raises(TypeError, match="expects a layer instance"):
        model.add("dense")
    seq = callax.Sequential([layers.Dense(1)])
    with pytest.raises(ValueError, match="only be the first"):
        seq.add(callax.layers.InputLayer(shape=(3,)))
    with pytest.raises(ValueError, match="unique name"):
        seq.add(layers.Dense(1, name="dense_3"))
        seq.add(layers.Dense(1, name="dense_3"))


def test_training_reaches_layers():
    model = callax.Sequential([callax.Input((64,)), layers.Dense(64), layers.Dropout(0.5)])
    x = _x(4, 64)
    np.testing.assert_allclose(model(x), model.layers[0](x), rtol=1e-6)
    y = np.asarray(model(x, training=True))
    assert (y == 0).any()


def test_nested_sequential_in_functional_and_config():
    block = callax.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="block")
    inputs = callax.Input((3,))
    model = callax.Model(inputs, block(inputs))
    assert block.built and block.input_shape == (None, 3)
    x = _x(2, 3)
    np.testing.assert_allclose(model(x), block(x), rtol=1e-6)
    config = model.get_config()
    assert config["layers"][1]["class_name"] == "Sequential"
    clone = callax.Model.from_config(config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x), model(x), rtol=1e-6)


def test_empty_and_bad_builds():
    with pytest.raises(ValueError, match="no layers"):
        callax.Sequential().build((None, 3))
    model = callax.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="Dense 'dense'"):
        model.build((None, None))


def test_masks_flow_through_sequential():
    emb = layers.Embedding(10, 4, mask_zero=True)
    model = callax.Sequential([emb, layers.LSTM(3)])
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    y = model(ids)
    # a masked LSTM equals the LSTM run on the unpadded prefix
    lstm = model.layers[1]
    first = lstm(emb(ids[:1, :2]))
    np.testing.assert_allclose(y[:1], first, rtol=1e-5, atol=1e-6)


def test_add_extends_a_built_model_and_a_failed_add_changes_nothing():
    model = callax.Sequential([callax.Input((16,))])
    for _ in range(3):
        model.add(layers.Dense(16))
    assert model.output_shape == (None, 16) and len(model.weights) == 6
    with pytest.raises(ValueError, match="Reshape 'bad'"):
        model.add(layers.Reshape((3, 5), name="bad"))
    assert len(model.layers) == 3 and model.output_shape == (None, 16)
    x = _x(2, 16)
    ref = x
    for layer in model.layers:
        ref = layer(ref)
    np.testing.assert_allclose(model(x), ref, rtol=1e-6)
