"""Files move both ways between Keras 3 and callax with identical predictions:
every layer's weights (.weights.h5, same layout), and whole models (.keras)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_catalog import available, build, call, case_id, make_input

import callax

keras = pytest.importorskip("keras")

# Catalog cases Keras 3 (JAX backend) cannot run inside a model as the test does:
# its Normalization(mean=, variance=) leaks a tracer on build; the string layers
# need TensorFlow string tensors.
KERAS_CANNOT = {"Normalization", "StringLookup", "TextVectorization"}
CASES = [
    c for c in available(callax.layers) if hasattr(keras.layers, c[0]) and c[0] not in KERAS_CANNOT
]


def _twin_classes():
    class KWrap(keras.Model):
        def __init__(self, layer, **kwargs):
            super().__init__(**kwargs)
            self.layer = layer

        def call(self, x):
            return call(self.layer, x)

    class CWrap(callax.Model):
        def __init__(self, layer, **kwargs):
            super().__init__(**kwargs)
            self.layer = layer

        def call(self, x):
            return call(self.layer, x)

    return KWrap, CWrap


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        value = rng.normal(size=v.shape).astype(np.asarray(v.value).dtype)
        if "variance" in v.name:
            value = np.abs(value) + 0.5
        v.assign(value)


def _close(a, b):
    for x, y in zip(_flat(a), _flat(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=2e-5)


def _flat(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_layer_weights_keras_to_callax_and_back(case, tmp_path):
    KWrap, CWrap = _twin_classes()
    x = make_input(case)
    km = KWrap(build(keras.layers, case))
    km(x)
    _randomize(km, 0)
    km.save_weights(tmp_path / "k.weights.h5")
    cm = CWrap(build(callax.layers, case))
    cm(x)
    cm.load_weights(tmp_path / "k.weights.h5")
    _close(cm(x), km(x))
    # and back: callax writes, Keras reads
    _randomize(cm, 1)
    cm.save_weights(tmp_path / "c.weights.h5")
    km.load_weights(tmp_path / "c.weights.h5")
    _close(km(x), cm(x))


def _sequential(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"),
        L.BatchNormalization(), L.MaxPooling2D(2), L.DepthwiseConv2D(2), L.SeparableConv2D(4, 2),
        L.Conv2DTranspose(3, 2, strides=2), L.ZeroPadding2D(1), L.GlobalAveragePooling2D(),
        L.RepeatVector(3), L.LSTM(5, return_sequences=True), L.GRU(4, return_sequences=True),
        L.SimpleRNN(3, return_sequences=True), L.Conv1D(4, 2), L.LayerNormalization(),
        L.Flatten(), L.Dense(6, activation="tanh"), L.Dropout(0.2), L.Reshape((3, 2)),
        L.Permute((2, 1)), L.Flatten(), L.UnitNormalization(), L.Dense(2),
    ])  # fmt: skip


def _functional(lib):
    L = lib.layers
    ids = lib.Input((4,), dtype="int32")
    feats = lib.Input((6,))
    e = L.Flatten()(L.Embedding(12, 3)(ids))
    h = L.Dense(12, activation="relu")(feats)
    a = L.Concatenate()([e, h])
    b = L.Dense(24)(a)
    m = L.Add()([L.Dense(24)(a), b])
    m = L.Multiply()([m, L.Activation("sigmoid")(b)])
    q = L.Reshape((4, 6))(m)
    att = L.MultiHeadAttention(num_heads=2, key_dim=3)(q, q)
    out = L.Dense(3)(L.GlobalMaxPooling1D()(L.Subtract()([att, q])))
    return lib.Model([ids, feats], out)


def _data(kind, n=8):
    rng = np.random.default_rng(0)
    if kind == "seq":
        x = rng.normal(size=(n, 8, 8, 3)).astype("float32")
        return x, rng.normal(size=(n, 2)).astype("float32")
    x = [rng.integers(0, 12, size=(n, 4)).astype("int32"),
         rng.normal(size=(n, 6)).astype("float32")]  # fmt: skip
    return x, rng.normal(size=(n, 3)).astype("float32")


@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_keras_model_file_loads_in_callax(kind, tmp_path):
    km = (_sequential if kind == "seq" else _functional)(keras)
    x, y = _data(kind)
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    km.fit(x, y, epochs=2, batch_size=4, verbose=0)
    km.save(tmp_path / "k.keras")
    km.save_weights(tmp_path / "k.weights.h5")
    cm = callax.saving.load_model(tmp_path / "k.keras")
    _close(cm.predict(x, verbose=0), km.predict(x, verbose=0))
    assert int(cm.optimizer.iterations.numpy()) == int(km.optimizer.iterations.numpy()) == 4
    for a, b in zip(km.optimizer.variables, cm.optimizer.variables):
        np.testing.assert_allclose(np.asarray(b.value), np.asarray(a.value), rtol=1e-6)
    fresh = (_sequential if kind == "seq" else _functional)(callax)
    fresh.load_weights(tmp_path / "k.weights.h5")
    _close(fresh.predict(x, verbose=0), km.predict(x, verbose=0))


@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_callax_model_file_loads_in_keras(kind, tmp_path):
    cm = (_sequential if kind == "seq" else _functional)(callax)
    x, y = _data(kind)
    cm.compile(optimizer=callax.optimizers.Adam(0.01), loss="mse")
    cm.fit(x, y, epochs=2, batch_size=4, verbose=0)
    cm.save(tmp_path / "c.keras")
    km = keras.saving.load_model(tmp_path / "c.keras")
    _close(km.predict(x, verbose=0), cm.predict(x, verbose=0))
    assert int(km.optimizer.iterations.numpy()) == 4
    for a, b in zip(cm.optimizer.variables, km.optimizer.variables):
        np.testing.assert_allclose(np.asarray(b.value), np.asarray(a.value), rtol=1e-6)
