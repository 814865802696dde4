"""Layers called on other libraries' values: torch / TensorFlow / pandas values are
converted where they enter; symbolic TensorFlow tensors (inside ``tf.data``'s
``map`` or a ``tf.function``) make the call a ``tf.numpy_function`` node
(``callax/core/tf_graph.py``). Keras 3 (JAX backend) accepts the same calls."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import layers

X = np.arange(24, dtype="float32").reshape(4, 6) / 10.0


def _dense():
    layer = layers.Dense(3, kernel_initializer="glorot_uniform", bias_initializer="ones")
    layer.build((None, 6))
    return layer


def test_torch_tensor_input_is_converted_at_the_edge():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    dense = _dense()
    expected = np.asarray(dense(X))
    out = dense(torch.from_numpy(X))
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)
    # float64 torch values take the layer's compute dtype, like NumPy float64
    assert dense(torch.from_numpy(X.astype("float64"))).dtype == np.float32
    # keyword tensors too (a mask given as a torch bool tensor)
    lstm = layers.LSTM(2)
    mask = torch.tensor([[True, True, False]])
    seq = np.ones((1, 3, 2), "float32")
    np.testing.assert_allclose(
        np.asarray(lstm(seq, mask=mask)), np.asarray(lstm(seq, mask=mask.numpy())), rtol=1e-6
    )


def test_tensorflow_eager_and_pandas_inputs_are_converted_at_the_edge():
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    pd = pytest.importorskip("pandas", reason="pandas is not installed")
    dense = _dense()
    expected = np.asarray(dense(X))
    np.testing.assert_allclose(np.asarray(dense(tf.constant(X))), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(dense(pd.DataFrame(X))), expected, rtol=1e-6)
    vectorizer = layers.TextVectorization(output_sequence_length=3)
    vectorizer.adapt(["a b c", "b c"])
    np.testing.assert_array_equal(
        np.asarray(vectorizer(tf.constant(["c b", "a"]))),
        np.asarray(vectorizer(["c b", "a"])),
    )


def _batches(tf, x, batch=2):
    return tf.data.Dataset.from_tensor_slices(x).batch(batch)


def test_layers_in_tf_data_map_compute_what_the_eager_call_computes():
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    dense = _dense()
    model = callax.Sequential([layers.Rescaling(0.5), dense])

    def halves(x):  # a user's function calling a layer, as keras.io examples do
        return layers.Rescaling(0.5)(x) + 1.0

    for fn, expected in [(dense, dense(X)), (model, model(X)), (halves, X * 0.5 + 1.0)]:
        mapped = _batches(tf, X).map(fn)
        assert mapped.element_spec.shape.as_list() == [None, np.shape(expected)[1]]
        assert mapped.element_spec.dtype == tf.float32
        got = np.concatenate(list(mapped.as_numpy_iterator()))
        np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-6)


def test_text_vectorization_in_tf_data_map():
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    texts = ["the cat sat", "the dog", "a cat and a dog", "sat"]
    vectorizer = layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(2))
    mapped = _batches(tf, texts).map(vectorizer)
    assert mapped.element_spec.shape.as_list() == [None, 5]
    got = np.concatenate(list(mapped.as_numpy_iterator()))
    np.testing.assert_array_equal(got, np.asarray(vectorizer(texts)))
    # (text, label) pairs: the usual `ds.map(lambda x, y: (vectorize(x), y))`
    pairs = tf.data.Dataset.from_tensor_slices((texts, [0, 1, 0, 1])).batch(2)
    x, y = next(pairs.map(lambda t, label: (vectorizer(t), label)).as_numpy_iterator())
    np.testing.assert_array_equal(x, np.asarray(vectorizer(texts[:2])))
    np.testing.assert_array_equal(y, [0, 1])


def test_random_augmentation_in_tf_data_map_draws_per_batch_and_trains():
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    images = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
    flip = layers.RandomFlip("horizontal", seed=3)
    ds = tf.data.Dataset.from_tensor_slices((images, np.arange(8) % 2)).batch(8)
    augmented = ds.map(lambda x, y: (flip(x, training=True), y))
    first = next(augmented.as_numpy_iterator())[0]
    flipped = np.array([np.array_equal(a, b[:, ::-1]) and not np.array_equal(a, b)
                        for a, b in zip(first, images)])  # fmt: skip
    kept = np.array([np.array_equal(a, b) for a, b in zip(first, images)])
    assert (flipped | kept).all() and flipped.any() and kept.any()
    runs = {next(augmented.as_numpy_iterator())[0].tobytes() for _ in range(4)}
    assert len(runs) > 1  # each pass draws again from the layer's seed generator
    # inference: no flip
    plain = next(ds.map(lambda x, y: (flip(x, training=False), y)).as_numpy_iterator())[0]
    np.testing.assert_array_equal(plain, images)
    model = callax.Sequential([callax.Input((6, 6, 1)), layers.Flatten(), layers.Dense(2)])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(augmented, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_layer_in_tf_function_and_unknown_rank_is_a_named_error():
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    dense = _dense()
    traced = tf.function(lambda x: dense(x))
    np.testing.assert_allclose(traced(tf.constant(X)).numpy(), np.asarray(dense(X)), rtol=1e-6)
    unknown = tf.function(lambda x: dense(x), input_signature=[tf.TensorSpec(None, tf.float32)])
    with pytest.raises(ValueError, match=r"Dense '.*'.*unknown rank"):
        unknown.get_concrete_function()
