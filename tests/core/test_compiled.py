"""Per-layer kernels (compiled at first sight, shared by interchangeable layers),
callax.jit, and the global switch."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import layers
from callax.core import kernels


class Counting(callax.Model):
    """A user model with a Python side effect in call."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.d1 = layers.Dense(8, activation="relu")
        self.drop = layers.Dropout(0.5, seed=3)
        self.d2 = layers.Dense(3)

    def call(self, x, training=False):
        self.calls += 1
        return self.d2(self.drop(self.d1(x)))


def _op_by_op(model, x, **kw):
    """The reference: the same call traced op by op (no kernels) via stateless_call."""
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    out, new = model.stateless_call(tv, ntv, x, **kw)
    return out, new


def test_kernel_compiles_at_first_sighting_and_results_identical():
    d = layers.Dense(4, activation="tanh")
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 3)), jnp.float32)
    kernels.reset_kernel_stats()
    first = d(x)  # builds, then compiles this signature's kernel
    assert kernels.kernel_stats() == {"compiles": 1, "shared": 0, "hits": 1}
    second = d(x)
    third = d(x)
    assert kernels.kernel_stats() == {"compiles": 1, "shared": 0, "hits": 3}
    d(jnp.ones((7, 3)))  # a new shape: one more kernel
    assert kernels.kernel_stats()["compiles"] == 2
    ref, _ = _op_by_op(d, x)
    for y in (first, second, third):
        np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-7)


def test_interchangeable_layers_share_one_kernel_each_with_its_own_weights():
    x = jnp.asarray(np.random.default_rng(1).normal(size=(4, 6)), jnp.float32)
    blocks = [layers.Dense(6, activation="relu") for _ in range(5)]
    other = layers.Dense(6, activation="tanh")  # a different setting: its own kernel
    kernels.reset_kernel_stats()
    for block in blocks + [other]:
        block(x)  # builds, then compiles or shares
    stats = kernels.kernel_stats()
    assert stats["compiles"] <= 2 and stats["shared"] >= 4, stats
    # Building the later layers did not invalidate the earlier ones' kernels.
    kernels.reset_kernel_stats()
    outs = [block(x) for block in blocks] + [other(x)]
    assert kernels.kernel_stats() == {"compiles": 0, "shared": 0, "hits": 6}
    for block, out in zip(blocks + [other], outs):
        act = np.tanh if block is other else (lambda z: np.maximum(z, 0))
        ref = act(np.asarray(x) @ block.kernel.numpy() + block.bias.numpy())
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_shared_dropout_kernels_advance_each_layers_own_seed_state():
    x = jnp.ones((3, 8))
    a, b = layers.Dropout(0.5, seed=1), layers.Dropout(0.5, seed=2)
    ref_a, ref_b = layers.Dropout(0.5, seed=1), layers.Dropout(0.5, seed=2)
    sa, sb = ref_a.seed_generator.state.value, ref_b.seed_generator.state.value
    for _ in range(3):
        ya, yb = a(x, training=True), b(x, training=True)
        ra, (sa,) = ref_a.stateless_call([], [sa], x, training=True)
        rb, (sb,) = ref_b.stateless_call([], [sb], x, training=True)
        np.testing.assert_array_equal(ya, ra)
        np.testing.assert_array_equal(yb, rb)
    np.testing.assert_array_equal(a.seed_generator.state.value, sa)
    np.testing.assert_array_equal(b.seed_generator.state.value, sb)
    assert not np.array_equal(ya, yb)


def test_frozen_batchnorm_does_not_share_a_training_kernel():
    x = jnp.asarray(np.random.default_rng(2).normal(size=(8, 3)), jnp.float32)
    live, frozen = layers.BatchNormalization(), layers.BatchNormalization()
    live(x), frozen(x)
    frozen.trainable = False  # Keras 3: a frozen BatchNormalization runs in inference mode
    y_live = live(x, training=True)
    y_frozen = frozen(x, training=True)
    np.testing.assert_allclose(y_frozen, np.asarray(x) / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert not np.allclose(y_live, y_frozen)


def test_user_call_side_effects_run_every_eager_call():
    m = Counting()
    x = jnp.ones((2, 4))
    for _ in range(5):
        m(x)
    assert m.calls == 5
    assert kernels.kernel_stats()["hits"] > 0  # while its Dense layers used kernels


def test_dropout_state_updates_identical_to_op_by_op():
    drop_a = layers.Dropout(0.5, seed=11)
    drop_b = layers.Dropout(0.5, seed=11)
    x = jnp.ones((4, 16))
    state = drop_b.seed_generator.state.value
    for _ in range(4):  # eager (first sighting), then compiled kernel calls
        ya = drop_a(x, training=True)
        yb, (state,) = drop_b.stateless_call([], [state], x, training=True)
        np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(drop_a.seed_generator.state.value, state)


def test_callax_jit_matches_eager_and_writes_state_back():
    m = Counting()
    x = jnp.asarray(np.random.default_rng(1).normal(size=(3, 4)), jnp.float32)
    m(x)  # build
    fast = callax.jit(m)
    np.testing.assert_allclose(fast(x), m(x), rtol=1e-6, atol=1e-6)
    seed_before = np.asarray(m.drop.seed_generator.state.value)
    ref, (ref_state,) = _op_by_op(m, x, training=True)
    y = fast(x, training=True)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(m.drop.seed_generator.state.value, ref_state)
    assert not np.array_equal(seed_before, ref_state)
    calls_before = m.calls
    for _ in range(3):
        fast(x, training=True)
    info = fast.cache_info()
    assert info["traces"] == 2  # training False and True: one trace each, no retrace
    assert m.calls == calls_before  # side effects ran at trace time only


def test_callax_jit_falls_back_with_one_warning():
    class Untraceable(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            if x.sum() > 0:  # Python logic on a tensor value
                return self.d(x)
            return -self.d(x)

    m = Untraceable()
    x = jnp.ones((1, 2))
    m(x)
    fast = callax.jit(m)
    with pytest.warns(UserWarning, match="cannot be traced.*TracerBoolConversionError"):
        y = fast(x)
    np.testing.assert_allclose(y, m(x))
    fast(x)  # no second warning (pytest config turns unexpected warnings into noise only)
    assert fast.cache_info()["eager_fallbacks"] == 2


def test_global_compiled_calls_switch():
    m = Counting()
    x = jnp.ones((2, 4))
    m(x)
    callax.config.set_compiled_calls(True)
    try:
        before = m.calls
        ys = [m(x) for _ in range(3)]
        assert m.calls == before + 1  # traced once, then compiled calls
        assert m._compiled.cache_info()["calls"] == 3
    finally:
        callax.config.set_compiled_calls(False)
    np.testing.assert_allclose(ys[-1], m(x), rtol=1e-6)


def test_compiled_caches_follow_trainable_and_reassignment():
    class M(callax.Model):
        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization()

        def call(self, x, training=False):
            return self.bn(x, training=training)

    m = M()
    x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 3)) * 5 + 2, jnp.float32)
    m(x, training=True)
    fast = callax.jit(m)
    trained = fast(x, training=True)  # batch statistics
    m.trainable = False  # Keras 3: a frozen BatchNormalization runs in inference mode
    frozen = fast(x, training=True)
    np.testing.assert_allclose(frozen, m(x, training=False), rtol=1e-5, atol=1e-5)
    assert not np.allclose(trained, frozen)
    m.bn = layers.Identity()  # reassigning a sublayer re-traces too
    np.testing.assert_array_equal(fast(x), x)


def test_changing_a_builtin_layer_setting_retraces_its_kernel():
    drop = layers.Dropout(0.5, seed=0)
    x = jnp.ones((64, 64))
    for _ in range(3):
        drop(x, training=True)  # compiled with rate 0.5
    drop.rate = 0.9
    y = np.asarray(drop(x, training=True))
    assert abs((y != 0).mean() - 0.1) < 0.03
    np.testing.assert_allclose(y[y != 0], 10.0, rtol=1e-5)


def test_layers_of_a_functional_model_share_kernels():
    """Graph bookkeeping (inbound nodes) is not a setting: identical layers in a
    Functional model share one kernel."""
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, 4)), jnp.float32)
    inputs = callax.Input((4,))
    h = inputs
    for _ in range(4):
        h = layers.Dense(4, activation="relu")(h)
    model = callax.Model(inputs, h)
    kernels.reset_kernel_stats()
    out = model(x)
    assert kernels.kernel_stats()["compiles"] <= 1, kernels.kernel_stats()
    ref = np.asarray(x)
    for layer in model.layers[1:]:
        ref = np.maximum(ref @ layer.kernel.numpy() + layer.bias.numpy(), 0)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
