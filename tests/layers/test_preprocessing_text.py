"""Categorical and text preprocessing layers: hashes against published vectors and
Keras's documented outputs, encodings against numpy formulas, lookups and
TextVectorization against hand-computed expectations, Keras 3 as oracle where it
runs without TensorFlow (CategoryEncoding, Discretization)."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import callax
from callax.layers.preprocessing.string_hash import fingerprint64, siphash64

L = callax.layers
LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


# ------------------------------------------------------------------------ hashes
# Reference values from Google's FarmHash (C++ library via pyfarmhash), one per code
# path (lengths 0, 1-3, 4-7, 8-16, 17-32, 33-64, > 64).
FARMHASH_VECTORS = [
    (b"", 0x9AE16A3B2F90404F),
    (b"abc", 0x24A5B3A074E7F369),
    (b"abcdefg", 0x3C40C92B1CCB7355),
    (b"hello world!", 0x3F87E91E111FCF64),
    (b"the quick brown fox!", 0x124314E076085A91),
    (b"x" * 40, 0xEBF8E8AEAC993C94),
    (b"The quick brown fox jumps over the lazy dog, again and again." * 2, 0xEAB18EAE02BBCB0),
    (bytes(range(200)), 0x74C7FCC26D66FB3),
]


@pytest.mark.parametrize("data,expected", FARMHASH_VECTORS)
def test_fingerprint64_reference_vectors(data, expected):
    assert fingerprint64(data) == expected


def test_fingerprint64_matches_farmhash_library_when_installed():
    farmhash = pytest.importorskip("farmhash")
    rng = np.random.default_rng(0)
    for n in list(range(0, 140)) + [255, 256, 1000]:
        data = rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()
        assert fingerprint64(data) == farmhash.fingerprint64(data)


def test_siphash_reference_vectors():
    # SipHash-2-4 paper (Aumasson & Bernstein), key 00..0f.
    key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    assert siphash64(b"", key) == 0x726FDB47DD0E0E31
    assert siphash64(bytes(range(15)), key) == 0xA129CA6149BE45E5


def test_hashing_matches_keras_documented_outputs():
    assert L.Hashing(num_bins=3)(LETTERS).ravel().tolist() == [1, 0, 1, 1, 2]
    masked = L.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])
    assert masked.ravel().tolist() == [1, 1, 0, 2, 2]
    assert L.Hashing(3, salt=[133, 137])(np.array(LETTERS)).ravel().tolist() == [1, 2, 1, 0, 2]
    assert L.Hashing(3, salt=133)(np.array(LETTERS)).ravel().tolist() == [0, 0, 2, 1, 0]


def test_hashing_integers_and_output_modes():
    # Integers hash through their decimal text; floats are cast to int first (Keras).
    ints = np.array([[1], [22], [333]])
    expected = [fingerprint64(str(v)) % 7 for v in (1, 22, 333)]
    assert L.Hashing(7)(ints).ravel().tolist() == expected
    assert L.Hashing(7)(ints.astype("float32")).ravel().tolist() == expected
    words = np.array([["a", "b"], ["c", "c"]])
    bins = np.array([[fingerprint64(w) % 5 for w in row] for row in words])
    multi = np.asarray(L.Hashing(5, output_mode="multi_hot")(words))
    count = np.asarray(L.Hashing(5, output_mode="count")(words))
    for r in range(2):
        np.testing.assert_array_equal(multi[r], np.isin(np.arange(5), bins[r]).astype(float))
        np.testing.assert_array_equal(count[r], np.bincount(bins[r], minlength=5))
    one = L.Hashing(5, output_mode="one_hot")(np.array([["a"], ["b"]]))
    assert one.shape == (2, 5)
    config = L.Hashing(5, salt=3, mask_value="").get_config()
    assert config["salt"] == [3, 3] and config["mask_value"] == ""
    with pytest.raises(ValueError, match="Hashing 'hashing.*num_bins must be a positive int"):
        L.Hashing(0)
    with pytest.raises(TypeError, match="cannot run inside a jitted function"):
        jax.jit(lambda x: L.Hashing(3)(x))(np.array([1, 2]))


# -------------------------------------------------------------- CategoryEncoding
@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_keras(mode):
    keras = pytest.importorskip("keras")
    x = np.array([[0, 1, 1, 3], [2, 2, 0, 0]])
    for inp in (x, x[:, :1], x[0], x.reshape(2, 2, 2)):
        k = keras.layers.CategoryEncoding(4, output_mode=mode)
        c = L.CategoryEncoding(4, output_mode=mode)
        np.testing.assert_array_equal(np.asarray(c(inp)), np.asarray(k(inp)))
        assert c.compute_output_shape(inp.shape) == k.compute_output_shape(inp.shape)


def test_category_encoding_numpy_formula_and_weights():
    x = np.array([[0, 1, 1, 3], [2, 2, 0, 0]])
    w = np.array([[0.5, 1.0, 2.0, 1.0], [1.0, 1.0, 3.0, 3.0]], np.float32)
    out = L.CategoryEncoding(4, output_mode="count")(x, count_weights=w)
    expected = np.zeros((2, 4))
    for r in range(2):
        np.add.at(expected[r], x[r], w[r])
    np.testing.assert_allclose(out, expected)
    jitted = callax.jit(L.CategoryEncoding(4, output_mode="multi_hot"))
    np.testing.assert_array_equal(jitted(x), [[1, 1, 0, 1], [1, 0, 1, 0]])
    with pytest.raises(ValueError, match="output_mode must be one of.*received output_mode='x'"):
        L.CategoryEncoding(4, output_mode="x")
    with pytest.raises(
        ValueError, match="num_tokens must be a positive int; received num_tokens=None"
    ):
        L.CategoryEncoding()
    with pytest.raises(ValueError, match="count_weights is only used with output_mode='count'"):
        L.CategoryEncoding(4)(x, count_weights=w)
    with pytest.raises(ValueError, match="sparse=True"):
        L.CategoryEncoding(4, sparse=True)


# ---------------------------------------------------------------- Discretization
@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_matches_keras(mode):
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    x[0, :3] = [-1.0, 0.0, 0.5]  # values exactly on boundaries
    k = keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)
    c = L.Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)
    ko, co = np.asarray(k(x)), np.asarray(c(x))
    assert ko.dtype == co.dtype
    np.testing.assert_array_equal(co, ko)
    assert c.compute_output_shape(x.shape) == k.compute_output_shape(x.shape)


def test_discretization_adapt_quantiles():
    x = np.random.default_rng(1).uniform(size=(200, 2))
    layer = L.Discretization(num_bins=4)
    layer.adapt(x)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(x, [0.25, 0.5, 0.75]), 1e-6)
    counts = np.bincount(np.asarray(layer(x)).ravel(), minlength=4)
    assert counts.tolist() == [100, 100, 100, 100]
    np.testing.assert_array_equal(layer(x), np.digitize(x, layer.bin_boundaries))
    batched = L.Discretization(num_bins=4)
    batched.adapt([x[:50], x[50:]])
    assert batched.bin_boundaries == layer.bin_boundaries
    with pytest.raises(ValueError, match="either bin_boundaries or num_bins"):
        L.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="adapt\\(\\) needs num_bins"):
        L.Discretization(bin_boundaries=[0.0]).adapt(x)
    with pytest.raises(ValueError, match="no bin boundaries yet"):
        L.Discretization(num_bins=3)(x)


# ------------------------------------------------------------------ StringLookup
def test_string_lookup_basic_mask_and_oov():
    layer = L.StringLookup(vocabulary=["a", "b", "c"])
    assert layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).tolist() == [[1, 3, 0], [0, 0, 2]]
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    assert layer.vocabulary_size() == 4
    masked = L.StringLookup(vocabulary=["a", "b"], mask_token="", num_oov_indices=2)
    assert masked.get_vocabulary() == ["", "[UNK]", "[UNK]", "a", "b"]
    out = masked(np.array(["a", "", "zz", "b"])).tolist()
    assert out == [3, 0, 1 + fingerprint64("zz") % 2, 4]
    with pytest.raises(ValueError, match=r"num_oov_indices=0 .* \['q'\]"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["a", "q"]))


def test_string_lookup_encodings_match_numpy():
    vocab = ["a", "b", "c"]
    x = np.array([["a", "b", "b", "z"], ["c", "c", "", "a"]])
    idx = np.array([[1, 2, 2, 0], [3, 3, -1, 1]])  # '' is the mask: dropped
    multi = L.StringLookup(vocabulary=vocab, mask_token="", output_mode="multi_hot")(x)
    count = L.StringLookup(vocabulary=vocab, mask_token="", output_mode="count")(x)
    for r in range(2):
        kept = idx[r][idx[r] >= 0]
        np.testing.assert_array_equal(multi[r], np.isin(np.arange(4), kept).astype(float))
        np.testing.assert_array_equal(count[r], np.bincount(kept, minlength=4))
    one = L.StringLookup(vocabulary=vocab, output_mode="one_hot")(np.array(["b", "q"]))
    np.testing.assert_array_equal(one, np.eye(4)[[2, 0]])
    idf = [0.5, 1.0, 2.0]
    tfidf = L.StringLookup(vocabulary=vocab, idf_weights=idf, output_mode="tf_idf")
    # the OOV column takes the mean weight (Keras's convention)
    np.testing.assert_allclose(tfidf(np.array([["a", "c", "c", "q"]])),
                               [[np.mean(idf), 0.5, 0.0, 4.0]])  # fmt: skip
    padded = L.StringLookup(vocabulary=vocab, output_mode="count", max_tokens=6,
                            pad_to_max_tokens=True)  # fmt: skip
    assert padded(np.array([["a"]])).shape == (1, 6)


def test_string_lookup_adapt_order_and_tf_idf():
    layer = L.StringLookup(output_mode="tf_idf")
    data = np.array([["b", "b", "c"], ["a", "c", "d"], ["d", "d", "d"]])
    layer.adapt(data)
    # counts: d 4, b 2, c 2, a 1; ties broken by token, descending.
    assert layer.get_vocabulary() == ["[UNK]", "d", "c", "b", "a"]
    doc_freq = {"d": 2, "c": 2, "b": 1, "a": 1}
    weights = [math.log(1 + 3 / (1 + doc_freq[t])) for t in "dcba"]
    expected_idf = [np.mean(weights)] + weights
    np.testing.assert_allclose(layer(np.array([["d", "a", "a"]])),
                               [[0, expected_idf[1], 0, 0, 2 * expected_idf[4]]], rtol=1e-6)  # fmt: skip
    limited = L.StringLookup(max_tokens=3)
    limited.adapt(data)
    assert limited.get_vocabulary() == ["[UNK]", "d", "c"]
    one_doc = L.StringLookup(output_mode="tf_idf")
    one_doc.adapt(np.array(["x", "y", "x"]))  # rank 1: a single document
    np.testing.assert_allclose(one_doc._idf[1:], [math.log(1 + 1 / 2)] * 2, rtol=1e-6)


def test_string_lookup_invert_file_and_errors(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    layer = L.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    inv = L.StringLookup(vocabulary=["a", "b"], mask_token="", invert=True)
    assert inv(np.array([2, 3, 9, 0])).tolist() == ["a", "b", "[UNK]", ""]
    with_special = L.StringLookup(vocabulary=["[UNK]", "x", "y"])
    assert with_special.get_vocabulary() == ["[UNK]", "x", "y"]
    with pytest.raises(ValueError, match=r"repeats terms; received repeats \['a'\]"):
        L.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="mask token '' may only appear at the start"):
        L.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="more than max_tokens=2"):
        L.StringLookup(vocabulary=["a", "b"], max_tokens=2)
    with pytest.raises(ValueError, match="invert=True needs output_mode='int'"):
        L.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="does not exist"):
        L.StringLookup(vocabulary=str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError, match="StringLookup 'string_lookup.*' looks up strings"):
        L.StringLookup(vocabulary=["a"])(np.array([1, 2]))


def test_string_lookup_config_round_trip():
    layer = L.StringLookup(output_mode="tf_idf", mask_token="")
    layer.adapt(np.array([["b", "b", "c"], ["a", "c", "d"]]))
    clone = L.StringLookup.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    x = np.array([["a", "b", "q", ""]])
    np.testing.assert_allclose(clone(x), layer(x), rtol=1e-6)


# ----------------------------------------------------------------- IntegerLookup
def test_integer_lookup_eager_and_jit():
    layer = L.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    x = np.array([[12, 1138, 42], [42, 1000, 36]])
    assert layer(x).tolist() == [[1, 3, 4], [4, 0, 2]]
    np.testing.assert_array_equal(jax.jit(lambda v: layer(v))(x), layer(x))
    # floormod OOV with a mask token
    several = L.IntegerLookup(vocabulary=[12, 36], mask_token=0, num_oov_indices=2)
    assert several(np.array([12, 0, 5, 6, 36])).tolist() == [3, 0, 1 + 5 % 2, 1 + 6 % 2, 4]
    assert several.get_vocabulary() == [0, -1, -1, 12, 36]
    farm = L.IntegerLookup(vocabulary=[12], num_oov_indices=3, oov_method="farmhash")
    assert farm(np.array([7])).tolist() == [fingerprint64("7") % 3]
    multi = L.IntegerLookup(vocabulary=[5, 6], output_mode="multi_hot")
    np.testing.assert_array_equal(jax.jit(lambda v: multi(v))(np.array([[5, 9], [6, 6]])),
                                  [[1, 1, 0], [0, 0, 1]])  # fmt: skip
    inv = L.IntegerLookup(vocabulary=[12, 36], invert=True)
    assert inv(np.array([0, 1, 2, 5])).tolist() == [-1, 12, 36, -1]
    adapted = L.IntegerLookup()
    adapted.adapt(np.array([3, 3, 5, 7, 7, 7]))
    assert adapted.get_vocabulary() == [-1, 7, 3, 5]
    with pytest.raises(ValueError, match=r"num_oov_indices=0 .* \[9\]"):
        L.IntegerLookup(vocabulary=[1], num_oov_indices=0)(np.array([1, 9]))
    clone = L.IntegerLookup.from_config(adapted.get_config())
    assert clone.get_vocabulary() == adapted.get_vocabulary()


# -------------------------------------------------------------- TextVectorization
def test_text_vectorization_int_mode():
    vectorize = L.TextVectorization(output_sequence_length=4)
    vectorize.adapt(["The cat sat.", "The dog sat down!"])
    assert vectorize.get_vocabulary() == ["", "[UNK]", "the", "sat", "down", "dog", "cat"]
    assert vectorize(np.array(["the cat ran"])).tolist() == [[2, 6, 1, 0]]
    assert vectorize(np.array([["THE dog, sat down the cat"]])).tolist() == [[2, 5, 3, 4]]
    ragged = L.TextVectorization(vocabulary=["a", "b"])
    assert ragged(["a b a", "b"]).tolist() == [[2, 3, 2], [3, 0, 0]]
    assert ragged.compute_output_shape((None,)) == (None, None)


def test_text_vectorization_standardize_split_ngrams():
    text = np.array(["Hello, World! Héllo"])
    lower = L.TextVectorization(standardize="lower", vocabulary=["hello,", "world!"])
    assert lower(text).tolist() == [[2, 3, 1]]
    strip = L.TextVectorization(standardize="strip_punctuation", vocabulary=["Hello", "World"])
    assert strip(text).tolist() == [[2, 3, 1]]
    # Keras lowercases ASCII only (tf.strings.lower): 'É' stays.
    assert L.TextVectorization()._standardize(np.array(["ÉA"], dtype=object)).tolist() == ["Éa"]
    chars = L.TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    assert chars(["abz"]).tolist() == [[2, 4, 1]]
    grams = L.TextVectorization(ngrams=2, vocabulary=["a", "b", "a b", "b c"])
    assert grams(["a b c"]).tolist() == [[2, 3, 1, 4, 5]]  # 1-grams, then 2-grams
    whole = L.TextVectorization(split=None, vocabulary=["x y", "z"])
    assert whole(np.array([["X Y"], ["q"]])).tolist() == [[2], [1]]
    custom = L.TextVectorization(
        standardize=lambda s: np.char.upper(s.astype(str)),
        split=lambda s: [t.split("-") for t in s],
        vocabulary=["A", "B"],
    )
    assert custom(["a-b-c"]).tolist() == [[2, 3, 1]]
    with pytest.raises(ValueError, match=r"last dimension of 1; received input shape \(1, 2\)"):
        L.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))


def test_text_vectorization_vector_modes():
    docs = ["a b c", "a a d"]
    multi = L.TextVectorization(output_mode="multi_hot")
    multi.adapt(docs)
    vocab = multi.get_vocabulary()
    assert vocab == ["[UNK]", "a", "d", "c", "b"]
    np.testing.assert_array_equal(multi(["a z", ""]), [[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]])
    count = L.TextVectorization(output_mode="count", vocabulary=vocab[1:])
    np.testing.assert_array_equal(count(["a a q b"]), [[1, 2, 0, 0, 1]])
    tfidf = L.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(docs)
    idf_a = math.log(1 + 2 / 3)
    idf_one = math.log(1 + 2 / 2)
    mean = np.mean([idf_a, idf_one, idf_one, idf_one])
    np.testing.assert_allclose(tfidf(["a a b q"]), [[mean, 2 * idf_a, 0, 0, idf_one]], rtol=1e-6)
    padded = L.TextVectorization(max_tokens=8, output_mode="count", pad_to_max_tokens=True)
    padded.adapt(docs)
    assert padded(["a"]).shape == (1, 8)
    with pytest.raises(ValueError, match="output_sequence_length only applies to"):
        L.TextVectorization(output_mode="count", output_sequence_length=3)


def test_text_vectorization_adapt_sources_and_vocabulary():
    class Texts(callax.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.array([["x y"], ["y z"]][i]), np.zeros(1)

    from_dataset = L.TextVectorization()
    from_dataset.adapt(Texts())
    assert from_dataset.get_vocabulary() == ["", "[UNK]", "y", "z", "x"]
    from_array = L.TextVectorization(max_tokens=4)
    from_array.adapt(np.array(["x y", "y z"]))
    assert from_array.get_vocabulary() == ["", "[UNK]", "y", "z"]
    from_array.set_vocabulary(["p", "q"])
    assert from_array(["q p r"]).tolist() == [[3, 2, 1]]
    assert from_array.vocabulary_size() == 4


def test_text_vectorization_in_pipeline_model_and_saving(tmp_path):
    vectorize = L.TextVectorization(output_sequence_length=5)
    texts = np.array(["good movie", "bad movie", "good good fun", "bad boring"])
    vectorize.adapt(texts)
    x = vectorize(texts)  # the data pipeline: strings -> int array
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    model = callax.Sequential([L.Embedding(10, 4), L.GlobalAveragePooling1D(), L.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class TextModel(callax.Model):
        def __init__(self, vectorize, **kwargs):
            super().__init__(**kwargs)
            self.vectorize = vectorize
            self.body = model

        def call(self, inputs):
            return self.body(self.vectorize(inputs))

    text_model = TextModel(vectorize)
    # eager call on strings: the strings reach the vectorizer untouched
    np.testing.assert_allclose(text_model(texts), model(x), rtol=1e-6)

    # the vocabulary travels in the config of a saved model
    from callax.saving import deserialize_keras_object, serialize_keras_object

    config = serialize_keras_object(vectorize)
    assert config["config"]["vocabulary"] == vectorize.get_vocabulary(False)
    clone = deserialize_keras_object(config)
    np.testing.assert_array_equal(clone(texts), x)


def test_text_vectorization_errors():
    with pytest.raises(ValueError, match="standardize must be one of"):
        L.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="split must be one of"):
        L.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="ngrams must be None"):
        L.TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="ragged outputs"):
        L.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="has no vocabulary yet"):
        L.TextVectorization(output_mode="count")(["a"])
    with pytest.raises(TypeError, match=r"vectorize the data first.*Received \w+ of dtype int"):
        L.TextVectorization(vocabulary=["a"])(np.array([1, 2]))


def test_text_vectorization_functional_string_input():
    # keras.io's end-to-end pattern: Input(shape=(1,), dtype="string") -> vectorizer
    vectorize = L.TextVectorization(output_sequence_length=4, vocabulary=["the", "cat", "dog"])
    inputs = callax.Input(shape=(1,), dtype="string")
    assert inputs.dtype == "string"
    indices = vectorize(inputs)
    assert (indices.shape, indices.dtype) == ((None, 4), "int32")
    hashed = L.Hashing(5)(inputs)
    assert hashed.shape == (None, 1)
    outputs = L.Dense(1)(L.GlobalAveragePooling1D()(L.Embedding(8, 3)(indices)))
    model = callax.Model(inputs, outputs)
    texts = np.array([["the cat"], ["a dog"]])
    expected = model.layers[-1](model.layers[-2](model.layers[-3](vectorize(texts))))
    np.testing.assert_allclose(model(texts), expected, rtol=1e-6)
    assert vectorize(texts).tolist() == [[2, 3, 0, 0], [1, 4, 0, 0]]
    # a flat batch of strings (what text_dataset_from_directory yields) for the
    # (None, 1) input: expanded on the host, as Keras does for numeric inputs
    np.testing.assert_allclose(model(texts[:, 0]), expected, rtol=1e-6)
    model.compile("sgd", "mse")
    loss = model.evaluate(texts[:, 0], np.zeros((2, 1), "float32"), verbose=0)
    assert np.isclose(loss, np.mean(np.square(np.asarray(expected))), rtol=1e-5)


def test_sequential_starting_with_text_layers():
    vectorize = L.TextVectorization(output_sequence_length=3, vocabulary=["a", "b"])
    model = callax.Sequential([vectorize, L.Embedding(5, 2), L.GlobalAveragePooling1D()])
    out = model(np.array(["a b", "b q"]))
    assert out.shape == (2, 2)
    assert model.inputs[0].dtype == "string"
    lookup = callax.Sequential([L.StringLookup(vocabulary=["x", "y"]), L.Embedding(3, 2)])
    assert lookup(np.array([["y", "z"]])).shape == (1, 2, 2)


def test_fit_predict_evaluate_on_strings_run_eagerly():
    texts = np.array(["good movie", "bad movie", "good good fun", "bad boring"] * 2)
    y = np.array([[1.0], [0.0], [1.0], [0.0]] * 2, np.float32)
    vectorize = L.TextVectorization(output_sequence_length=4)
    vectorize.adapt(texts)
    inputs = callax.Input(shape=(1,), dtype="string")
    outputs = L.Dense(1)(L.GlobalAveragePooling1D()(L.Embedding(10, 3)(vectorize(inputs))))
    model = callax.Model(inputs, outputs)
    model.compile("sgd", "mse")
    before = model.evaluate(texts[:, None], y, verbose=0)
    model.fit(texts[:, None], y, epochs=3, batch_size=4, verbose=0)
    assert not model.jit_compile  # string inputs keep the steps eager (Keras: supports_jit)
    after = model.evaluate(texts[:, None], y, verbose=0)
    assert after < before
    np.testing.assert_allclose(model.predict(texts[:, None], verbose=0), model(texts[:, None]),
                               rtol=1e-5)  # fmt: skip
    numeric = callax.Sequential([L.Dense(1)])
    numeric.compile("sgd", "mse")
    numeric.fit(np.ones((4, 2), np.float32), y[:4], verbose=0)
    assert numeric.jit_compile


def test_discretization_category_encoding_keras_archives(tmp_path):
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")

    def build(lib):
        return lib.Sequential([
            lib.Input((4,)),
            lib.layers.Discretization(bin_boundaries=[-0.5, 0.5]),
            lib.layers.CategoryEncoding(3, output_mode="count"),
        ])  # fmt: skip

    build(callax).save(tmp_path / "c.keras")
    np.testing.assert_array_equal(keras.saving.load_model(tmp_path / "c.keras")(x),
                                  build(callax)(x))  # fmt: skip
    build(keras).save(tmp_path / "k.keras")
    np.testing.assert_array_equal(callax.saving.load_model(tmp_path / "k.keras")(x),
                                  build(keras)(x))  # fmt: skip
    adapted = L.Discretization(num_bins=3)
    adapted.adapt(np.arange(9.0))
    clone = L.Discretization.from_config(adapted.get_config())
    assert clone.bin_boundaries == adapted.bin_boundaries
