"""Keras 3 names user code reaches for, and the utils against Keras as oracle."""

import numpy as np
import pytest

import callax


def test_top_level_names_exist():
    for name in ["Model", "Sequential", "Input", "Layer", "Variable", "KerasTensor", "Optimizer",
                 "Loss", "Metric", "Initializer", "Regularizer", "DTypePolicy", "version",
                 "ops", "layers", "models", "losses", "metrics", "optimizers", "callbacks",
                 "utils", "saving", "config", "random", "initializers", "regularizers",
                 "constraints", "activations", "mixed_precision", "backend"]:  # fmt: skip
        assert hasattr(callax, name), name


def test_utils_match_keras():
    keras = pytest.importorskip("keras")
    labels = np.array([[2], [0], [1]])
    np.testing.assert_array_equal(
        callax.utils.to_categorical(labels, 4), keras.utils.to_categorical(labels, 4)
    )
    seqs = [[1, 2, 3, 4], [5], []]
    for kw in [{}, {"maxlen": 2}, {"padding": "post", "truncating": "post", "maxlen": 3}]:
        np.testing.assert_array_equal(
            callax.utils.pad_sequences(seqs, **kw), keras.utils.pad_sequences(seqs, **kw)
        )
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(callax.utils.normalize(x), keras.utils.normalize(x), rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"labels must be in \[0, 2\); received labels in \[0, 5\]"
    ):
        callax.utils.to_categorical([0, 5], 2)


def test_clear_session_resets_names():
    callax.layers.Dense(1)
    callax.backend.clear_session()
    assert callax.layers.Dense(1).name == "dense"
