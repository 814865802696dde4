"""Keras 3's per-layer saving hooks: ``save_own_variables`` / ``load_own_variables``
(overridden by custom layers to keep state that is not a variable) and
``get_build_config`` / ``build_from_config``."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import layers, ops


class TableScale(layers.Layer):
    """Keeps a NumPy table next to its weight; saves it as a third entry."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")
        self.table = np.zeros(input_shape[-1], "float32")

    def call(self, x):
        return x * self.scale + self.bias + ops.convert_to_tensor(self.table)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[str(len(store))] = self.table

    def load_own_variables(self, store):
        self.table = np.asarray(store.pop(str(len(store) - 1)))
        super().load_own_variables(store)


def _model(custom=None):
    return callax.Sequential([callax.Input((3,)), layers.Dense(3), custom or TableScale()])


def test_overridden_hooks_save_and_load_state_that_is_not_a_variable(tmp_path):
    x = np.arange(6, dtype="float32").reshape(2, 3)
    model = _model()
    model.layers[-1].table = np.array([1.0, 2.0, 3.0], "float32")
    model.layers[-1].scale.assign([2.0, 2.0, 2.0])
    expected = np.asarray(model(x))
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = _model()
    fresh.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(fresh.layers[-1].table, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(fresh(x)), expected, rtol=1e-6)
    # the file keeps Keras's layout: the hook's entries under the layer's vars group
    import h5py

    with h5py.File(tmp_path / "m.weights.h5") as f:
        assert sorted(f["layers/table_scale/vars"]) == ["0", "1", "2"]
    # a whole .keras file too
    model.save(tmp_path / "m.keras")
    loaded = callax.saving.load_model(
        tmp_path / "m.keras", custom_objects={"TableScale": TableScale}
    )
    np.testing.assert_allclose(np.asarray(loaded(x)), expected, rtol=1e-6)


def test_default_hooks_round_trip_and_check_the_store():
    dense = layers.Dense(2)
    dense(np.ones((4, 3), "float32"))
    store = {}
    dense.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    np.testing.assert_array_equal(store["0"], dense.kernel.numpy())
    other = layers.Dense(2)
    assert other.get_build_config() is None
    other.build_from_config(dense.get_build_config())
    assert other.built and other.kernel.shape == (3, 2)
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.kernel.numpy(), dense.kernel.numpy())
    with pytest.raises(ValueError, match=r"Dense '.*'.*2 variables.*holds 1"):
        other.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match=r"'kernel' has shape \(3, 2\).*\(2, 2\)"):
        other.load_own_variables({"0": np.zeros((2, 2)), "1": store["1"]})
    np.testing.assert_array_equal(other.kernel.numpy(), dense.kernel.numpy())  # unchanged
    with pytest.raises(TypeError, match="build_from_config"):
        layers.Dense(2).build_from_config([3])


def test_keras_reads_what_the_default_hooks_write():
    keras = pytest.importorskip("keras", reason="Keras 3 (the test oracle) is not installed")
    dense = layers.Dense(2, bias_initializer="ones")
    dense(np.ones((1, 3), "float32"))
    store = {}
    dense.save_own_variables(store)
    theirs = keras.layers.Dense(2)
    theirs.build_from_config(dense.get_build_config())
    theirs.load_own_variables(store)
    np.testing.assert_array_equal(np.asarray(theirs.kernel), dense.kernel.numpy())
    np.testing.assert_array_equal(np.asarray(theirs.bias), [1.0, 1.0])
