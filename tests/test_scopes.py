"""Top-level Keras 3 names: name_scope (variable paths as in Keras), device,
remat, SymbolicScope, Operation, Function, FloatDTypePolicy."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax

X = np.ones((2, 3), "float32")


def _paths(lib):
    class Block(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(2, name="dense_1")  # (Keras's counters run on)

        def call(self, x):
            with lib.name_scope("inner"):
                return self.dense(x)

    with lib.name_scope("outer"):
        v = lib.Variable(np.zeros((2,), "float32"), name="w")
        d = lib.layers.Dense(2, name="dense")
        d(X)
    b = Block(name="block")
    b(X)
    return [v.path, d.kernel.path, b.dense.kernel.path]


def test_name_scope_paths_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    ours = _paths(callax)
    theirs = _paths(keras)
    assert ours == theirs == ["outer/w", "outer/dense/kernel", "block/inner/dense_1/kernel"]


def test_name_scope_bad_name():
    with pytest.raises(ValueError, match="non-empty string"):
        callax.name_scope(3)


def test_device_scope():
    with callax.device("cpu:1"):
        x = jnp.ones((2,))
    assert next(iter(x.devices())) == jax.devices("cpu")[1]
    with pytest.raises(ValueError, match="no 'tpu' device|device"):
        callax.device("tpu:0")


def test_remat_same_values_and_gradients():
    def f(x):
        return jnp.sum(jnp.tanh(x) ** 2)

    g = callax.remat(f)
    x = jnp.arange(3.0)
    np.testing.assert_allclose(g(x), f(x))
    np.testing.assert_allclose(jax.grad(g)(x), jax.grad(f)(x), rtol=1e-6)
    assert "remat" in str(jax.make_jaxpr(jax.grad(g))(x)) or "checkpoint" in str(
        jax.make_jaxpr(jax.grad(g))(x)
    )


def test_symbolic_scope():
    from callax.scopes import in_symbolic_scope

    assert not in_symbolic_scope()
    with callax.SymbolicScope():
        assert in_symbolic_scope()
    assert not in_symbolic_scope()


def test_operation_eager_and_in_graph_and_function():
    class Scale(callax.Operation):
        def call(self, x, factor=3.0):
            return x * factor

    np.testing.assert_allclose(Scale()(X), X * 3)
    inp = callax.Input((3,))
    model = callax.Model(inp, callax.layers.Dense(2)(Scale()(inp, factor=2.0)))
    d = model.layers[-1]
    want = (X * 2) @ np.asarray(d.kernel.value) + np.asarray(d.bias.value)
    np.testing.assert_allclose(model(X), want, atol=1e-6)
    fn = callax.Function(inp, callax.ops.sum(Scale()(inp), axis=-1))
    np.testing.assert_allclose(fn(X), np.full((2,), 9.0))


def test_float_dtype_policy_alias():
    assert callax.FloatDTypePolicy("mixed_float16").compute_dtype == "float16"


def _jaxpr(layer, x):
    return str(jax.make_jaxpr(lambda x: layer(x))(x))


def test_remat_scope_modes():
    x = jnp.ones((2, 3))
    with callax.RematScope(mode="full"):
        full = callax.layers.Dense(4)
        bn = callax.layers.BatchNormalization()
    with callax.RematScope(mode="list_of_layers", layer_names=["picked"]):
        picked = callax.layers.Dense(4, name="picked")
        other = callax.layers.Dense(4, name="other")
    with callax.RematScope(mode="larger_than", output_size_threshold=10):
        big, small = callax.layers.Dense(8), callax.layers.Dense(2)
    with callax.RematScope(mode="activations"):
        act = callax.layers.Dense(4, activation="relu")
    plain = callax.layers.Dense(4)
    for layer, want in [(full, True), (picked, True), (other, False), (big, True),
                        (small, False), (act, True), (plain, False)]:  # fmt: skip
        layer(x)
        assert ("remat" in _jaxpr(layer, x)) is want, layer.name
    bn(x, training=True)  # state-writing layers run as they are
    assert "remat" not in _jaxpr(bn, x)
    with pytest.raises(ValueError, match="mode must be one of"):
        callax.RematScope(mode="some")


def test_remat_scope_fit_matches_plain_model():
    def make(scope):
        callax.utils.set_random_seed(0)
        with callax.RematScope(mode=scope):
            model = callax.Sequential(
                [
                    callax.Input((3,)),
                    callax.layers.Dense(8, activation="tanh"),
                    callax.layers.Dense(1),
                ]
            )
        model.compile("sgd", "mse")
        return model

    x = np.random.RandomState(0).randn(16, 3).astype("float32")
    y = np.random.RandomState(1).randn(16, 1).astype("float32")
    a, b = make("full"), make(None)
    a.set_weights(b.get_weights())
    a.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    b.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, atol=1e-6)
