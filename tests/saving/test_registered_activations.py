"""A function registered with register_keras_serializable works as an activation
through save/load, with the config Keras 3 writes (keras.io serialization guide),
and .keras files move both ways between Keras and callax."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import callax
from callax import activations


@callax.saving.register_keras_serializable(package="h6_pkg", name="squared")
def squared(x):
    return x * x


def test_registered_function_config_is_keras_s():
    layer = callax.layers.Dense(1, activation=squared)
    assert layer.get_config()["activation"] == {
        "module": "builtins", "class_name": "function",
        "config": "h6_pkg>squared", "registered_name": "function",
    }  # fmt: skip
    assert activations.get(layer.get_config()["activation"]) is squared
    assert activations.serialize(activations.relu) == "relu"  # built-ins stay names


def test_registered_activation_save_load_round_trip(tmp_path):
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2, activation=squared)])
    x = np.array([[1.0, -2.0, 0.5]], "float32")
    kernel, bias = (np.asarray(w) for w in model.get_weights())
    expected = (x @ kernel + bias) ** 2
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-6)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    assert config["config"]["layers"][-1]["config"]["activation"]["config"] == "h6_pkg>squared"
    loaded = callax.saving.load_model(path)
    assert loaded.layers[-1].activation is squared
    np.testing.assert_allclose(np.asarray(loaded(x)), expected, rtol=1e-6)


def test_unregistered_function_loads_with_custom_objects(tmp_path):
    def cube(x):
        return x * x * x

    model = callax.Sequential([callax.Input((2,)), callax.layers.Dense(1, activation=cube)])
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"'cube'.*register_keras_serializable"):
        callax.saving.load_model(path)
    loaded = callax.saving.load_model(path, custom_objects={"cube": cube})
    assert loaded.layers[-1].activation is cube


def test_lambda_activation_cannot_be_saved_silently():
    layer = callax.layers.Dense(1, activation=lambda x: x)
    with pytest.raises(ValueError, match="lambda.*register_keras_serializable"):
        layer.get_config()


def test_keras_and_callax_files_interchange(tmp_path):
    keras = pytest.importorskip("keras")

    @keras.saving.register_keras_serializable(package="h6_pkg", name="squared")
    def k_squared(x):
        return x * x

    x = np.array([[1.0, -2.0, 0.5]], "float32")
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=k_squared)])
    kpath = tmp_path / "from_keras.keras"
    kmodel.save(kpath)
    loaded = callax.saving.load_model(kpath)
    assert loaded.layers[-1].activation is squared
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(kmodel(x)), rtol=1e-6)

    cmodel = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2, activation=squared)])
    cpath = tmp_path / "from_callax.keras"
    cmodel.save(cpath)
    kloaded = keras.saving.load_model(cpath)
    np.testing.assert_allclose(np.asarray(kloaded(x)), np.asarray(cmodel(x)), rtol=1e-6)
