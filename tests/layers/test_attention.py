"""MultiHeadAttention and Attention: numpy formulas, Keras 3 oracle with identical
weights (masks, causal, attention axes), dropout, gradients, configs, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from callax.layers import Attention, MultiHeadAttention

RS = np.random.RandomState(0)
Q = RS.randn(2, 3, 6).astype("float32")
V = RS.randn(2, 4, 5).astype("float32")
K = RS.randn(2, 4, 7).astype("float32")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _copy_random_weights(k_layer, c_layer, seed=1):
    rng = np.random.RandomState(seed)
    values = [(rng.randn(*w.shape) * 0.5).astype("float32") for w in k_layer.weights]
    k_layer.set_weights(values)
    for v, value in zip(c_layer.weights, values):
        v.assign(value)


def test_mha_matches_numpy():
    mha = MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = mha(Q, V, K, return_attention_scores=True)
    w = {v.path.split("/", 1)[1]: v.numpy() for v in mha.weights}
    q = np.einsum("btd,dhk->bthk", Q, w["query/kernel"]) + w["query/bias"]
    k = np.einsum("bsd,dhk->bshk", K, w["key/kernel"]) + w["key/bias"]
    v = np.einsum("bsd,dhk->bshk", V, w["value/kernel"]) + w["value/bias"]
    probs = _softmax(np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(3))
    ctx = np.einsum("bhts,bshk->bthk", probs, v)
    want = np.einsum("bthk,hko->bto", ctx, w["attention_output/kernel"])
    want = want + w["attention_output/bias"]
    np.testing.assert_allclose(np.asarray(scores), probs, atol=1e-5)
    np.testing.assert_allclose(np.asarray(out), want, atol=1e-5)


def test_mha_query_mask_zeroes_masked_query_rows():
    # Keras 3.15 ignores an explicit query_mask (it reads the tensor's Keras mask
    # instead); callax honours the documented argument.
    mha = MultiHeadAttention(num_heads=2, key_dim=3)
    qmask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    _, scores = mha(Q, V, query_mask=qmask, return_attention_scores=True)
    scores = np.asarray(scores)
    np.testing.assert_array_equal(scores[0, :, 2], 0.0)
    np.testing.assert_allclose(scores[0, :, :2].sum(-1), 1.0, atol=1e-6)


def test_mha_weight_structure():
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=8)
    mha(Q, V, K)
    names = [w.path.split("/", 1)[1] for w in mha.weights]
    assert names == ["query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel",
                     "value/bias", "attention_output/kernel", "attention_output/bias"]  # fmt: skip
    shapes = [w.shape for w in mha.weights]
    assert shapes == [(6, 2, 3), (2, 3), (7, 2, 3), (2, 3), (5, 2, 4), (2, 4), (2, 4, 8), (8,)]


@pytest.mark.parametrize(
    "kwargs, call_kwargs",
    [
        ({}, {}),
        ({"value_dim": 3, "output_shape": 8}, {}),
        ({"use_bias": False}, {"use_causal_mask": True}),
        ({}, {"attention_mask": RS.rand(2, 3, 4) > 0.3}),
        (
            {},
            {
                "value_mask": np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool),
                "key_mask": np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool),
            },
        ),  # fmt: skip
        ({"use_gate": True, "sliding_window": 2}, {}),
    ],
)
def test_mha_matches_keras(kwargs, call_kwargs):
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    k_layer = keras.layers.MultiHeadAttention(2, 4, **kwargs)
    c_layer = MultiHeadAttention(2, 4, **kwargs)
    k_layer(Q, V, K, return_attention_scores=True)
    c_layer(Q, V, K)
    assert [w.path for w in c_layer.weights] == [w.path for w in k_layer.weights]
    _copy_random_weights(k_layer, c_layer)
    want, want_scores = k_layer(Q, V, K, return_attention_scores=True, **call_kwargs)
    got, got_scores = c_layer(Q, V, K, return_attention_scores=True, **call_kwargs)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_scores), np.asarray(want_scores), atol=1e-5)


@pytest.mark.parametrize("axes", [None, (2,), (1, 2)])
def test_mha_attention_axes_match_keras(axes):
    keras = pytest.importorskip("keras")
    x = RS.randn(2, 3, 4, 6).astype("float32")
    k_layer = keras.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    c_layer = MultiHeadAttention(2, 3, attention_axes=axes)
    k_layer(x, x, return_attention_scores=True)
    c_layer(x, x)
    _copy_random_weights(k_layer, c_layer)
    want, want_scores = k_layer(x, x, return_attention_scores=True)
    got, got_scores = c_layer(x, x, return_attention_scores=True)
    assert got_scores.shape == want_scores.shape
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)


def test_mha_dropout_only_in_training_and_stateless():
    mha = MultiHeadAttention(2, 4, dropout=0.5, seed=0)
    mha(Q, V)
    np.testing.assert_array_equal(np.asarray(mha(Q, V)), np.asarray(mha(Q, V)))
    a, b = mha(Q, V, training=True), mha(Q, V, training=True)
    assert not np.allclose(np.asarray(a), np.asarray(b))
    tv = [v.value for v in mha.trainable_variables]
    ntv = [v.value for v in mha.non_trainable_variables]
    fn = jax.jit(lambda tv, ntv: mha.stateless_call(tv, ntv, Q, V, training=True))
    (out1, ntv1), (out2, _) = fn(tv, ntv), fn(tv, fn(tv, ntv)[1])
    assert not np.allclose(np.asarray(out1), np.asarray(out2))
    np.testing.assert_array_equal(np.asarray(ntv1[0]), np.asarray(fn(tv, ntv)[1][0]))


def test_mha_gradients():
    mha = MultiHeadAttention(2, 2)
    q = jnp.asarray(RS.randn(1, 2, 3).astype("float32"))
    v = jnp.asarray(RS.randn(1, 3, 3).astype("float32"))
    mha(q, v)
    tv = [t.value for t in mha.trainable_variables]

    def f(q, v, *weights):
        out, _ = mha.stateless_call(list(weights), [], q, v)
        return jnp.sum(jnp.sin(out))

    check_grads(f, (q, v, *tv), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"use_scale": True},
        {"score_mode": "concat"},
        {"score_mode": "concat", "use_scale": True},
    ],
)
def test_attention_matches_keras(kwargs):
    keras = pytest.importorskip("keras")
    v = RS.randn(2, 4, 6).astype("float32")
    k_layer, c_layer = keras.layers.Attention(**kwargs), Attention(**kwargs)
    k_layer([Q, v])
    c_layer([Q, v])
    k_layer.set_weights([np.float32(1.7)] * len(k_layer.weights))
    for w in c_layer.weights:
        w.assign(1.7)
    mask = [np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)]
    for m, causal in ((None, False), (mask, False), (None, True)):
        want = k_layer([Q, v], mask=m, return_attention_scores=True, use_causal_mask=causal)
        got = c_layer([Q, v], mask=m, return_attention_scores=True, use_causal_mask=causal)
        for w, g in zip(want, got):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=1e-5)


def test_attention_matches_numpy_with_key():
    k = RS.randn(2, 4, 6).astype("float32")
    v = RS.randn(2, 4, 5).astype("float32")
    out = np.asarray(Attention()([Q, v, k]))
    np.testing.assert_allclose(out, _softmax(Q @ k.transpose(0, 2, 1)) @ v, atol=1e-5)


def test_attention_gradients():
    att = Attention(use_scale=True)
    q = jnp.asarray(RS.randn(1, 2, 3).astype("float32"))
    v = jnp.asarray(RS.randn(1, 3, 3).astype("float32"))
    att([q, v])

    def f(q, v, scale):
        out, _ = att.stateless_call([scale], [], [q, v])
        return jnp.sum(jnp.sin(out))

    check_grads(f, (q, v, jnp.float32(1.3)), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


def test_config_round_trips():
    for layer in (
        MultiHeadAttention(3, 4, value_dim=2, dropout=0.1, output_shape=(5,), attention_axes=(1,)),
        Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=3),
    ):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_loads_keras_config():
    keras = pytest.importorskip("keras")
    config = keras.layers.MultiHeadAttention(4, 8, dropout=0.1).get_config()
    for key in ("input_axes", "output_axes"):  # Keras >= 3.12 initializer fields
        config["kernel_initializer"]["config"].pop(key, None)
    mha = MultiHeadAttention.from_config(config)
    assert (mha.num_heads, mha.key_dim, mha.value_dim, mha.dropout) == (4, 8, 8, 0.1)


def test_bad_input():
    with pytest.raises(ValueError, match=r"MultiHeadAttention '\w+': num_heads must be a "
                       r"positive int; received num_heads=0"):  # fmt: skip
        MultiHeadAttention(0, 4)
    mha = MultiHeadAttention(2, 4)
    mha(Q, V)
    with pytest.raises(ValueError, match=r"was built for query features 6; received query with "
                       r"shape \(2, 3, 5\)"):  # fmt: skip
        mha(Q[..., :5], V)
    with pytest.raises(ValueError, match=r"key and value must have the same shape .*value shape "
                       r"\(2, 4, 5\) and key shape \(2, 3, 7\)"):  # fmt: skip
        MultiHeadAttention(2, 4)(Q, V, K[:, :3])
    with pytest.raises(ValueError, match=r"Attention '\w+' must be called on a list \[query, "
                       r"value\] or \[query, value, key\]; received an array of shape \(2, 3, 6\)"):  # fmt: skip
        Attention()(Q)
    with pytest.raises(ValueError, match=r"score_mode must be 'dot' or 'concat'; received "
                       r"score_mode='add'"):  # fmt: skip
        Attention(score_mode="add")
