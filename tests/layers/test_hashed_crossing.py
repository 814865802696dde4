"""HashedCrossing: the same bins as Keras 3 (TensorFlow's cross_hashed) for strings,
bytes, negative integers, 1 to 3 features, int and one_hot; config; bad input."""

import os

import numpy as np
import pytest

from callax.layers import HashedCrossing

INPUTS = [
    (np.array(["A", "B", "A"]), np.array([101, 101, 102])),
    (np.array([[1], [2], [-3]]), np.array([[b"x"], [b"y"], [b"z"]])),
    (np.array("a"), np.array("b")),
    (np.array([1, 2]), np.array([3, 4]), np.array(["p", "q"])),
]


@pytest.mark.parametrize("mode", ["int", "one_hot"])
def test_matches_keras(mode):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    for inputs in INPUTS:
        want = np.asarray(keras.layers.HashedCrossing(7, output_mode=mode)(inputs))
        got = np.asarray(HashedCrossing(7, output_mode=mode)(inputs))
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_config_round_trip_and_keras_config():
    layer = HashedCrossing(9, output_mode="one_hot", name="cross")
    again = HashedCrossing.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    int_layer = HashedCrossing.from_config(HashedCrossing(4).get_config())
    assert int_layer.get_config()["dtype"] == "int64"  # Keras's int-mode dtype


def test_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        HashedCrossing(3)(np.array([1, 2]))
    with pytest.raises(ValueError, match="same shape"):
        HashedCrossing(3)((np.array([1, 2]), np.array([1])))
    with pytest.raises(ValueError, match="num_bins must be a positive int"):
        HashedCrossing(0)
    with pytest.raises(ValueError, match="integers or strings"):
        HashedCrossing(3)((np.array([1.5]), np.array([1])))
