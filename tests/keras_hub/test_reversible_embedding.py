"""layers.ReversibleEmbedding against numpy formulas and Keras 3's config."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import layers
from callax.core import masking


def _ids():
    return np.array([[1, 4, 0], [3, 3, 2]])


def test_forward_is_an_embedding_lookup():
    emb = layers.ReversibleEmbedding(5, 3)
    out = emb(_ids())
    table = np.asarray(emb.embeddings.value)
    np.testing.assert_allclose(np.asarray(out), table[_ids()], rtol=0, atol=0)
    assert [w.name for w in emb.weights] == ["embeddings"]  # tied: one matrix


def test_reverse_tied_is_x_times_embeddings_transposed():
    emb = layers.ReversibleEmbedding(5, 3)
    emb.build()
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    logits = emb(x, reverse=True)
    expected = x @ np.asarray(emb.embeddings.value).T
    assert logits.shape == (2, 4, 5)
    np.testing.assert_allclose(np.asarray(logits), expected, rtol=1e-5, atol=1e-6)


def test_untied_reverse_uses_its_own_kernel():
    emb = layers.ReversibleEmbedding(5, 3, tie_weights=False)
    emb.build()
    assert [w.name for w in emb.weights] == ["embeddings", "reverse_embeddings"]
    assert emb.reverse_embeddings.shape == (3, 5)
    emb.reverse_embeddings.assign(np.arange(15, dtype="float32").reshape(3, 5) / 10)
    x = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    expected = x @ (np.arange(15, dtype="float32").reshape(3, 5) / 10)
    np.testing.assert_allclose(np.asarray(emb(x, reverse=True)), expected, rtol=1e-5, atol=1e-6)


def test_logit_soft_cap_and_reverse_dtype():
    emb = layers.ReversibleEmbedding(5, 3, logit_soft_cap=2.0, reverse_dtype="float32")
    emb.build()
    emb.embeddings.assign(np.random.default_rng(2).normal(size=(5, 3)).astype("float32") * 3)
    x = (np.random.default_rng(3).normal(size=(4, 3)) * 3).astype("float32")
    raw = x @ np.asarray(emb.embeddings.value).T
    logits = np.asarray(emb(x, reverse=True))
    np.testing.assert_allclose(logits, np.tanh(raw / 2.0) * 2.0, rtol=1e-5, atol=1e-6)
    assert np.abs(logits).max() <= 2.0


def test_mask_zero_masks_the_forward_output_only():
    emb = layers.ReversibleEmbedding(5, 3, mask_zero=True)
    hidden = emb(_ids())
    assert masking.get_mask(hidden).tolist() == [[True, True, False], [True, True, True]]
    assert masking.get_mask(emb(hidden, reverse=True)) is None


def test_gradients_flow_to_the_tied_matrix_from_both_directions():
    model_in = callax.Input((3,), dtype="int32")
    emb = layers.ReversibleEmbedding(7, 4)
    logits = emb(emb(model_in), reverse=True)
    model = callax.Model(model_in, logits)
    assert model.output_shape == (None, 3, 7)
    model.compile(
        optimizer="sgd", loss=callax.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    before = np.asarray(emb.embeddings.value).copy()
    model.fit(np.array([[1, 2, 3]]), np.array([[2, 3, 4]]), epochs=1, verbose=0)
    assert not np.allclose(before, np.asarray(emb.embeddings.value))


def test_config_round_trip_and_keras_keys():
    emb = layers.ReversibleEmbedding(
        10, 4, tie_weights=False, reverse_dtype="float32", logit_soft_cap=30.0, name="tok"
    )
    config = emb.get_config()
    again = layers.deserialize(layers.serialize(emb))
    assert isinstance(again, layers.ReversibleEmbedding)
    assert again.get_config() == config
    keras = pytest.importorskip("keras", reason="Keras 3 is the test oracle")
    reference = keras.layers.ReversibleEmbedding(
        10, 4, tie_weights=False, reverse_dtype="float32", logit_soft_cap=30.0, name="tok"
    ).get_config()
    for key in ("input_dim", "output_dim", "tie_weights", "reverse_dtype", "logit_soft_cap",
                "mask_zero", "name"):  # fmt: skip
        assert config[key] == reference[key], key


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match="ReversibleEmbedding 'r'.*logit_soft_cap"):
        layers.ReversibleEmbedding(5, 3, logit_soft_cap=-1.0, name="r")
    emb = layers.ReversibleEmbedding(5, 3, name="r2")
    emb.build()
    with pytest.raises(ValueError, match="output_dim=3.*shape"):
        emb(np.ones((2, 4), "float32"), reverse=True)
    with pytest.raises(TypeError, match="floating hidden states"):
        emb(np.ones((2, 3), "int32"), reverse=True)
