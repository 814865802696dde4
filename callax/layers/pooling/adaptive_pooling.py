"""Adaptive pooling layers: AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D.

The output has a fixed spatial size whatever the input size. Bin ``i`` of an axis
of length ``L`` pooled to ``n`` covers ``[floor(i L / n), ceil((i + 1) L / n))``
(PyTorch's bins, as Keras 3), so bins may overlap when ``n`` does not divide ``L``.

Example:
    >>> import callax
    >>> x = callax.ops.arange(6.0).reshape(1, 6, 1)
    >>> callax.layers.AdaptiveAveragePooling1D(3)(x)[0, :, 0].tolist()
    [0.5, 2.5, 4.5]
    >>> callax.layers.AdaptiveMaxPooling2D((2, 3))(callax.ops.ones((2, 7, 9, 4))).shape
    (2, 2, 3, 4)
"""

from __future__ import annotations

from typing import Any

from callax.layers.spatial_layer import SpatialLayer
from callax.ops.convolution import normalize_tuple
from callax.ops.nn import adaptive_average_pool, adaptive_max_pool

__all__ = [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]  # fmt: skip


class AdaptivePooling(SpatialLayer):
    """Pools the spatial axes to ``output_size`` (no weights).

    Args:
        output_size: int, or tuple of ``rank`` ints: the output spatial size.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    _op = staticmethod(adaptive_average_pool)

    def __init__(
        self, output_size: int | tuple[int, ...], data_format: str | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        label = self._label()
        self._set_data_format(data_format)
        self.output_size = normalize_tuple(output_size, self._rank, "output_size", label)
        if min(self.output_size) <= 0:
            raise ValueError(
                f"{label}: `output_size` must be strictly positive; "
                f"received output_size={output_size!r}."
            )
        self.built = True

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return self._op(inputs, self.output_size, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._channels_first:
            return input_shape[:2] + self.output_size
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


class AdaptiveAveragePooling1D(AdaptivePooling):
    """Averages ``(batch, steps, channels)`` into ``output_size`` steps."""

    _rank = 1


class AdaptiveAveragePooling2D(AdaptivePooling):
    """Averages ``(batch, rows, cols, channels)`` into an ``output_size`` grid."""

    _rank = 2


class AdaptiveAveragePooling3D(AdaptivePooling):
    """Averages ``(batch, d1, d2, d3, channels)`` into an ``output_size`` grid."""

    _rank = 3


class AdaptiveMaxPooling1D(AdaptivePooling):
    """Maximum of ``(batch, steps, channels)`` over ``output_size`` bins."""

    _rank = 1
    _op = staticmethod(adaptive_max_pool)


class AdaptiveMaxPooling2D(AdaptivePooling):
    """Maximum of ``(batch, rows, cols, channels)`` over an ``output_size`` grid of bins."""

    _rank = 2
    _op = staticmethod(adaptive_max_pool)


class AdaptiveMaxPooling3D(AdaptivePooling):
    """Maximum of ``(batch, d1, d2, d3, channels)`` over an ``output_size`` grid of bins."""

    _rank = 3
    _op = staticmethod(adaptive_max_pool)
