"""Pickling a model goes through the .keras format, as in Keras 3 (model, weights,
compile state and optimizer variables); an unbuilt model pickles as its config."""

import copy
import pickle

import numpy as np

import callax

X = np.random.RandomState(0).randn(6, 4).astype("float32")
Y = np.random.RandomState(1).randn(6, 2).astype("float32")


def test_pickle_round_trip_of_trained_functional_model():
    inp = callax.Input((4,))
    out = callax.layers.Dense(2)(callax.layers.Dense(8, activation="relu")(inp))
    model = callax.Model(inp, out)
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)
    # compile state and optimizer variables came along: training continues identically
    assert again.optimizer.iterations.value == model.optimizer.iterations.value == 2
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    again.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)


def test_pickle_sequential_and_deepcopy():
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(3)])
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert other is not model
        np.testing.assert_allclose(np.asarray(other(X)), np.asarray(model(X)), atol=1e-6)
        assert other.layers[0].kernel is not model.layers[0].kernel


def test_pickle_unbuilt_model_gives_its_config():
    model = callax.Sequential([callax.layers.Dense(3, name="d")])
    other = pickle.loads(pickle.dumps(model))
    assert not other.built and other.layers[0].name == "d"
    assert other(X).shape == (6, 3)


def test_pickle_keeps_lora_factors():
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(2)])
    model.layers[0].enable_lora(2)
    model.layers[0].lora_kernel_b.assign(np.ones((2, 2), "float32"))
    again = pickle.loads(pickle.dumps(model))
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
