"""``model.call(x, training=True)`` called directly applies ``training`` (Keras 3 does):
Dropout is on inside a Sequential/Functional called through ``.call``."""

import numpy as np

import callax as keras


def _sequential():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dropout(0.5)])


def _functional(node_training=None):
    inp = keras.Input((64,))
    out = keras.layers.Dropout(0.5)(inp, training=node_training)
    return keras.Model(inp, out)


def _dropped(y):
    return int((np.asarray(y) == 0).sum())


def test_sequential_call_training_true_applies_dropout():
    model = _sequential()
    x = np.ones((4, 64), "float32")
    assert _dropped(model.call(x, training=True)) > 0
    np.testing.assert_array_equal(model.call(x, training=False), x)
    np.testing.assert_array_equal(model.call(x), x)


def test_functional_call_training_true_applies_dropout():
    model = _functional()
    x = np.ones((4, 64), "float32")
    assert _dropped(model.call(x, training=True)) > 0
    np.testing.assert_array_equal(model.call(x, training=False), x)
    np.testing.assert_array_equal(model.call(x), x)


def test_functional_model_training_overrides_node_training_as_keras():
    # Keras 3: the model's explicit `training` replaces the value recorded on the node;
    # with none given, the recorded one applies.
    model = _functional(node_training=True)
    x = np.ones((4, 64), "float32")
    np.testing.assert_array_equal(model(x, training=False), x)
    assert _dropped(model(x)) > 0


def test_nested_sequential_call_training():
    inner = _sequential()
    outer = keras.Sequential([keras.Input((64,)), inner])
    x = np.ones((4, 64), "float32")
    assert _dropped(outer.call(x, training=True)) > 0
    np.testing.assert_array_equal(outer.call(x, training=False), x)
