"""Legacy Keras 2 .h5 files (Keras 3's `model.save("x.h5")`) load with load_weights."""

import numpy as np
import pytest

import callax


def _models(lib):
    return lib.Sequential(
        [lib.Input((4,)), lib.layers.Dense(3, activation="relu"), lib.layers.Dropout(0.1),
         lib.layers.Dense(2)]
    )  # fmt: skip


def test_keras_legacy_h5_loads_into_callax(tmp_path):
    keras = pytest.importorskip("keras")
    km = _models(keras)
    path = str(tmp_path / "model.h5")
    km.save(path)  # Keras 3 writes the legacy (Keras 2) layout for .h5
    cm = _models(callax)
    cm.load_weights(path)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(cm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=1e-5)


def test_legacy_h5_with_wrong_shapes_loads_nothing(tmp_path):
    keras = pytest.importorskip("keras")
    km = _models(keras)
    path = str(tmp_path / "model.h5")
    km.save(path)
    other = callax.Sequential([callax.Input((4,)), callax.layers.Dense(5), callax.layers.Dense(2)])
    before = [w.numpy().copy() for w in other.weights]
    with pytest.raises(ValueError, match="expects weights of shapes"):
        other.load_weights(path)
    for w, b in zip(other.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)
