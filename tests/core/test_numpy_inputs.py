"""NumPy inputs convert once, to the same values a JAX input gives (issue 13 item 1)."""

import jax
import jax.numpy as jnp
import numpy as np

import callax
from callax.core import call_context


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


# ------------------------------------------------------------------------------------
# A NumPy array that needs no cast goes straight into a built-in layer's compiled
# kernel (its jitted call converts it); every other path converts it first.


def _np(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def test_numpy_array_mutated_between_calls_is_read_afresh():
    layer = callax.layers.Dense(8, activation="relu")
    model = callax.Sequential([callax.layers.Dense(8), callax.layers.Dense(3)])
    concat = callax.layers.Concatenate()
    x = _np(4, 5)
    y = _np(4, 2, seed=1)
    for _ in range(2):  # the second round runs the cached kernels
        for call in (layer, model):
            before = np.asarray(call(x))
            np.testing.assert_array_equal(before, np.asarray(call(jnp.asarray(x))))
        np.testing.assert_array_equal(np.asarray(concat([x, y])), np.concatenate([x, y], axis=-1))
        x *= -2.0  # in place: the same object with new values
        y += 1.0
        after = layer(x)
        np.testing.assert_array_equal(np.asarray(after), np.asarray(layer(jnp.asarray(x))))
        assert not np.array_equal(np.asarray(after), before)


def test_kernel_output_is_a_jax_array_and_models_convert_once(monkeypatch):
    import callax.core.call as call_module
    import callax.core.kernels as kernels_module

    converted = []
    real = call_module._from_numpy
    monkeypatch.setattr(call_module, "_from_numpy", lambda a, d: converted.append(a) or real(a, d))
    seen = []

    class Probe(callax.layers.Layer):
        def call(self, x):
            seen.append(type(x))
            return x

    x = _np(6, 4)
    layer = callax.layers.Dense(3)
    layer(x)  # builds
    stats = kernels_module.kernel_stats()["hits"]
    out = layer(x)
    assert isinstance(out, jax.Array)
    assert converted == []  # into the kernel as it is
    assert kernels_module.kernel_stats()["hits"] == stats + 1
    model = callax.Sequential([callax.layers.Dense(5), Probe(), callax.layers.Dense(2)])
    model(x)
    converted.clear()
    assert isinstance(model(x), jax.Array)
    assert len(converted) == 1  # the model's own call converts; its layers get JAX arrays
    assert seen[-1] is not np.ndarray and issubclass(seen[-1], jax.Array)


def test_hooks_and_listeners_see_jax_arrays_for_numpy_inputs():
    layer = callax.layers.Dense(3)
    x = _np(2, 4)
    seen = []
    handle = layer.register_forward_pre_hook(lambda lyr, args: seen.append(type(args[0])))
    with handle:
        out = layer(x)
        layer(x)
    assert all(issubclass(t, jax.Array) for t in seen) and len(seen) == 2
    np.testing.assert_array_equal(np.asarray(out), np.asarray(layer(jnp.asarray(x))))

    class Listener:
        def on_call_start(self, frame, args, kwargs):
            seen.append(type(args[0]))

        def on_call_end(self, frame, outputs, error, built_here):
            pass

    seen.clear()
    with call_context.listening(Listener()):
        layer(x)
    assert len(seen) == 1 and issubclass(seen[0], jax.Array)


def test_numpy_inputs_on_other_paths():
    x = _np(4, 6)
    # a strided view (not contiguous) and a Fortran-ordered copy
    for a in (x[:, ::2], np.asfortranarray(x[:, :3])):
        layer = callax.layers.Dense(2)
        np.testing.assert_array_equal(np.asarray(layer(a)), np.asarray(layer(jnp.asarray(a))))
    # a layer with a kernel only in training (Dropout): both ways
    drop = callax.layers.Dropout(0.5, seed=1)
    np.testing.assert_array_equal(np.asarray(drop(x, training=False)), x)
    assert drop(x, training=True).shape == x.shape
    # int32 / bool pass through; int64 narrows as before
    emb = callax.layers.Embedding(10, 3)
    ids = np.array([[1, 2]], np.int32)
    np.testing.assert_array_equal(np.asarray(emb(ids)), np.asarray(emb(jnp.asarray(ids))))
    # a masked call (Masking computes the mask from the input) and remat
    masked = callax.layers.Masking(0.0)(np.array([[[0.0], [1.0]]], np.float32))
    np.testing.assert_array_equal(np.asarray(masked._keras_mask), [[False, True]])


def test_numpy_inputs_under_tracing_unchanged():
    layer = callax.layers.Dense(3)
    model = callax.Sequential([callax.layers.Dense(4), callax.layers.Dense(2)])
    x = _np(5, 3)
    want_layer, want_model = np.asarray(layer(x)), np.asarray(model(x))
    np.testing.assert_allclose(np.asarray(jax.jit(lambda a: layer(a))(x)), want_layer, 1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(lambda: model(x))()), want_model, 1e-5)
    np.testing.assert_allclose(np.asarray(callax.jit(model)(x)), want_model, 1e-5)
    jaxpr = jax.make_jaxpr(lambda: model(x))()
    assert jaxpr.out_avals[0].shape == (5, 2)
