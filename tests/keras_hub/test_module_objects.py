"""deserialize_keras_object(name, module_objects=...): a class named by a string is
built with its default config, as Keras does (KerasHub's ``samplers.get("greedy")``)."""

from __future__ import annotations

import pytest

import callax


class Greedy:
    def __init__(self, temperature: float = 1.0):
        self.temperature = temperature

    def get_config(self) -> dict:
        return {"temperature": self.temperature}

    @classmethod
    def from_config(cls, config: dict) -> Greedy:
        return cls(**config)


def _double(x):
    return 2 * x


def test_a_class_name_gives_an_instance_and_a_function_name_the_function():
    objects = {"greedy": Greedy, "double": _double}
    made = callax.saving.deserialize_keras_object("greedy", module_objects=objects)
    assert isinstance(made, Greedy) and made.temperature == 1.0
    assert callax.saving.deserialize_keras_object("double", module_objects=objects) is _double
    with pytest.raises(ValueError, match="Unknown object 'beam'"):
        callax.saving.deserialize_keras_object("beam", module_objects=objects)


def test_same_as_keras():
    keras = pytest.importorskip("keras", reason="Keras 3 is the test oracle")
    made = keras.saving.deserialize_keras_object(
        "greedy", module_objects={"greedy": Greedy}, custom_objects={"Greedy": Greedy}
    )
    assert isinstance(made, Greedy)
