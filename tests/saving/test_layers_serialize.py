"""keras.layers.serialize / deserialize (the saving guide's nested custom layer)."""

import pytest

import callax


@callax.saving.register_keras_serializable(package="test_layers_serialize")
class MyDense(callax.layers.Layer):
    def __init__(self, units, *, kernel_initializer=None, nested=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_initializer, self.nested = units, kernel_initializer, nested

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "kernel_initializer": self.kernel_initializer,
             "nested": self.nested}
        )  # fmt: skip
        return config


def test_serialize_round_trip_with_a_nested_registered_layer():
    inner = MyDense(16, kernel_initializer="ones", name="inner")
    outer = MyDense(64, nested=inner, name="outer")
    config = callax.layers.serialize(outer)
    assert config["registered_name"] == "test_layers_serialize>MyDense"
    restored = callax.layers.deserialize(config)
    assert isinstance(restored, MyDense) and restored.name == "outer"
    # As in Keras 3, a nested object stays its config unless from_config rebuilds it.
    assert restored.nested["config"]["units"] == 16
    assert isinstance(callax.layers.deserialize(restored.nested), MyDense)
    dense = callax.layers.deserialize(callax.layers.serialize(callax.layers.Dense(3)))
    assert type(dense) is callax.layers.Dense and dense.units == 3
    with pytest.raises(TypeError, match="expects the dict that layers.serialize returns"):
        callax.layers.deserialize("Dense")
