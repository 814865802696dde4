"""Layer attributes that tools built on Keras read, against Keras as oracle."""

import pytest

import callax


@pytest.mark.parametrize("dtype", [None, "float64", "mixed_bfloat16"])
def test_input_dtype_is_the_compute_dtype_as_in_keras(dtype):
    keras = pytest.importorskip("keras")
    ours = callax.layers.Dense(2, dtype=dtype)
    theirs = keras.layers.Dense(2, dtype=dtype)
    assert ours.input_dtype == theirs.input_dtype == ours.compute_dtype
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    assert model.input_dtype == "float32"  # MLflow's model signature reads it
