"""callax.capture / capturing: what a call site saw and returned, checked against
hand-computed references (the layers' own weights, a hand-split model)."""

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


def dense_ref(layer, x, act=None):
    y = np.asarray(x) @ np.asarray(layer.kernel.value) + np.asarray(layer.bias.value)
    return np.maximum(y, 0) if act == "relu" else y


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_seed1_capture_inputs_and_outputs():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=1)
    out, acts = callax.capture(model, x, at=["dense1", "dense2"])
    assert list(acts) == ["dense1#1", "dense2#1"]
    h = dense_ref(model.dense1, x, "relu")
    np.testing.assert_allclose(acts["dense1"].outputs, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(acts["dense1"].inputs[0], x)
    np.testing.assert_allclose(acts["dense2"].inputs[0], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, softmax(dense_ref(model.dense2, h)), rtol=1e-5, atol=1e-6)
    assert acts["dense1"].layer is model.dense1 and acts["dense1"].key == "dense1#1"
    assert not _ctx._taps and not _ctx._observers  # nothing left registered


def test_seed3_shared_layer_calls_one_by_one():
    model = MultiInputModel()
    a, b = keras.random.normal((4, 16), seed=1), keras.random.normal((4, 16), seed=2)
    _, acts = callax.capture(model, a, b, at="dense1")
    assert list(acts) == ["dense1#1", "dense1#2"]
    np.testing.assert_allclose(acts["dense1#2"].outputs, dense_ref(model.dense1, b, "relu"),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(acts["dense1#2"].inputs[0], b)
    with pytest.raises(KeyError, match=r"called 2 times.*dense1#1, dense1#2"):
        acts["dense1"]
    assert [c.key for c in acts.all("dense1")] == ["dense1#1", "dense1#2"]
    _, only2 = callax.capture(model, a, b, at="dense1#2")
    assert list(only2) == ["dense1#2"] and only2["dense1"].call_index == 2
    # by layer object, and by predicate on the call site
    _, by_layer = callax.capture(model, a, b, at=model.dense1)
    assert list(by_layer) == ["dense1#1", "dense1#2"]
    _, by_pred = callax.capture(model, a, b, at=lambda s: s.class_name == "Concatenate")
    assert list(by_pred) == ["concat#1"]


def test_seed2_training_branch_and_unknown_site_lists_call_sites():
    model = ConditionalModel()
    x = keras.random.normal((4, 32), seed=3)
    _, acts = callax.capture(model, x, at="dropout", training=True)
    assert acts["dropout"].outputs.shape == (4, 32)
    with pytest.raises(ValueError, match=r"'dropout' matches no call site.*dense1#1, dense2#1"):
        callax.capture(model, x, at="dropout", training=False)
    with pytest.raises(ValueError, match="'dense1#2' matches no call site"):
        callax.capture(model, x, at="dense1#2")
    with pytest.raises(TypeError, match="at entries must be call paths"):
        callax.capture(model, x, at=3)
    with pytest.raises(ValueError, match="not a call path"):
        callax.capture(model, x, at="dense1#0")
    assert not _ctx._taps


def test_nested_paths_in_a_residual_cnn():
    model = ResCNN()
    x = keras.random.normal((2, 6, 6, 3), seed=4)
    out, acts = callax.capture(model, x, at=["blocks[1].bn", "head", "blocks[0]"])
    assert list(acts) == ["blocks[0]#1", "blocks[1].bn#1", "head#1"]
    # hand-split reference: the same layers called in the same order
    block0 = model.blocks[0](model.stem(x))
    np.testing.assert_allclose(acts["blocks[0]"].outputs, block0, rtol=1e-5, atol=1e-5)
    bn_in = model.blocks[1].conv1(block0)
    np.testing.assert_allclose(acts["blocks[1].bn"].inputs[0], bn_in, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acts["blocks[1].bn"].outputs, model.blocks[1].bn(bn_in),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(out, model(x), rtol=1e-5, atol=1e-5)


def test_sites_inside_a_builtin_layer_transformer():
    model = TransformerBlock()
    x = keras.random.normal((2, 5, 8), seed=5)
    out, acts = callax.capture(model, x, at=["att.query_dense", "att", "ln1"])
    assert list(acts) == ["att.query_dense#1", "att#1", "ln1#1"]
    assert acts["att.query_dense"].outputs.shape == (2, 5, 2, 4)
    q = model.att._query_dense(x)
    np.testing.assert_allclose(acts["att.query_dense"].outputs, q, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acts["ln1"].inputs[0], x + model.att(x, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, model(x), rtol=1e-5, atol=1e-5)


def test_under_jax_jit_callax_jit_and_stateless_call():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=6)
    eager_out, eager = callax.capture(model, x, at="dense1")
    out, acts = jax.jit(lambda x: callax.capture(model, x, at="dense1"))(x)
    np.testing.assert_allclose(acts["dense1"].outputs, eager["dense1"].outputs, rtol=1e-5)
    np.testing.assert_allclose(out, eager_out, rtol=1e-5)
    fast = callax.jit(model)
    fast(x)
    with callax.capturing(model, at="dense1") as acts2:
        fast(x)  # runs as Python while capturing: the values are concrete
    assert isinstance(acts2["dense1"].outputs, jax.Array)
    np.testing.assert_allclose(acts2["dense1"].outputs, eager["dense1"].outputs, rtol=1e-5)
    tv = [v.value for v in model.trainable_variables]

    @jax.jit
    def pure(tv, x):
        with callax.capturing(model, at="dense2") as acts:
            y, _ = model.stateless_call(tv, [], x)
        return y, acts

    y, acts3 = pure(tv, x)
    np.testing.assert_allclose(acts3["dense2"].inputs[0], eager["dense1"].outputs, rtol=1e-5)
    with pytest.raises(ValueError, match="was not called inside the block"):
        with callax.capturing(model, at="dense1"):
            pass


def test_grad_cam_on_a_subclassed_cnn():
    """The gradient of a class score w.r.t. a captured activation (Grad-CAM),
    checked against the hand-split model (head(pool(A))) and the closed form:
    for GlobalAveragePooling + Dense, d score_c / d A[i, j, k] = W[k, c] / (H*W)."""

    class Cnn(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
            self.pool = keras.layers.GlobalAveragePooling2D()
            self.head = keras.layers.Dense(3)

        def call(self, x):
            return self.head(self.pool(self.conv(x)))

    model = Cnn()
    x = keras.random.normal((1, 6, 6, 3), seed=7)
    _, acts = callax.capture(model, x, at="conv")
    a = acts["conv"].outputs
    score = lambda a: callax.intervene(model, {"conv": a}, x)[0, 2]  # noqa: E731
    grads = jax.grad(score)(a)
    ref = jax.grad(lambda a: model.head(model.pool(a))[0, 2])(a)
    np.testing.assert_allclose(grads, ref, rtol=1e-6, atol=1e-7)
    closed = np.broadcast_to(np.asarray(model.head.kernel.value)[:, 2] / 36.0, a.shape)
    np.testing.assert_allclose(grads, closed, rtol=1e-5, atol=1e-7)
    weights = grads.mean(axis=(1, 2))  # Grad-CAM: channel weights, then the map
    cam = jax.nn.relu((a * weights[:, None, None, :]).sum(-1))
    assert cam.shape == (1, 6, 6)
    # Keras's Functional recipe with the same weights: grad_model outputs
    # [conv.output, model.output]; the score's gradient w.r.t. the conv output
    # comes from the head as its own Functional model (no taps involved).
    inp = keras.Input((6, 6, 3))
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
    pool, head = keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)
    conv_out = conv(inp)
    grad_model = keras.Model(inp, [conv_out, head(pool(conv_out))])
    conv.set_weights(model.conv.get_weights())
    head.set_weights(model.head.get_weights())
    f_a, f_out = grad_model(x)
    np.testing.assert_allclose(f_a, a, rtol=1e-5, atol=1e-6)
    head_in = keras.Input((6, 6, 4))
    head_model = keras.Model(head_in, head(pool(head_in)))
    f_grads = jax.grad(lambda a: head_model(a)[0, 2])(f_a)
    np.testing.assert_allclose(grads, f_grads, rtol=1e-5, atol=1e-7)
    f_cam = jax.nn.relu((f_a * f_grads.mean(axis=(1, 2))[:, None, None, :]).sum(-1))
    np.testing.assert_allclose(cam, f_cam, rtol=1e-5, atol=1e-6)
    # and the jitted version agrees
    np.testing.assert_allclose(jax.jit(jax.grad(score))(a), ref, rtol=1e-5, atol=1e-7)


def test_grad_through_captured_values_matches_finite_differences():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=8)
    model(x)  # build eagerly (a first call under jax.jit(jax.grad) leaks its weights' tracers)

    def f(x):
        _, acts = callax.capture(model, x, at="dense1")
        return jnp.sum(acts["dense1"].outputs ** 2)

    g = np.asarray(jax.jit(jax.grad(f))(x), np.float64)
    jf = jax.jit(f)
    eps = 1e-2
    for idx in [(0, 0), (1, 5), (0, 31)]:
        e = np.zeros(x.shape, np.float32)
        e[idx] = eps
        fd = (float(jf(x + e)) - float(jf(x - e))) / (2 * eps)
        assert abs(fd - g[idx]) < 2e-2 * max(1.0, abs(g[idx]))


def test_capture_context_removed_when_the_call_raises():
    model = SimpleSequentialModel()
    x = keras.random.normal((2, 32), seed=9)
    model(x)
    with pytest.raises(ValueError):
        callax.capture(model, jnp.ones((2, 7)), at="dense1")
    assert not _ctx._taps and not _ctx._kernels_off
