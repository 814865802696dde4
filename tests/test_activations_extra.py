"""The activations added for Keras 3 parity (celu, glu, hard_shrink, hard_tanh,
log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
tanh_shrink, threshold) and ``deserialize``: numpy formulas, Keras 3 as oracle,
gradients, lookup by name, serialization round trips, bad input."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from callax import activations

X = np.linspace(-3.0, 3.0, 25, dtype="float32").reshape(5, 5)
# Points away from the kinks (where the one-sided derivatives differ).
SMOOTH = np.array([[-2.7, -1.3, -0.2, 0.3, 0.7, 1.6, 2.4]], dtype="float32")


def _sparsemax_np(z):
    """Sparsemax by the sort-based definition, row by row."""
    rows = np.array(z, dtype="float64").reshape(-1, z.shape[-1])
    out = np.zeros_like(rows)
    for i, row in enumerate(rows):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(s) + 1)
        css = np.cumsum(s)
        kz = k[1 + k * s > css].max()
        tau = (css[kz - 1] - 1) / kz
        out[i] = np.maximum(row - tau, 0)
    return out.reshape(z.shape)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


FORMULAS = {
    "celu": (lambda x: activations.celu(x, alpha=0.7),
             lambda x: np.maximum(x, 0) + np.minimum(0.7 * (np.exp(x / 0.7) - 1), 0)),
    "glu": (activations.glu, lambda x: np.concatenate([x, x[:, :1]], 1)[:, :3]
            * _sigmoid(np.concatenate([x, x[:, :1]], 1)[:, 3:])),
    "hard_shrink": (lambda x: activations.hard_shrink(x, 1.0),
                    lambda x: np.where(np.abs(x) > 1.0, x, 0)),
    "hard_tanh": (activations.hard_tanh, lambda x: np.clip(x, -1, 1)),
    "log_sigmoid": (activations.log_sigmoid, lambda x: np.log(_sigmoid(x))),
    "soft_shrink": (lambda x: activations.soft_shrink(x, 0.5),
                    lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    "sparse_plus": (activations.sparse_plus,
                    lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    "sparse_sigmoid": (activations.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1)),
    "sparsemax": (activations.sparsemax, _sparsemax_np),
    "squareplus": (lambda x: activations.squareplus(x, b=2),
                   lambda x: (x + np.sqrt(x * x + 2)) / 2),
    "tanh_shrink": (activations.tanh_shrink, lambda x: x - np.tanh(x)),
    "threshold": (lambda x: activations.threshold(x, 0.5, -7.0),
                  lambda x: np.where(x > 0.5, x, -7.0)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_matches_numpy_formula(name):
    fn, ref = FORMULAS[name]
    x = X if name != "glu" else np.concatenate([X, X[:, :1]], 1)  # glu needs an even axis
    np.testing.assert_allclose(np.asarray(fn(x)), ref(X), rtol=1e-5, atol=1e-6)


def test_glu_halves_on_the_given_axis():
    x = np.arange(8, dtype="float32").reshape(4, 2)
    want = x[:2] * _sigmoid(x[2:])
    np.testing.assert_allclose(np.asarray(activations.glu(x, axis=0)), want, rtol=1e-6)


def test_sparsemax_on_other_axis_sums_to_one_with_exact_zeros():
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32") * 3
    out = np.asarray(activations.sparsemax(x, axis=1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert (out == 0).any() and (out >= 0).all()
    np.testing.assert_allclose(
        out, np.moveaxis(_sparsemax_np(np.moveaxis(x, 1, -1)), -1, 1), rtol=1e-5, atol=1e-6
    )


# Not sparsemax: Keras 3.15's JAX sparsemax sums the cumulative sums of the whole
# support into tau, so its rows do not sum to 1; the numpy definition checks ours.
@pytest.mark.parametrize("name", sorted(set(FORMULAS) - {"sparsemax"}))
def test_matches_keras(name):
    keras = pytest.importorskip("keras")
    kwargs = {"celu": {"alpha": 0.7}, "hard_shrink": {"threshold": 1.0},
              "soft_shrink": {"threshold": 0.5}, "squareplus": {"b": 2},
              "threshold": {"threshold": 0.5, "default_value": -7.0}}.get(name, {})  # fmt: skip
    x = X if name != "glu" else np.concatenate([X, X[:, :1]], 1)
    want = np.asarray(getattr(keras.activations, name)(x, **kwargs))
    got = np.asarray(getattr(activations, name)(x, **kwargs))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_signatures_and_defaults_match_keras():
    keras = pytest.importorskip("keras")
    for name in FORMULAS:
        ours = inspect.signature(getattr(activations, name))
        theirs = inspect.signature(getattr(keras.activations, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        for p in ours.parameters.values():
            assert p.default == theirs.parameters[p.name].default, (name, p.name)


@pytest.mark.parametrize(
    "name",
    ["celu", "glu", "log_sigmoid", "soft_shrink", "sparse_plus", "sparsemax", "squareplus",
     "tanh_shrink", "hard_tanh", "sparse_sigmoid"],
)  # fmt: skip
def test_gradients(name):
    fn = FORMULAS[name][0]
    x = jnp.asarray(SMOOTH if name != "glu" else SMOOTH[:, :6])
    if name in ("hard_tanh", "sparse_sigmoid"):
        x = x * 0.3  # stay inside the linear part, away from the clip points
    if name == "sparsemax":
        x = jnp.asarray([[0.9, 0.5, -0.4, 0.1]])  # support size 3, away from ties
    check_grads(lambda v: fn(v), (x,), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_get_serialize_deserialize_by_name(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn
    assert activations.serialize(fn) == name
    assert activations.deserialize(name) is fn
    cfg = {"module": "keras.activations", "class_name": "function", "config": name,
           "registered_name": name}  # fmt: skip
    assert activations.deserialize(cfg) is fn


def test_keras_serialized_activation_deserializes():
    keras = pytest.importorskip("keras")
    cfg = keras.saving.serialize_keras_object(keras.activations.squareplus)
    assert activations.deserialize(cfg) is activations.squareplus
    assert activations.get(cfg) is activations.squareplus


def test_deserialize_custom_objects_and_errors():
    def mine(x):
        return x

    assert activations.deserialize("mine", custom_objects={"mine": mine}) is mine
    with pytest.raises(ValueError, match="Unknown activation 'nope'"):
        activations.deserialize("nope")
    with pytest.raises(ValueError, match=r"activations.deserialize.*received 3"):
        activations.deserialize(3)


def test_glu_odd_axis_is_refused():
    with pytest.raises(ValueError, match=r"glu.*even.*received an input of shape \(2, 3\)"):
        activations.glu(np.ones((2, 3), "float32"))


def test_jit_and_dtype():
    x = jnp.asarray(X, dtype=jnp.bfloat16)
    for name in FORMULAS:
        fn = FORMULAS[name][0]
        arg = x if name != "glu" else x[:, :4]
        out = jax.jit(fn)(arg)
        assert out.dtype == jnp.bfloat16, name
