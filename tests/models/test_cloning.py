"""clone_model / model_from_json / to_json: same architecture and outputs shape,
fresh weights, layer sharing kept, clone_function/call_function/input_tensors as
Keras, and Keras's JSON read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

import callax
from callax import layers
from callax.models import clone_model, model_from_json


def _same_weights(a, b) -> bool:
    return len(a.weights) == len(b.weights) and all(
        np.array_equal(np.asarray(x.value), np.asarray(y.value))
        for x, y in zip(a.weights, b.weights)
    )


def _sequential():
    return callax.Sequential([
        callax.Input((4,), name="features"), layers.Dense(8, activation="relu"),
        layers.Dropout(0.1), layers.Dense(3),
    ], name="seq")  # fmt: skip


def test_sequential_clone_has_fresh_weights_and_same_structure():
    model = _sequential()
    model.compile("adam", "mse", metrics=["mae"])
    clone = clone_model(model)
    assert clone is not model and clone.name == "seq"
    assert [type(a) for a in clone.layers] == [type(b) for b in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not _same_weights(clone, model)
    assert clone.input_shape == (None, 4) and clone.compiled  # compiled like the source
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    clone.fit(x, np.zeros((5, 3)), epochs=1, verbose=0)


def test_clone_function_and_input_tensors_sequential():
    model = _sequential()

    def swap(layer):
        if isinstance(layer, layers.Dropout):
            return layers.Dropout(0.5)
        return layer  # shared: same weights

    clone = clone_model(model, clone_function=swap)
    assert clone.layers[1].rate == 0.5 and clone.layers[0] is model.layers[0]
    assert _same_weights(clone, model)
    given = callax.Input((4,))
    clone2 = clone_model(model, input_tensors=given)
    assert clone2.input_shape == (None, 4) and clone2.inputs[0] is given
    with pytest.raises(ValueError, match="call_function is not supported"):
        clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))
    with pytest.raises(ValueError, match="one input tensor"):
        clone_model(model, input_tensors=[callax.Input((4,)), callax.Input((4,))])
    with pytest.raises(ValueError, match="unexpected keyword"):
        clone_model(model, foo=1)


def _functional():
    a = callax.Input((4,), name="a")
    b = callax.Input((2,), name="b")
    shared = layers.Dense(5, name="shared")
    h = layers.Concatenate()([shared(a), layers.Dense(5)(b)])
    out1 = layers.Dense(1, name="out1")(h)
    out2 = shared(a) * 2.0  # the shared layer called twice, and an op
    return callax.Model({"a": a, "b": b}, [out1, out2], name="func")


def test_functional_clone_keeps_sharing_and_graph():
    model = _functional()
    clone = clone_model(model)
    assert clone.name == "func" and len(clone.weights) == len(model.weights)
    assert [type(x) for x in clone.layers] == [type(x) for x in model.layers]
    assert clone.input_names == model.input_names and clone.output_names == model.output_names
    shared = [x for x in clone.layers if x.name == "shared"]
    assert len(shared) == 1  # cloned once for both calls
    assert not _same_weights(clone, model)
    clone.set_weights(model.get_weights())
    x = {"a": np.ones((3, 4), "float32"), "b": np.ones((3, 2), "float32")}
    for p, q in zip(clone(x), model(x)):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), atol=1e-6)


def test_functional_call_function_and_input_tensors():
    model = _functional()
    calls = []

    def record(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    clone_model(model, call_function=record)
    assert calls.count("shared") == 2 and "out1" in calls
    a, b = callax.Input((4,), name="a2"), callax.Input((2,), name="b2")
    clone = clone_model(model, input_tensors={"a": a, "b": b})
    assert clone.inputs == [a, b]
    with pytest.raises(ValueError, match="KerasTensor"):
        clone_model(model, input_tensors={"a": np.ones((1, 4)), "b": b})


def test_recursive_clone_of_nested_models():
    inner = callax.Sequential([callax.Input((3,)), layers.Dense(3, name="inner_dense")],
                              name="inner")  # fmt: skip
    x = callax.Input((3,))
    outer = callax.Model(x, layers.Dense(1)(inner(x)))
    seen = []

    def fn(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone_model(outer, clone_function=fn)
    assert "inner" in seen and "inner_dense" not in seen
    seen.clear()
    clone = clone_model(outer, clone_function=fn, recursive=True)
    assert "inner_dense" in seen and "inner" not in seen
    assert clone(np.ones((2, 3), "float32")).shape == (2, 1)


def test_subclassed_model_clones_through_its_config():
    @callax.saving.register_keras_serializable(package="clonetest")
    class Tiny(callax.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Tiny(units=4)
    model(np.ones((1, 3), "float32"))
    clone = clone_model(model)
    assert type(clone) is Tiny and clone.units == 4 and clone is not model
    assert clone(np.ones((1, 3), "float32")).shape == (1, 4)
    with pytest.raises(ValueError, match="Sequential and Functional models only"):
        clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="Functional models only"):
        clone_model(model, call_function=lambda layer, *a: layer(*a))


def test_to_json_and_model_from_json_round_trip():
    model = _sequential()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Sequential"
    again = model_from_json(text)
    assert [w.shape for w in again.weights] == [w.shape for w in model.weights]
    func = _functional()
    again = model_from_json(func.to_json(indent=2))
    assert again.output_names == func.output_names


def test_model_from_keras_json():
    keras = pytest.importorskip("keras")
    inp = keras.Input((4,))
    kmodel = keras.Model(inp, keras.layers.Dense(2, activation="tanh")(
        keras.layers.Dense(3)(inp)))  # fmt: skip
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    x = np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(kmodel(x)), atol=1e-5)
    kclone = keras.models.clone_model(kmodel)
    clone = clone_model(ours)
    assert [w.shape for w in clone.weights] == [tuple(w.shape) for w in kclone.weights]


def test_save_model_alias(tmp_path):
    model = _sequential()
    callax.models.save_model(model, tmp_path / "m.keras")
    loaded = callax.models.load_model(tmp_path / "m.keras")
    assert _same_weights(loaded, model)
