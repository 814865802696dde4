"""callax.intervene / intervention: a call site's output replaced or transformed,
checked against hand-edited calls that compute the same thing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel
from taps_models import ResCNN, TransformerBlock

import callax
import callax as keras
from callax.core import call_context as _ctx
from callax.core.kernels import kernel_stats


def test_ablation_zeroing_seed1():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=1)
    out = callax.intervene(model, {"dense1": lambda h: h * 0}, x)
    ref = model.dense2(jnp.zeros((4, 64)))  # the hand-edited call: dense2(zeros)
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    np.testing.assert_allclose(model(x), model.dense2(model.dense1(x)), rtol=1e-6)  # nothing left


def test_patching_one_call_of_a_shared_layer_seed3():
    model = MultiInputModel()
    a, b, c = (keras.random.normal((4, 16), seed=s) for s in (1, 2, 3))
    _, acts = callax.capture(model, a, c, at="dense1#2")
    patched = callax.intervene(model, {"dense1#2": acts["dense1#2"].outputs}, a, b)
    ref = model.dense2(model.concat([model.dense1(a), model.dense1(c)]))
    np.testing.assert_allclose(patched, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(patched, model(a, c), rtol=1e-5, atol=1e-6)


def test_noise_and_the_context_manager_seed2():
    model = ConditionalModel()
    x = keras.random.normal((4, 32), seed=4)
    noise = 0.1 * jax.random.normal(jax.random.PRNGKey(0), (4, 32))
    with callax.intervention(model, {"dense1": lambda h: h + noise}):
        out = model(x)
    ref = model.dense2(model.dense1(x) + noise)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert not _ctx._taps


def test_under_jit_and_grad():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=5)
    edit = {"dense1": lambda h: h * 2.0}
    eager = callax.intervene(model, edit, x)
    np.testing.assert_allclose(jax.jit(lambda x: callax.intervene(model, edit, x))(x), eager,
                               rtol=1e-5)  # fmt: skip

    def f(x):
        return jnp.sum(callax.intervene(model, edit, x)[:, 3])

    def ref(x):  # the hand-edited call
        return jnp.sum(model.dense2(model.dense1(x) * 2.0)[:, 3])

    g = np.asarray(jax.jit(jax.grad(f))(x))  # compiled: one compile, not one per op
    np.testing.assert_allclose(g, jax.jit(jax.grad(ref))(x), rtol=1e-5, atol=1e-7)
    # and finite differences on a few coordinates
    jf = jax.jit(f)
    for idx in [(0, 0), (1, 7)]:
        e = np.zeros(x.shape, np.float32)
        e[idx] = 1e-2
        fd = (float(jf(x + e)) - float(jf(x - e))) / 2e-2
        assert abs(fd - g[idx]) < 1e-2 * max(1.0, abs(g[idx]))


def test_callax_jit_keeps_nothing_baked_in():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=6)
    fast = callax.jit(model)
    clean = fast(x)
    with callax.intervention(model, {"dense1": lambda h: h * 0}):
        ablated = fast(x)
    np.testing.assert_allclose(ablated, model.dense2(jnp.zeros((2, 64))), rtol=1e-6)
    np.testing.assert_allclose(fast(x), clean, rtol=1e-6)
    assert fast.cache_info()["traces"] == 1


def test_nothing_left_behind_when_the_call_raises():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=7)
    model(x)

    def boom(h):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        callax.intervene(model, {"dense1": boom}, x)
    assert not _ctx._taps and not _ctx._observers and not _ctx._kernels_off
    before = kernel_stats()["hits"]
    np.testing.assert_allclose(model(x), model.dense2(model.dense1(x)), rtol=1e-6)
    assert kernel_stats()["hits"] > before  # the per-layer kernels are back


def test_bad_replacements_and_keys():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=8)
    with pytest.raises(ValueError, match=r"dense1#1 \(Dense\) must match its output f32\[2,64\]"):
        callax.intervene(model, {"dense1": lambda h: h[:, :3]}, x)
    with pytest.raises(ValueError, match=r"'dense3' matches no call site.*dense1#1, dense2#1"):
        callax.intervene(model, {"dense3": lambda h: h}, x)
    with pytest.raises(TypeError, match="edits must be a dict"):
        callax.intervene(model, [lambda h: h], x)
    assert not _ctx._taps


def test_residual_cnn_ablate_a_nested_batchnorm():
    model = ResCNN()
    x = keras.random.normal((2, 6, 6, 3), seed=9)
    out = callax.intervene(model, {"blocks[1].bn": lambda h: h * 0}, x)
    # hand-edited: block 1 with its bn output zeroed is relu(x + conv2(relu(0)))
    h = model.blocks[0](model.stem(x))
    b1 = model.blocks[1]
    h = jax.nn.relu(h + b1.conv2(jnp.zeros_like(h)))
    np.testing.assert_allclose(out, model.head(model.pool(h)), rtol=1e-5, atol=1e-5)


def test_transformer_ablate_attention_and_a_projection_inside_it():
    model = TransformerBlock()
    x = keras.random.normal((2, 5, 8), seed=10)
    out = callax.intervene(model, {"att": lambda a: a * 0}, x)
    h = model.ln1(x)  # hand-edited: x + 0
    ref = model.ln2(h + model.ffn2(model.ffn1(h)))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    # zero the value projection inside the built-in MultiHeadAttention: the
    # attention output is then the output projection's bias alone
    _, acts = callax.capture(model, x, at="att")
    with callax.intervention(model, {"att.value_dense": lambda v: v * 0}):
        _, acts0 = callax.capture(model, x, at="att")
    bias = np.asarray(model.att._output_dense.bias.value)
    np.testing.assert_allclose(acts0["att"].outputs, np.broadcast_to(bias, (2, 5, 8)), atol=1e-6)
    assert not np.allclose(acts["att"].outputs, acts0["att"].outputs)
