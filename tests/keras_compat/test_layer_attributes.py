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


def _stack(base):
    class Stack(base.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            # KerasTuner's RandAugment keeps its sublayers so
            self.layers = [base.layers.Dense(3, name="a"), base.layers.Dense(2, name="b")]

        def call(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return Stack


def test_a_layer_may_keep_its_own_layers_list_as_in_keras():
    keras = pytest.importorskip("keras")
    import numpy as np

    x = np.ones((2, 4), "float32")
    ours, theirs = _stack(callax)(name="stack"), _stack(keras)(name="stack")
    ours(x), theirs(x)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert ours.layers is ours.__dict__["layers"] and len(ours.layers) == 2
    theirs.set_weights([np.asarray(w) for w in ours.get_weights()])
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)
    for base in (callax, keras):  # a model's `layers` stays reserved

        class Net(base.Model):
            def __init__(self):
                super().__init__()
                self.layers = []

        with pytest.raises(AttributeError, match=r"layers`? (attribute )?is reserved"):
            Net()
        with pytest.raises(AttributeError):
            base.Sequential().layers = []
