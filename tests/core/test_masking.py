"""Masks travel from layer to layer, eagerly and inside traced calls."""

import jax
import jax.numpy as jnp
import numpy as np

import callax
from callax import layers
from callax.core.masking import get_mask


class TakesMask(layers.Layer):
    def __init__(self):
        super().__init__()
        self.seen = []

    def call(self, x, mask=None):
        if isinstance(mask, jax.core.Tracer):
            self.seen.append(("traced", mask.shape))
        else:
            self.seen.append(None if mask is None else np.asarray(mask).tolist())
        return x


class PassThrough(layers.Layer):
    def __init__(self):
        super().__init__()
        self.supports_masking = True

    def call(self, x):
        return x * 2


IDS = np.array([[4, 2, 0], [1, 0, 0]])
EXPECTED = [[True, True, False], [True, False, False]]


def test_mask_reaches_next_layer_eagerly_and_across_calls():
    emb = layers.Embedding(10, 3, mask_zero=True)
    probe = TakesMask()
    x = emb(IDS)
    assert np.asarray(get_mask(x)).tolist() == EXPECTED
    probe(PassThrough()(x))  # a separate top-level call, through a mask-preserving layer
    assert probe.seen == [EXPECTED]


def test_mask_inside_a_model_and_under_jit():
    class M(callax.Model):
        def __init__(self):
            super().__init__()
            self.emb = layers.Embedding(10, 3, mask_zero=True)
            self.mid = PassThrough()
            self.probe = TakesMask()

        def call(self, ids):
            return self.probe(self.mid(self.emb(ids)))

    m = M()
    m(IDS)
    assert m.probe.seen[-1] == EXPECTED
    tv = [v.value for v in m.trainable_variables]
    jax.jit(lambda tv, ids: m.stateless_call(tv, [], ids)[0])(tv, jnp.asarray(IDS))
    assert m.probe.seen[-1] == ("traced", (2, 3))  # traced: it travels in the frame's table


def test_layer_without_masking_support_drops_the_mask():
    emb = layers.Embedding(10, 3, mask_zero=True)
    x = emb(IDS)
    y = layers.Flatten()(x)
    assert get_mask(y) is None


def test_lstm_respects_mask_from_embedding_like_keras():
    keras = __import__("pytest").importorskip("keras")
    ids = np.array([[3, 5, 0, 0], [7, 0, 0, 0]])
    cm = callax.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3)])
    km = keras.Sequential([keras.layers.Embedding(10, 4, mask_zero=True), keras.layers.LSTM(3)])
    cm(ids)
    km(ids)
    km.set_weights(cm.get_weights())
    np.testing.assert_allclose(cm(ids), km(ids), rtol=1e-5, atol=1e-6)


def test_symbolic_tensors_carry_keras_mask_and_call_sees_it_while_building():
    """keras.io masking guide: `x._keras_mask` on a KerasTensor, and a custom layer's
    `call(inputs, mask=None)` receives the mask while the Functional graph is built."""
    import numpy as np

    seen = []

    class TemporalSoftmax(callax.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(mask is not None)
            m = callax.ops.expand_dims(callax.ops.cast(mask, "float32"), -1)
            e = callax.ops.exp(inputs) * m
            return e / callax.ops.sum(e, axis=1, keepdims=True)

    inputs = callax.Input(shape=(None,), dtype="int32")
    x = callax.layers.Embedding(10, 4, mask_zero=True)(inputs)
    assert x._keras_mask.shape == (None, None) and x._keras_mask.dtype == "bool"
    h = callax.layers.Dense(1)(x)  # supports_masking: passes the mask on
    assert h._keras_mask.shape == (None, None)
    outputs = TemporalSoftmax()(h)
    assert seen and all(seen)  # traced with the mask (once per stand-in size)
    model = callax.Model(inputs, outputs)
    tokens = np.array([[3, 1, 0, 0], [2, 5, 7, 0]])
    y = np.asarray(model(tokens))[..., 0]
    assert seen[-1] is True
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(y == 0, tokens == 0)  # padded steps get no weight
