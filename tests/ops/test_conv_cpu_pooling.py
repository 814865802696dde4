"""The CPU max-pool route (``callax.ops.convolution._sliced_window_max``): values and
gradients identical to ``lax.reduce_window``'s, ties included."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import callax
from callax.ops import convolution
from callax.ops.convolution import window_max

pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU route only")


def _reference(x, window, step, padding):
    return lax.reduce_window(x, np.array(-np.inf, x.dtype), lax.max, window, step, padding)


CASES = [
    ((2, 6, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
    ((2, 7, 7, 3), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),  # odd size: the last row is dropped
    ((2, 7, 7, 3), (1, 2, 2, 1), (1, 2, 2, 1), "SAME"),
    ((2, 7, 7, 3), (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),  # overlapping windows
    ((2, 3, 7, 7), (1, 1, 2, 2), (1, 1, 1, 1), "VALID"),  # channels first, stride 1
    ((2, 9, 3), (1, 3, 1), (1, 2, 1), "VALID"),  # 1-D
    ((1, 4, 4, 4, 2), (1, 2, 2, 2, 1), (1, 2, 2, 2, 1), "VALID"),  # 3-D
]


@pytest.mark.parametrize("shape,window,step,padding", CASES)
def test_values_and_gradients_match_reduce_window_with_ties(shape, window, step, padding):
    # relu + rounding: many windows hold equal maxima (all zeros, repeated values),
    # where the gradient must go to the first maximum only, as select_and_scatter does.
    x = jnp.round(jax.nn.relu(jax.random.normal(jax.random.key(0), shape)), 1)
    ours = lambda x: window_max(x, window, step, padding)  # noqa: E731
    ref = lambda x: _reference(x, window, step, padding)  # noqa: E731
    np.testing.assert_array_equal(ours(x), ref(x))
    g = jax.random.normal(jax.random.key(1), ref(x).shape)
    for transform in (lambda f: f, jax.jit):
        d_ours = transform(jax.grad(lambda x: jnp.vdot(ours(x), g)))(x)
        d_ref = transform(jax.grad(lambda x: jnp.vdot(ref(x), g)))(x)
        np.testing.assert_array_equal(d_ours, d_ref)


def test_jvp_vmap_and_second_order():
    window, step = (1, 2, 2, 1), (1, 2, 2, 1)
    x = jax.random.normal(jax.random.key(0), (3, 2, 6, 6, 2))
    ours = lambda x: window_max(x, window, step, "VALID")  # noqa: E731
    ref = lambda x: _reference(x, window, step, "VALID")  # noqa: E731
    t = jax.random.normal(jax.random.key(1), x.shape[1:])
    for a, b in zip(jax.jvp(ours, (x[0],), (t,)), jax.jvp(ref, (x[0],), (t,))):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(jax.vmap(ours)(x), jax.vmap(ref)(x))

    def second(f):
        return jax.grad(lambda x: jnp.sum(jax.grad(lambda x: jnp.sum(f(x) ** 3))(x) ** 2))(x[0])

    np.testing.assert_allclose(second(ours), second(ref), rtol=1e-6)


def test_route_bounds():
    x = jnp.arange(2 * 8 * 8 * 1, dtype=jnp.float32).reshape(2, 8, 8, 1)
    # 4x4 windows (16 slices) and integer inputs keep reduce_window; same values.
    big = jax.make_jaxpr(lambda x: window_max(x, (1, 4, 4, 1), (1, 4, 4, 1), "VALID"))(x)
    small = jax.make_jaxpr(lambda x: window_max(x, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"))(x)
    ints = jax.make_jaxpr(lambda x: window_max(x, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"))(
        x.astype(jnp.int32)
    )
    assert "reduce_window_max" in str(big) and "reduce_window_max" in str(ints)
    assert "reduce_window_max" not in str(small) and "custom_jvp_call" in str(small)


def test_other_backends_keep_reduce_window(monkeypatch):
    monkeypatch.setattr(convolution.jax, "default_backend", lambda: "gpu")
    x = jnp.ones((1, 4, 4, 1))
    jaxpr = jax.make_jaxpr(lambda x: window_max(x, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"))(x)
    assert "reduce_window_max" in str(jaxpr)


def test_max_pooling_layer_gradient_unchanged():
    x = jnp.round(jax.random.normal(jax.random.key(2), (2, 9, 9, 3)), 1)
    layer = callax.layers.MaxPooling2D(3, strides=2, padding="same")
    ref = lambda x: _reference(x, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")  # noqa: E731
    np.testing.assert_array_equal(layer(x), ref(x))
    np.testing.assert_array_equal(
        jax.grad(lambda x: jnp.sum(jnp.sin(layer(x))))(x),
        jax.grad(lambda x: jnp.sum(jnp.sin(ref(x))))(x),
    )
