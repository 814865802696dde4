"""``TimeDistributed``: applies a layer to every timestep of its input."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.core.wrapper import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Applies ``layer`` to every timestep (axis 1) of its input: the input is
    reshaped to ``(batch * time, ...)``, passed through ``layer`` once, and
    reshaped back, so the weights are shared across time.

    Example:
        >>> import callax
        >>> td = callax.layers.TimeDistributed(callax.layers.Dense(4))
        >>> td(callax.ops.ones((2, 5, 3))).shape
        (2, 5, 4)
        >>> td.weights[0].path
        'time_distributed.../dense.../kernel'
    """

    def __init__(self, layer: Layer, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"TimeDistributed '{self.name}': layer must be a Layer instance; "
                f"received layer={layer!r}."
            )
        self.layer = layer
        self.supports_masking = True

    def call(self, inputs, training=None, mask=None):
        if inputs.ndim < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' expects inputs of rank >= 3 (batch, time, "
                f"...); received input with shape {tuple(inputs.shape)}."
            )
        batch, time = inputs.shape[0], inputs.shape[1]
        flat = inputs.reshape((batch * time,) + tuple(inputs.shape[2:]))
        kwargs: dict = {"training": training}
        if mask is not None and "mask" in _call_params(self.layer):
            kwargs["mask"] = jnp.reshape(mask, (batch * time,) + tuple(mask.shape[2:]))
        out = self.layer(flat, **kwargs)

        def unflatten(y):
            return y.reshape((batch, time) + tuple(y.shape[1:]))

        if isinstance(out, (list, tuple)):
            return type(out)(unflatten(y) for y in out)
        return unflatten(out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> TimeDistributed:
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)


def _call_params(layer: Layer) -> set[str]:
    import inspect

    return set(inspect.signature(type(layer).call).parameters)
