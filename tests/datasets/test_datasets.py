"""Data set loaders on small fake files in a temporary cache (no network):
parsing, shapes, dtypes, Keras's word-index transforms and splits, with Keras
itself as the oracle where its loader runs without TensorFlow."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

import callax
from callax.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from callax.utils import file_utils


def _sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh KERAS_HOME; any download attempt fails the test."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(origin, target):
        raise AssertionError(f"unexpected download of {origin}")

    monkeypatch.setattr(file_utils, "_download", no_network)
    os.makedirs(tmp_path / "datasets")
    return tmp_path / "datasets"


def _ragged(rng, n, low=1, high=12, vocab=40):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = list(rng.integers(1, vocab, rng.integers(low, high)).tolist())
    return out


def test_mnist_reads_the_cached_npz(cache, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6).astype(np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3).astype(np.uint8),
    }
    np.savez(cache / "mnist.npz", **arrays)
    monkeypatch.setattr(mnist, "_SHA256", _sha256(cache / "mnist.npz"))
    (x_train, y_train), (x_test, y_test) = callax.datasets.mnist.load_data()
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_a_cached_file_with_a_wrong_hash_is_downloaded_again(cache, monkeypatch):
    good = io.BytesIO()
    np.savez(good, x_train=np.zeros((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8),
             x_test=np.ones((1, 28, 28), np.uint8), y_test=np.ones(1, np.uint8))  # fmt: skip
    (cache / "mnist.npz").write_bytes(b"truncated")
    monkeypatch.setattr(mnist, "_SHA256", hashlib.sha256(good.getvalue()).hexdigest())
    fetched = []

    def fake_download(origin, target):
        fetched.append(origin)
        with open(target, "wb") as f:
            f.write(good.getvalue())

    monkeypatch.setattr(file_utils, "_download", fake_download)
    (_, _), (x_test, _) = mnist.load_data()
    assert fetched == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert x_test.sum() == 28 * 28


def test_fashion_mnist_parses_idx_files(cache):
    rng = np.random.default_rng(1)
    folder = cache / "fashion-mnist"
    os.makedirs(folder)
    x_train = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, 4).astype(np.uint8)
    x_test = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, 2).astype(np.uint8)
    for name, header, data in [
        ("train-labels-idx1-ubyte.gz", 8, y_train), ("train-images-idx3-ubyte.gz", 16, x_train),
        ("t10k-labels-idx1-ubyte.gz", 8, y_test), ("t10k-images-idx3-ubyte.gz", 16, x_test),
    ]:  # fmt: skip
        with gzip.open(folder / name, "wb") as f:
            f.write(b"\0" * header + data.tobytes())
    (a, b), (c, d) = fashion_mnist.load_data()
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(b, y_train)
    np.testing.assert_array_equal(c, x_test)
    np.testing.assert_array_equal(d, y_test)
    assert a.shape == (4, 28, 28) and b.dtype == np.uint8


def _cifar_archive(path, top, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_cifar10_extracts_and_parses_batches(cache, monkeypatch):
    rng = np.random.default_rng(2)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8),
                         b"labels": rng.integers(0, 10, 2).tolist()}  # fmt: skip
    archive = cache / "cifar-10-batches-py-target_archive"
    _cifar_archive(archive, "cifar-10-batches-py", batches)
    monkeypatch.setattr(cifar10, "_SHA256", _sha256(archive))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (2, 32, 32, 3) and y_test.dtype == np.uint8
    # Pixel (row 1, col 2, channel 2) of image 0: CHW offset 2*1024 + 1*32 + 2.
    assert x_train[0, 1, 2, 2] == batches["data_batch_1"][b"data"][0, 2 * 1024 + 32 + 2]
    assert y_train[9, 0] == batches["data_batch_5"][b"labels"][1]
    callax.config.set_image_data_format("channels_first")
    try:
        (x_cf, _), _ = cifar10.load_data()  # extracted already: no second extraction needed
    finally:
        callax.config.set_image_data_format("channels_last")
    assert x_cf.shape == (10, 3, 32, 32)


def test_cifar100_label_modes(cache, monkeypatch):
    rng = np.random.default_rng(3)
    split = {
        name: {b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
               b"fine_labels": rng.integers(0, 100, 3).tolist(),
               b"coarse_labels": rng.integers(0, 20, 3).tolist()}
        for name in ("train", "test")
    }  # fmt: skip
    archive = cache / "cifar-100-python-target_archive"
    _cifar_archive(archive, "cifar-100-python", split)
    monkeypatch.setattr(cifar100, "_SHA256", _sha256(archive))
    (_, y_fine), _ = cifar100.load_data()
    (_, y_coarse), (x_test, _) = cifar100.load_data(label_mode="coarse")
    np.testing.assert_array_equal(y_fine[:, 0], split["train"][b"fine_labels"])
    np.testing.assert_array_equal(y_coarse[:, 0], split["train"][b"coarse_labels"])
    assert x_test.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar_batches_refuse_arbitrary_pickled_objects(cache, monkeypatch):
    archive = cache / "cifar-100-python-target_archive"
    _cifar_archive(archive, "cifar-100-python", {"train": {b"data": os.getcwd}})
    monkeypatch.setattr(cifar100, "_SHA256", _sha256(archive))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        cifar100.load_data()


def _numpy_reference_sequences(xs, labels, seed, start_char, oov_char, index_from,
                               num_words, skip_top, maxlen):  # fmt: skip
    """The Keras conventions written out plainly (independent of the loader)."""
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    seqs = [[start_char] + [w + index_from for w in xs[i]] for i in order]
    labs = [labels[i] for i in order]
    if maxlen:
        keep = [i for i, s in enumerate(seqs) if len(s) < maxlen]
        seqs, labs = [seqs[i] for i in keep], [labs[i] for i in keep]
    top = num_words or max(max(s) for s in seqs)
    seqs = [[w if skip_top <= w < top else oov_char for w in s] for s in seqs]
    return seqs, labs


def test_reuters_matches_the_reference_transform(cache, monkeypatch):
    rng = np.random.default_rng(4)
    x, y = _ragged(rng, 20), rng.integers(0, 46, 20)
    np.savez(cache / "reuters.npz", x=x, y=y)
    monkeypatch.setattr(reuters, "_SHA256", _sha256(cache / "reuters.npz"))
    (xt, yt), (xv, yv) = reuters.load_data(num_words=20, skip_top=4, maxlen=10)
    seqs, labs = _numpy_reference_sequences(x, y, 113, 1, 2, 3, 20, 4, 10)
    cut = int(len(seqs) * 0.8)
    assert [list(s) for s in xt] == seqs[:cut] and [list(s) for s in xv] == seqs[cut:]
    assert yt.tolist() == labs[:cut] and yv.tolist() == labs[cut:]
    assert xt.dtype == object
    assert len(reuters.get_label_names()) == 46


def test_imdb_defaults_and_options_against_keras(cache, monkeypatch):
    keras = pytest.importorskip("keras")
    from keras.src.datasets import imdb as keras_imdb

    rng = np.random.default_rng(5)
    arrays = {"x_train": _ragged(rng, 12), "y_train": rng.integers(0, 2, 12),
              "x_test": _ragged(rng, 8), "y_test": rng.integers(0, 2, 8)}  # fmt: skip
    np.savez(cache / "imdb.npz", **arrays)
    monkeypatch.setattr(imdb, "_SHA256", _sha256(cache / "imdb.npz"))
    monkeypatch.setattr(keras_imdb, "get_file", lambda *a, **k: str(cache / "imdb.npz"))
    for kwargs in [
        {},
        {"num_words": 25, "skip_top": 5, "maxlen": 9},
        {"oov_char": None, "num_words": 20},
        {"start_char": None, "index_from": 0},
    ]:
        ours = imdb.load_data(**kwargs)
        theirs = keras.datasets.imdb.load_data(**kwargs)
        for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
            assert a.dtype == b.dtype and a.shape == b.shape, kwargs
            assert [list(s) if a.dtype == object else s for s in a] == [
                list(s) if b.dtype == object else s for s in b
            ], kwargs


def test_imdb_word_index_is_read_from_the_cache(cache, monkeypatch):
    (cache / "imdb_word_index.json").write_text('{"the": 1, "movie": 17}')
    with pytest.raises(AssertionError, match="unexpected download"):  # md5 mismatch
        imdb.get_word_index()
    import callax.datasets._sequences as seq

    real = seq.word_index
    md5 = hashlib.md5((cache / "imdb_word_index.json").read_bytes()).hexdigest()
    monkeypatch.setattr(seq, "word_index", lambda path, remote, _: real(path, remote, md5))
    assert imdb.get_word_index() == {"the": 1, "movie": 17}


@pytest.mark.parametrize("module, name, features", [
    (boston_housing, "boston_housing.npz", 13),
    (california_housing, "california_housing.npz", 8),
])  # fmt: skip
def test_housing_split_matches_keras(cache, monkeypatch, module, name, features):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(31, features)), rng.normal(size=31)
    np.savez(cache / name, x=x, y=y)
    monkeypatch.setattr(module, "_SHA256", _sha256(cache / name))
    keras_module = getattr(keras.src.datasets, module.__name__.rsplit(".", 1)[1])
    monkeypatch.setattr(keras_module, "get_file", lambda *a, **k: str(cache / name))
    for kwargs in [{}, {"test_split": 0.5, "seed": 3}]:
        ours = module.load_data(**kwargs)
        theirs = keras_module.load_data(**kwargs)
        for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="test_split"):
        module.load_data(test_split=1.0)
