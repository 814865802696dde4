"""JaxLayer and FlaxLayer: parameters become trainable variables, state
non-trainable ones updated by the call; same outputs as Keras 3's wrappers for the
same params; fit trains them; weights save and load."""

import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax.layers import FlaxLayer, JaxLayer

X = np.random.RandomState(0).randn(8, 3).astype("float32")
Y = np.random.RandomState(1).randn(8, 2).astype("float32")


def init_fn(rng, inputs):
    k1, _ = jax.random.split(rng)
    params = {"w": jax.random.normal(k1, (inputs.shape[-1], 2)) * 0.5, "b": jnp.zeros((2,))}
    return params, {"count": jnp.zeros((), jnp.int32), "mean": jnp.zeros((2,))}


def call_fn(params, state, rng, inputs, training):
    y = inputs @ params["w"] + params["b"]
    if training:
        keep = jax.random.bernoulli(rng, 0.5, y.shape)
        y = jnp.where(keep, y / 0.5, 0.0)
        state = {"count": state["count"] + 1, "mean": y.mean(0)}
    return y, state


def test_jax_layer_variables_state_and_rng():
    layer = JaxLayer(call_fn, init_fn, seed=3)
    out = layer(X)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(2,), (3, 2)]
    assert len(layer.non_trainable_weights) == 2
    want = X @ np.asarray(layer.params["w"].value) + np.asarray(layer.params["b"].value)
    np.testing.assert_allclose(np.asarray(out), want, atol=1e-6)
    a = layer(X, training=True)
    assert int(layer.state["count"].value) == 1
    b = layer(X, training=True)
    assert int(layer.state["count"].value) == 2
    assert not np.array_equal(np.asarray(a), np.asarray(b))  # a new key per call


def test_jax_layer_matches_keras_for_same_params():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    params = {"w": np.random.RandomState(2).randn(3, 2).astype("float32")}

    def fn(params, inputs):
        return jnp.tanh(inputs @ params["w"])

    k, c = keras.layers.JaxLayer(fn, params=params), JaxLayer(fn, params=params)
    np.testing.assert_allclose(np.asarray(c(X)), np.asarray(k(X)), atol=1e-6)
    assert [tuple(w.shape) for w in c.weights] == [tuple(w.shape) for w in k.weights]


def test_jax_layer_fit_and_weights_round_trip(tmp_path):
    def make():
        return callax.Sequential([callax.Input((3,)), JaxLayer(call_fn, init_fn, seed=1)])

    model = make()
    model.compile("sgd", "mse")
    w0 = np.asarray(model.layers[0].params["w"].value).copy()
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    assert not np.allclose(np.asarray(model.layers[0].params["w"].value), w0)
    assert int(model.layers[0].state["count"].value) == 4  # updated in fit's steps
    path = str(tmp_path / "j.weights.h5")
    model.save_weights(path)
    other = make()
    other.load_weights(path)
    np.testing.assert_allclose(np.asarray(other(X)), np.asarray(model(X)), atol=1e-6)


class _Net(nn.Module):
    @nn.compact
    def __call__(self, x, training=False):
        x = nn.Dense(4)(x)
        x = nn.BatchNorm(use_running_average=not training)(x)
        x = nn.Dropout(0.5, deterministic=not training)(x)
        return nn.Dense(2)(x)


def test_flax_layer_params_batch_stats_and_fit(tmp_path):
    layer = FlaxLayer(_Net())
    model = callax.Sequential([callax.Input((3,)), layer])
    out = model(X)
    assert out.shape == (8, 2)
    assert len(layer.trainable_weights) == 6 and len(layer.non_trainable_weights) == 2
    variables = {**layer._values(layer.params), **layer._values(layer.state)}
    np.testing.assert_allclose(np.asarray(_Net().apply(variables, X)), np.asarray(out), atol=1e-6)
    stats = np.asarray(layer.state["batch_stats"]["BatchNorm_0"]["mean"].value).copy()
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(
        np.asarray(layer.state["batch_stats"]["BatchNorm_0"]["mean"].value), stats
    )
    path = str(tmp_path / "f.weights.h5")
    model.save_weights(path)
    other = callax.Sequential([callax.Input((3,)), FlaxLayer(_Net())])
    other.load_weights(path)
    np.testing.assert_allclose(np.asarray(other(X)), np.asarray(model(X)), atol=1e-5)


def test_flax_layer_with_given_variables():
    module = nn.Dense(2)
    variables = module.init(jax.random.PRNGKey(0), X)
    layer = FlaxLayer(module, variables=variables)
    np.testing.assert_allclose(
        np.asarray(layer(X)), np.asarray(module.apply(variables, X)), atol=1e-6
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="must take an `inputs` argument"):
        JaxLayer(lambda x: x)
    with pytest.raises(ValueError, match="unsupported argument `x`"):
        JaxLayer(lambda inputs, x: x)
    with pytest.raises(ValueError, match="cannot all be None"):
        JaxLayer(lambda params, inputs: inputs)
    with pytest.raises(TypeError, match="call_fn must be callable"):
        JaxLayer(3)


def test_jax_layer_keras_file_round_trip_with_registered_functions(tmp_path):
    @callax.saving.register_keras_serializable(package="h11test")
    def lin_init(rng, inputs):
        return {"w": jax.random.normal(rng, (inputs.shape[-1], 2))}

    @callax.saving.register_keras_serializable(package="h11test")
    def lin_call(params, inputs):
        return inputs @ params["w"]

    model = callax.Sequential([callax.Input((3,)), JaxLayer(lin_call, lin_init)])
    path = str(tmp_path / "j.keras")
    model.save(path)
    loaded = callax.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(model(X)), atol=1e-6)
