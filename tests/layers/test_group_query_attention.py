"""GroupedQueryAttention (keras.layers.GroupQueryAttention): Keras 3 oracle with the
same weights (masks, causal mask, key given, gate, sliding window), numpy formula,
dropout, gradients, config and bad input."""

import os

import numpy as np
import pytest

import callax
from callax.layers import GroupedQueryAttention, GroupQueryAttention

RS = np.random.RandomState(0)
Q = RS.randn(2, 5, 6).astype("float32")
V = RS.randn(2, 4, 6).astype("float32")
K = RS.randn(2, 4, 7).astype("float32")
KW = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def _pair(seed=1, **kwargs):
    keras = _keras()
    args = {**KW, **kwargs}
    return keras.layers.GroupQueryAttention(**args), GroupQueryAttention(**args)


def _copy(k_layer, c_layer, seed=1):
    rng = np.random.RandomState(seed)
    values = [(rng.randn(*w.shape) * 0.5).astype("float32") for w in k_layer.weights]
    k_layer.set_weights(values)
    c_layer.set_weights(values)


def _close(a, b, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-5)


def test_alias_and_weight_layout_match_keras():
    assert GroupQueryAttention is GroupedQueryAttention
    k, c = _pair()
    k(Q, V, K)
    c(Q, V, K)
    assert [tuple(w.shape) for w in c.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.path.split("/", 1)[1] for w in c.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel",
        "value/bias", "attention_output/kernel", "attention_output/bias",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "call_kwargs",
    [
        {},
        {"use_causal_mask": True},
        {"value_mask": np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)},
        # every query keeps key 0 (a fully masked row is backend-defined in Keras)
        {"attention_mask": (RS.rand(2, 5, 4) > 0.3) | (np.arange(4) == 0), "use_causal_mask": True},
    ],
    ids=["plain", "causal", "value_mask", "attention_and_causal"],
)
def test_matches_keras_same_weights(call_kwargs):
    k, c = _pair()
    k(Q, V, K)
    c(Q, V, K)
    _copy(k, c)
    k_out, k_scores = k(Q, V, K, return_attention_scores=True, **call_kwargs)
    c_out, c_scores = c(Q, V, K, return_attention_scores=True, **call_kwargs)
    _close(c_out, k_out)
    _close(c_scores, k_scores)
    # Keras's fast path (no scores returned) agrees too.
    _close(c(Q, V, K, **call_kwargs), k(Q, V, K, **call_kwargs))


def test_self_attention_gate_and_sliding_window_match_keras():
    k, c = _pair(use_gate=True, sliding_window=2, use_bias=False)
    k(Q, Q)
    c(Q, Q)
    _copy(k, c)
    _close(c(Q, Q, use_causal_mask=True), k(Q, Q, use_causal_mask=True))


def test_gradients_match_keras():
    import jax

    k, c = _pair()
    k(Q, V)
    c(Q, V)
    _copy(k, c)
    mask = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)

    def loss_c(q):
        return (c(q, V, value_mask=mask) ** 2).sum()

    def loss_k(q):
        return (k(q, V, value_mask=mask) ** 2).sum()

    _close(jax.jit(jax.grad(loss_c))(Q), jax.jit(jax.grad(loss_k))(Q), atol=1e-4)


def test_matches_numpy_formula():
    gqa = GroupQueryAttention(**KW)
    out = gqa(Q, V)
    w = {v.path.split("/", 1)[1]: v.numpy() for v in gqa.weights}
    q = np.einsum("btd,dhk->bthk", Q, w["query/kernel"]) + w["query/bias"]
    k = np.repeat(np.einsum("bsd,dhk->bshk", V, w["key/kernel"]) + w["key/bias"], 2, 2)
    v = np.repeat(np.einsum("bsd,dhk->bshk", V, w["value/kernel"]) + w["value/bias"], 2, 2)
    z = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(3)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ctx = np.einsum("bhts,bshk->bthk", p, v)
    want = np.einsum("bthk,hko->bto", ctx, w["attention_output/kernel"])
    _close(out, want + w["attention_output/bias"])


def test_dropout_only_in_training():
    gqa = GroupQueryAttention(**KW, dropout=0.5, seed=3)
    a = gqa(Q, V)
    _close(gqa(Q, V), a)
    assert not np.allclose(np.asarray(gqa(Q, V, training=True)), np.asarray(a))


def test_config_round_trip_and_keras_config():
    keras = _keras()
    c = GroupQueryAttention(**KW, dropout=0.1, use_bias=False, seed=2, name="gqa")
    again = GroupQueryAttention.from_config(c.get_config())
    assert again.get_config() == c.get_config()
    k = keras.layers.GroupQueryAttention.from_config(c.get_config())
    assert (k.head_dim, k.num_repeats, k.use_bias) == (3, 2, False)
    from_keras = GroupQueryAttention.from_config(
        keras.layers.GroupQueryAttention(**KW, seed=2).get_config()
    )
    assert from_keras.num_key_value_heads == 2


def test_in_functional_model_save_load(tmp_path):
    inp = callax.Input((5, 6))
    out = GroupQueryAttention(**KW)(inp, inp, use_causal_mask=True)
    model = callax.Model(inp, out)
    path = str(tmp_path / "gqa.keras")
    model.save(path)
    loaded = callax.saving.load_model(path)
    _close(loaded(Q), model(Q))


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_query_heads must be divisible.*received"):
        GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="head_dim must be a positive int.*received"):
        GroupQueryAttention(head_dim=0, num_query_heads=2, num_key_value_heads=2)
    with pytest.raises(ValueError, match="flash_attention"):
        GroupQueryAttention(**KW, dropout=0.2, flash_attention=True)
    with pytest.raises(ValueError, match="rank 3"):
        GroupQueryAttention(**KW)(Q[0], V[0])
