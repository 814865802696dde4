"""Dtype policies: float32, bfloat16, mixed_float16, mixed_bfloat16."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import layers


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    callax.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "policy, compute, variable",
    [("float32", "float32", "float32"), ("bfloat16", "bfloat16", "bfloat16"),
     ("mixed_float16", "float16", "float32"), ("mixed_bfloat16", "bfloat16", "float32")],
)  # fmt: skip
def test_policies_dtypes_and_numerics(policy, compute, variable):
    callax.config.set_dtype_policy(policy)
    d = layers.Dense(8, activation="relu")
    x = np.random.default_rng(0).normal(size=(4, 16)).astype("float32")
    y = d(x)
    assert str(y.dtype) == compute and str(d.kernel.dtype) == variable
    assert d.compute_dtype == compute and d.variable_dtype == variable
    k = d.kernel.numpy().astype("float32")
    expected = np.maximum(x @ k, 0)
    tol = 1e-5 if compute == "float32" else 3e-2
    np.testing.assert_allclose(np.asarray(y, "float32"), expected, rtol=tol, atol=tol)


def test_per_layer_dtype_overrides_global():
    callax.mixed_precision.set_global_policy("mixed_bfloat16")
    d = layers.Dense(2, dtype="float32")
    assert d(jnp.ones((1, 3))).dtype == jnp.float32
    assert callax.mixed_precision.global_policy().name == "mixed_bfloat16"


def test_mixed_gradients_reach_float32_weights():
    import jax

    d = layers.Dense(2, dtype="mixed_bfloat16")
    x = jnp.ones((3, 4))
    d(x)
    tv = [v.value for v in d.trainable_variables]
    grads = jax.grad(lambda tv: d.stateless_call(tv, [], x)[0].astype("float32").sum())(tv)
    assert grads[0].dtype == jnp.float32
    np.testing.assert_allclose(grads[0], np.full((4, 2), 3.0), rtol=1e-2)


def test_unknown_policy():
    with pytest.raises(ValueError, match="Unknown dtype policy 'mixed_int8'"):
        callax.config.set_dtype_policy("mixed_int8")
