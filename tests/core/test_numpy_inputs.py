"""NumPy inputs convert once, to the same values a JAX input gives (issue 13 item 1)."""

import jax.numpy as jnp
import numpy as np

import callax


class _Two(callax.Model):
    def __init__(self):
        super().__init__()
        self.d1 = callax.layers.Dense(8, activation="relu")
        self.d2 = callax.layers.Dense(3)

    def call(self, a, b):
        return self.d2(self.d1(a) + self.d1(b))


def test_numpy_float32_input_matches_jax_input():
    layer = callax.layers.Dense(16, activation="relu")
    x = np.random.default_rng(0).normal(size=(32, 16)).astype(np.float32)
    want = layer(jnp.asarray(x))
    got = layer(x)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_numpy_float64_takes_policy_float32():
    model = _Two()
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))  # float64
    assert a.dtype == np.float64
    want = model(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32))
    got = model(a, b)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_numpy_float_takes_mixed_policy_compute_dtype():
    layer = callax.layers.Dense(4, dtype="mixed_float16")
    x = np.ones((2, 3), np.float32)
    assert layer(x).dtype == jnp.float16
    assert layer(x.astype(np.float64)).dtype == jnp.float16


def test_numpy_ints_stay_ints():
    emb = callax.layers.Embedding(10, 4)
    ids = np.array([[1, 2, 3]], dtype=np.int64)
    out = emb(ids)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(emb(jnp.asarray(ids))))

    seen = []

    class Probe(callax.layers.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return x

    Probe()(np.array([1, 2], dtype=np.int32))
    assert seen[-1] == jnp.int32


def test_numpy_strings_stay_on_host():
    seen = []

    class Probe(callax.layers.Layer):
        def call(self, x):
            seen.append(type(x))
            return x

    words = np.array(["a", "bb"])
    out = Probe()(words)
    assert seen[-1] is np.ndarray
    assert out is words
