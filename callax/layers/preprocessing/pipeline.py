"""``Pipeline``: preprocessing layers applied in turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callax.core.layer import Layer
from callax.layers.core.wrapper import deserialize_layer, serialize_layer


class Pipeline(Layer):
    """Applies preprocessing layers one after the other (Keras 3's
    ``keras.layers.Pipeline``); ``training`` (default ``True``) reaches each.

    Unlike ``Sequential`` it is a plain layer: no ``fit``, no input shape.

    Example:
        >>> import callax
        >>> pipe = callax.layers.Pipeline([callax.layers.Resizing(4, 4),
        ...                                callax.layers.RandomBrightness(0.1, seed=0)])
        >>> pipe(callax.ops.ones((2, 8, 8, 3)) * 100).shape
        (2, 4, 4, 3)
    """

    def __init__(self, layers: Sequence[Layer], name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(x, Layer) for x in layers):
            raise ValueError(
                f"Pipeline '{self.name}': layers must be a list of layers; received "
                f"layers={layers!r}."
            )
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list[Layer]:
        return self._pipeline_layers

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self) -> dict:
        return {"layers": [serialize_layer(x) for x in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Pipeline:
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "Pipeline.from_config: the config needs 'layers', a list of serialized layers; "
                f"received layers={layers!r}."
            )
        return cls(**{**config, "layers": [deserialize_layer(x) for x in layers]})
