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
            self.dense = lib.layers.Dense(2)

        def call(self, x):
            with lib.name_scope("inner"):
                return self.dense(x)

    with lib.name_scope("outer"):
        v = lib.Variable(np.zeros((2,), "float32"), name="w")
        d = lib.layers.Dense(2)
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
