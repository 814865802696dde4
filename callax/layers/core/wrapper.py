"""The ``Wrapper`` base class (a layer around another layer), and how a layer
that holds layers writes them into its config."""

from __future__ import annotations

from typing import Any

from callax.core.layer import Layer
from callax.core.serialization import deserialize_keras_object, serialize_keras_object


# --------------------------------------------------------------------- Wrapper
class Wrapper(Layer):
    """Base class of layers that wrap another layer (``self.layer``).

    ``build`` builds the wrapped layer; ``get_config`` stores it serialized under
    ``"layer"`` and ``from_config`` rebuilds it, as in Keras.

    Example:
        >>> import callax
        >>> class Doubled(callax.layers.Wrapper):
        ...     def call(self, x):
        ...         return 2 * self.layer(x)
        >>> Doubled(callax.layers.Dense(3))(callax.ops.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__}: layer must be a callax layer instance; received "
                f"layer={layer!r}."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Wrapper:
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


def serialize_layer(layer: Layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` for ``layer``
    (the saving library's format: the one rule for layer configs)."""
    return serialize_keras_object(layer)


def deserialize_layer(config: Any, custom_objects: dict | None = None) -> Layer:
    """A layer from :func:`serialize_layer`'s output (a layer is returned as is)."""
    if isinstance(config, Layer):
        return config
    return deserialize_keras_object(config, custom_objects=custom_objects)
