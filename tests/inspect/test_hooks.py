"""PyTorch-style forward hooks: semantics (replacement, order, removal, handles),
and how they meet compiled code (per-layer kernels, callax.jit)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example3_multi_input import MultiInputModel
from taps_models import ResCNN, TransformerBlock

import callax
import callax as keras
from callax.core import call_context as _ctx
from callax.core.kernels import kernel_stats


def test_forward_hook_sees_args_and_output_and_replaces_it():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=1)
    clean = model(x)
    seen = []

    def hook(layer, args, output):
        seen.append((layer, args[0].shape, output.shape))
        return output * 0

    handle = model.dense1.register_forward_hook(hook)
    out = model(x)
    np.testing.assert_allclose(out, model.dense2(jnp.zeros((4, 64))), rtol=1e-6)
    assert seen == [(model.dense1, (4, 32), (4, 64))]
    handle.remove()
    handle.remove()  # twice is harmless
    np.testing.assert_allclose(model(x), clean, rtol=1e-6)
    assert len(seen) == 1 and not _ctx._taps


def test_pre_hook_replaces_args_single_value_is_wrapped():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=2)
    model(x)
    with model.dense2.register_forward_pre_hook(lambda layer, args: args[0] * 2):
        out = model(x)
    np.testing.assert_allclose(out, model.dense2(model.dense1(x) * 2), rtol=1e-5, atol=1e-6)
    with model.dense2.register_forward_pre_hook(lambda layer, args: (args[0] * 0,)):
        np.testing.assert_allclose(model(x), model.dense2(jnp.zeros((4, 64))), rtol=1e-6)
    assert not _ctx._taps


def test_order_prepend_with_kwargs_and_shared_layer_calls():
    model = MultiInputModel()
    a, b = keras.random.normal((2, 16), seed=3), keras.random.normal((2, 16), seed=4)
    order = []
    h1 = model.dense1.register_forward_hook(lambda m, args, out: order.append("first"))
    h2 = model.dense1.register_forward_hook(lambda m, args, out: order.append("second"))
    h3 = model.dense1.register_forward_hook(lambda m, a, o: order.append("pre"), prepend=True)
    kw = []
    h4 = model.dense1.register_forward_hook(
        lambda m, args, kwargs, out: kw.append(sorted(kwargs)), with_kwargs=True
    )
    model(a, b)
    assert order == ["pre", "first", "second"] * 2  # the shared layer: once per call
    assert kw == [[], []]
    for h in (h1, h2, h3, h4):
        h.remove()
    with pytest.raises(TypeError, match="hook must be callable"):
        model.dense1.register_forward_hook(3)


def test_with_kwargs_pre_hook_sees_training():
    model = ResCNN()
    x = keras.random.normal((2, 6, 6, 3), seed=5)
    seen = []

    def pre(layer, args, kwargs):
        seen.append(kwargs.get("training"))
        return None

    with model.blocks[1].bn.register_forward_pre_hook(pre, with_kwargs=True):
        model(x, training=False)
    assert seen == [False]


def test_hooked_builtin_layer_keeps_its_kernel_unrelated_layers_too():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=6)
    model(x)
    other = keras.layers.Dense(3)
    other(x)
    before = kernel_stats()
    with other.register_forward_hook(lambda m, a, o: None):
        model(x)
        mid = kernel_stats()
        outs = []
        with model.dense1.register_forward_hook(lambda m, a, o: outs.append(type(o))):
            model(x)
    after = kernel_stats()
    assert mid["hits"] - before["hits"] == 2  # both Dense layers ran their kernels
    assert after["hits"] - mid["hits"] == 2  # the hooked one too: kernel, then hook
    assert outs == [type(x)]  # the hook saw a concrete array
    assert after["compiles"] == before["compiles"]


def test_layer_containing_a_hooked_layer_runs_it_every_time():
    """MultiHeadAttention has a compiled kernel; a hook on its value projection
    must run on every call (not be skipped or baked in), and after remove() the
    kernel must serve calls without the hook."""
    model = TransformerBlock()
    x = keras.random.normal((2, 5, 8), seed=7)
    clean = model(x)
    calls = []

    def zero_values(layer, args, out):
        calls.append(1)
        return out * 0

    handle = model.att._value_dense.register_forward_hook(zero_values)
    _, acts = callax.capture(model, x, at="att")
    np.testing.assert_allclose(
        acts["att"].outputs, np.broadcast_to(model.att._output_dense.bias.value, (2, 5, 8)),
        atol=1e-6,
    )  # fmt: skip
    for _ in range(3):
        model(x)
    assert len(calls) == 4
    handle.remove()
    hits = kernel_stats()["hits"]
    np.testing.assert_allclose(model(x), clean, rtol=1e-5, atol=1e-6)  # nothing baked in
    assert kernel_stats()["hits"] > hits and len(calls) == 4


def test_callax_jit_retraces_when_a_hook_comes_and_goes():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=8)
    fast = callax.jit(model)
    clean = fast(x)
    handle = model.dense1.register_forward_hook(lambda m, a, o: o * 0)
    np.testing.assert_allclose(fast(x), model.dense2(jnp.zeros((2, 64))), rtol=1e-6)
    handle.remove()
    np.testing.assert_allclose(fast(x), clean, rtol=1e-6)
    # the first call built the model eagerly; then one trace with the hook, one without
    assert fast.cache_info()["traces"] == 2


def test_hooks_under_jax_grad_match_the_hand_edited_call():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=9)
    model(x)
    with model.dense1.register_forward_hook(lambda m, a, o: jnp.tanh(o)):
        g = jax.jit(jax.grad(lambda x: model(x)[:, 1].sum()))(x)
    ref = jax.jit(jax.grad(lambda x: model.dense2(jnp.tanh(model.dense1(x)))[:, 1].sum()))(x)
    np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-7)


def test_hook_that_raises_leaves_the_layer_usable():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=10)

    def bad(layer, args, out):
        raise ValueError("bad hook")

    with pytest.raises(ValueError, match="bad hook") as info:
        with model.dense2.register_forward_hook(bad):
            model(x)
    assert "dense2" in info.value.__notes__[0]  # the call path names the hooked call
    assert not _ctx._taps
    assert model(x).shape == (2, 10)
