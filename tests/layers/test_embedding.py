"""Embedding: lookup, masks, Keras weights and config, gradients, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from callax.layers import Embedding

IDS = np.array([[1, 2, 0], [9, 3, 3]], "int32")


def test_lookup_matches_numpy():
    emb = Embedding(10, 4)
    out = np.asarray(emb(IDS))
    np.testing.assert_array_equal(out, emb.embeddings.numpy()[IDS])
    assert out.shape == (2, 3, 4) and out.dtype == np.float32


def test_default_initializer_is_uniform_005():
    emb = Embedding(500, 40)
    emb.build()
    values = emb.embeddings.numpy()
    assert values.min() >= -0.05 and values.max() <= 0.05
    assert abs(values.std() - 0.1 / np.sqrt(12)) < 0.003  # uniform(-0.05, 0.05)
    assert emb.get_config()["embeddings_initializer"]["class_name"] == "RandomUniform"


def test_mask_zero():
    emb = Embedding(10, 4, mask_zero=True)
    assert emb.compute_mask(IDS).tolist() == [[True, True, False], [True, True, True]]
    assert Embedding(10, 4).compute_mask(IDS) is None


def test_float_indices_are_accepted():
    emb = Embedding(10, 4)
    np.testing.assert_array_equal(np.asarray(emb(IDS.astype("float32"))), np.asarray(emb(IDS)))


def test_weights_argument_and_path():
    table = np.arange(12, dtype="float32").reshape(6, 2)
    emb = Embedding(6, 2, weights=[table])
    np.testing.assert_array_equal(np.asarray(emb(np.array([5, 0]))), table[[5, 0]])
    assert emb.weights[0].path == "embedding/embeddings"


def test_gradient_is_scatter_add():
    emb = Embedding(5, 2)
    emb.build()
    ids = jnp.array([1, 1, 3])

    def loss(table):
        out, _ = emb.stateless_call([table], [], ids)
        return jnp.sum(out)

    grad = np.asarray(jax.grad(loss)(emb.embeddings.value))
    np.testing.assert_array_equal(grad[:, 0], [0, 2, 0, 1, 0])


def test_matches_keras_and_loads_its_config():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    k_emb = keras.layers.Embedding(10, 4, mask_zero=True)
    k_emb(IDS)
    emb = Embedding.from_config(k_emb.get_config())
    emb(IDS)
    assert emb.mask_zero and [w.path for w in emb.weights] == [w.path for w in k_emb.weights]
    emb.embeddings.assign(np.asarray(k_emb.embeddings.value))
    np.testing.assert_array_equal(np.asarray(emb(IDS)), np.asarray(k_emb(IDS)))


def test_config_round_trip():
    emb = Embedding(7, 3, mask_zero=True, embeddings_initializer="zeros")
    assert Embedding.from_config(emb.get_config()).get_config() == emb.get_config()


def test_bad_input():
    with pytest.raises(
        ValueError, match=r"Embedding .*input_dim must be a positive int; received input_dim=0"
    ):
        Embedding(0, 4)
    with pytest.raises(
        ValueError, match=r"output_dim must be a positive int; received output_dim=2.5"
    ):
        Embedding(4, 2.5)
    with pytest.raises(
        TypeError, match=r"Embedding '\w+' expects integer indices; received .*bool"
    ):
        Embedding(4, 2)(np.array([True, False]))
