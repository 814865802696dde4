"""Shared data for the data-source tests. Classes live here, in an importable
module, because PyDataset worker processes unpickle them by module name."""

from __future__ import annotations

import numpy as np

import callax as keras

RNG = np.random.default_rng(0)
X = RNG.random((40, 4)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.1).astype("float32")
W = RNG.random(40).astype("float32")
BATCH = 8  # 5 batches of 8


class Batches(keras.utils.PyDataset):
    """X, Y in batches of BATCH (picklable: use_multiprocessing works)."""

    def __len__(self):
        return len(X) // BATCH

    def __getitem__(self, i):
        rows = slice(i * BATCH, (i + 1) * BATCH)
        return X[rows], Y[rows]


class Regressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


class TwoInputs(keras.Model):
    """``call`` takes a dict {"a": (n, 2), "b": (n, 2)}."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, inputs):
        return self.dense(keras.ops.concatenate([inputs["a"], inputs["b"]], axis=-1))


def fresh(cls=Regressor, sample=None, **compile_kw):
    """A compiled model with the same initial weights every time."""
    keras.utils.set_random_seed(0)
    model = cls()
    model(X[:2] if sample is None else sample)
    compile_kw.setdefault("optimizer", keras.optimizers.SGD(0.05))
    compile_kw.setdefault("loss", "mse")
    model.compile(**compile_kw)
    return model


def assert_same_weights(a, b, rtol=1e-5, atol=1e-6):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=atol)


def split(x):
    """X as the dict input of TwoInputs."""
    return {"a": x[:, :2], "b": x[:, 2:]}
