"""Bad input gets an exception that names the layer/model/argument, what was
expected and what was received, never a raw JAX error or a silent wrong result."""

import math

import numpy as np
import pytest

import callax


# ------------------------------------------------- call() without `return`
class _NoReturn(callax.Model):
    def __init__(self):
        super().__init__()
        self.d = callax.layers.Dense(1)

    def call(self, x):
        self.d(x)  # forgot `return`


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_call_returning_none_is_named(method):
    model = _NoReturn()
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    args = (x,) if method == "predict" else (x, y)
    with pytest.raises(TypeError, match=r"_NoReturn\.call\(\).*'no_return'.*returned None.*return"):
        getattr(model, method)(*args, verbose=0)


def test_custom_predict_step_may_return_anything():
    class Custom(_NoReturn):
        def predict_step(self, state, data):
            trainable, non_trainable = state
            return data[0] * 0 + 5.0 if isinstance(data, tuple) else data * 0 + 5.0, non_trainable

    out = Custom().predict(np.ones((4, 3), "float32"), verbose=0)
    np.testing.assert_allclose(out, np.full((4, 3), 5.0))


def test_call_returning_python_float_in_predict():
    class Const(callax.Model):
        def call(self, x):
            return 1.0

    with pytest.raises(ValueError, match=r"Const\.call\(\).*scalar.*batch dimension"):
        Const().predict(np.ones((4, 2), "float32"), verbose=0)


# ------------------------------------------------------ learning rates
@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "AdamW", "Lion"])
@pytest.mark.parametrize("lr", [-0.1, math.nan])
def test_negative_or_nan_learning_rate_is_refused(cls, lr):
    with pytest.raises(ValueError, match=r"`learning_rate` must be a non-negative.*received"):
        getattr(callax.optimizers, cls)(learning_rate=lr)


def test_learning_rate_setter_checks_too_and_zero_is_fine():
    opt = callax.optimizers.SGD(learning_rate=0.0)
    opt.learning_rate = 0.25
    assert float(np.asarray(opt.learning_rate.value)) == 0.25
    with pytest.raises(ValueError, match="received learning_rate=-1"):
        opt.learning_rate = -1
    assert float(np.asarray(opt.learning_rate.value)) == 0.25  # unchanged


# ------------------------------------------------------- Dense input dtypes
@pytest.mark.parametrize(
    "inputs, what",
    [(np.array([["a", "b"]]), "strings"), (np.array([[object(), 1.0]], dtype=object), "objects")],
)
def test_dense_refuses_non_numeric_inputs(inputs, what):
    layer = callax.layers.Dense(3, name="head")
    with pytest.raises(TypeError, match=rf"Dense 'head'.*numeric.*dtype .*{what}"):
        layer(inputs)


def test_dense_accepts_numeric_object_bool_and_float64_arrays_as_keras():
    layer = callax.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    expected = np.array([[3.0, 3.0]], "float32")
    for inputs in (
        np.array([[1, 2]], dtype=object),
        np.array([[1.0, 2.0]], "float64"),
        np.array([[1, 2]], "int64"),
    ):
        np.testing.assert_allclose(np.asarray(layer(inputs)), expected)
    np.testing.assert_allclose(np.asarray(layer(np.array([[True, True]]))), [[2.0, 2.0]])


# ------------------------------------------------------------ Embedding ids
@pytest.mark.parametrize("ids, bad", [([12], "12"), ([3, -1], "-1"), ([[1, 10]], "10")])
@pytest.mark.parametrize("as_jax", [False, True])
def test_embedding_out_of_range_id_eager_error(ids, bad, as_jax):
    import jax.numpy as jnp

    layer = callax.layers.Embedding(10, 2, name="tokens")
    ids = jnp.asarray(ids) if as_jax else np.asarray(ids)
    with pytest.raises(ValueError, match=rf"Embedding 'tokens'.*\[0, 10\).*received id {bad}\b"):
        layer(ids)


def test_embedding_out_of_range_under_jit_is_a_nan_row():
    import jax
    import jax.numpy as jnp

    layer = callax.layers.Embedding(10, 2)
    table = np.arange(20, dtype="float32").reshape(10, 2)
    layer.build()
    layer.embeddings.assign(table)
    out = np.asarray(jax.jit(lambda ids: layer(ids))(jnp.asarray([1, 12, -1, 9])))
    np.testing.assert_array_equal(out[0], table[1])
    np.testing.assert_array_equal(out[3], table[9])
    assert np.isnan(out[1]).all() and np.isnan(out[2]).all()  # never a clamped row


def test_embedding_float_ids():
    import jax
    import jax.numpy as jnp

    layer = callax.layers.Embedding(10, 2, name="tokens")
    table = np.arange(20, dtype="float32").reshape(10, 2)
    layer.build()
    layer.embeddings.assign(table)
    # Whole-number floats are accepted (Keras casts them).
    np.testing.assert_array_equal(np.asarray(layer(np.array([1.0, 2.0]))), table[[1, 2]])
    for ids in (np.array([1.5, 2.7]), jnp.asarray([2.0, 2.5])):
        with pytest.raises(ValueError, match=r"Embedding 'tokens'.*integer ids.*non-integer id"):
            layer(ids)
    out = np.asarray(jax.jit(lambda ids: layer(ids))(jnp.asarray([2.0, 2.5])))
    np.testing.assert_array_equal(out[0], table[2])
    assert np.isnan(out[1]).all()  # not truncated to id 2


def test_embedding_in_range_ids_unchanged_and_trainable():
    model = callax.Sequential([callax.Input((3,), dtype="int32"), callax.layers.Embedding(5, 2)])
    model.compile("sgd", "mse")
    ids = np.array([[0, 1, 4], [2, 3, 4]])
    history = model.fit(ids, np.zeros((2, 3, 2), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    table = np.asarray(model.layers[0].embeddings.value)
    np.testing.assert_allclose(np.asarray(model(ids)), table[ids], rtol=1e-6)


def test_embedding_device_side_id_stats():
    # The reduction used when ids live on an accelerator (three numbers come back).
    import jax
    import jax.numpy as jnp

    from callax.layers.core.embedding import _id_stats

    low, high, fractional = jax.device_get(_id_stats(jnp.asarray([[3, -2], [7, 12]])))
    assert (int(low), int(high), bool(fractional)) == (-2, 12, False)
    low, high, fractional = jax.device_get(_id_stats(jnp.asarray([1.0, 2.5])))
    assert (float(low), float(high), bool(fractional)) == (1.0, 2.5, True)


@pytest.mark.parametrize(
    "value, shown", [("hello", "str 'hello'"), (None, "None"), ({"a": 1}, "dict"), (3j, "complex")]
)
def test_numeric_layer_given_a_non_tensor_says_what_it_got(value, shown):
    with pytest.raises(TypeError, match=rf"Dense 'd' expects a tensor.*received {shown}"):
        callax.layers.Dense(3, name="d")(value)


@pytest.mark.parametrize("method", ["train_on_batch", "test_on_batch", "predict_on_batch"])
def test_call_returning_none_is_named_on_batch(method):
    model = _NoReturn()
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    args = (x,) if method == "predict_on_batch" else (x, y)
    with pytest.raises(TypeError, match=rf"{method}: _NoReturn\.call\(\).*returned None"):
        getattr(model, method)(*args)
