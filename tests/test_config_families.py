"""regularizers/constraints/initializers: every name Keras 3 exports, and
serialize → deserialize round trips (Keras's configs load in callax)."""

import numpy as np
import pytest

import callax
from callax import constraints, initializers, regularizers


@pytest.mark.parametrize(
    "module, obj",
    [
        (regularizers, regularizers.L1L2(l1=0.01, l2=0.2)),
        (regularizers, regularizers.OrthogonalRegularizer(factor=0.3, mode="columns")),
        (constraints, constraints.MaxNorm(max_value=3.0, axis=1)),
        (constraints, constraints.MinMaxNorm(min_value=0.5, max_value=2.0)),
    ],
)
def test_round_trip(module, obj):
    config = module.serialize(obj)
    back = module.deserialize(config)
    assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_deserialize_reads_keras_configs():
    keras = pytest.importorskip("keras", reason="Keras 3 is the test-only oracle")
    reg = keras.regularizers.L1L2(l1=0.5, l2=0.25)
    ours = regularizers.deserialize(keras.regularizers.serialize(reg))
    w = np.arange(6, dtype="float32").reshape(2, 3)
    assert np.isclose(float(ours(w)), 0.5 * np.abs(w).sum() + 0.25 * (w**2).sum())
    con = constraints.deserialize(keras.constraints.serialize(keras.constraints.NonNeg()))
    assert np.array_equal(np.asarray(con(np.array([-1.0, 2.0]))), [0.0, 2.0])


def test_user_classes_and_bad_configs():
    @callax.saving.register_keras_serializable(package="tests")
    class Half(regularizers.Regularizer):
        def __call__(self, x):
            return 0.5 * callax.ops.sum(x)

        def get_config(self):
            return {}

    config = {"class_name": "Half", "config": {}, "registered_name": "tests>Half"}
    assert isinstance(regularizers.deserialize(config), Half)
    with pytest.raises(ValueError, match="Unknown regularizer class 'Nope'"):
        regularizers.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="expects a config dict with a 'class_name'"):
        constraints.deserialize("max_norm")


def test_orthogonal_initializer_alias():
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    q = np.asarray(initializers.OrthogonalInitializer(seed=1)((4, 4)))
    assert np.allclose(q @ q.T, np.eye(4), atol=1e-5)
