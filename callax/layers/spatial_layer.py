"""``SpatialLayer``: what convolution, pooling and spatial shape layers share:
Keras's default layer names, the ``data_format`` axes and the input rank and
channel checks."""

from __future__ import annotations

import re
from typing import Any

from callax.core.layer import Layer
from callax.core.names import unique_name
from callax.ops.convolution import (
    normalize_data_format,
)

_AXES = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)",
         3: "(batch, depth, rows, cols, channels)"}  # fmt: skip


def keras_default_name(cls: type) -> str:
    """Keras' default layer name: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` ->
    ``max_pooling2d`` (a digit does not start a new word)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class SpatialLayer(Layer):
    """Shared by convolution and pooling layers: Keras default names, the
    ``data_format`` axes, and the input-rank/channel checks."""

    _rank = 2
    # Pure calls (no Python side effects): eager calls may run as one cached kernel.
    _kernel_call = True

    def __init__(self, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(keras_default_name(type(self)))
        super().__init__(**kwargs)

    def _set_data_format(self, data_format: str | None) -> None:
        self.data_format = normalize_data_format(data_format, self._label())
        self._channels_first = self.data_format == "channels_first"
        self._channel_axis = 1 if self._channels_first else -1

    def _label(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _expected_layout(self) -> str:
        layout = _AXES[self._rank]
        if self._channels_first:
            layout = layout.replace(", channels)", ")").replace("(batch, ", "(batch, channels, ")
        return layout

    def _check_rank(self, shape: tuple) -> None:
        if shape is None or len(shape) != self._rank + 2:
            raise ValueError(
                f"{self._label()} expects inputs of rank {self._rank + 2} "
                f"{self._expected_layout()}; received input with shape "
                f"{None if shape is None else tuple(shape)}."
            )

    def _check_input(self, inputs: Any) -> None:
        """Rank, then the channel count the layer was built for (static: free)."""
        shape = tuple(inputs.shape)
        self._check_rank(shape)
        expected = getattr(self, "_input_channels", None)
        if expected is not None and shape[self._channel_axis] != expected:
            raise ValueError(
                f"{self._label()} was built for inputs with {expected} channels "
                f"(axis {self._channel_axis}, data_format={self.data_format!r}); received "
                f"input with shape {shape}."
            )

    def _channels_from(self, input_shape: tuple) -> int:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"{self._label()} needs the channel axis ({self._channel_axis}) of its input "
                f"to be known; received input shape {tuple(input_shape)}."
            )
        return int(channels)
