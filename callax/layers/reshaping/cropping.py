"""Cropping layers: Cropping1D/2D/3D."""

from __future__ import annotations

from typing import Any

from callax.layers.reshaping.base_spatial import _pairs, _Spatial


class Cropping(_Spatial):
    """Removes rows/columns from the start and end of the spatial axes.

    Args:
        cropping: as ``ZeroPadding``'s ``padding``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, cropping: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self._rank, "cropping", self._label())

    def _check_size(self, shape: tuple) -> None:
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            n = shape[axis]
            if n is not None and lo + hi >= n:
                raise ValueError(
                    f"{self._label()}: cropping {self.cropping} removes all of axis {axis} "
                    f"(length {n}); received input with shape {tuple(shape)}."
                )

    def call(self, inputs):
        shape = tuple(inputs.shape)
        self._check_rank(shape)
        self._check_size(shape)
        index = [slice(None)] * inputs.ndim
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            index[axis] = slice(lo, shape[axis] - hi)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        self._check_size(tuple(input_shape))
        out = list(input_shape)
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            out[axis] = None if out[axis] is None else out[axis] - lo - hi
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        if self._rank == 1:
            return {**config, "cropping": self.cropping[0]}
        return {**config, "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(Cropping):
    """Crops the steps of ``(batch, steps, channels)`` (no ``data_format``, as in Keras).

    Example:
        >>> import callax
        >>> x = callax.ops.arange(5.0).reshape(1, 5, 1)
        >>> callax.layers.Cropping1D((1, 2))(x)[0, :, 0].tolist()
        [1.0, 2.0]
    """

    _rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        # Always axis 1, whatever the global image_data_format (as in Keras).
        super().__init__(cropping, "channels_last", **kwargs)


class Cropping2D(Cropping):
    """Crops rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.Cropping2D(((1, 1), (0, 2)))(callax.ops.ones((1, 4, 4, 1))).shape
        (1, 2, 2, 1)
    """

    _rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format=None, **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(Cropping):
    """Crops depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.Cropping3D()(callax.ops.ones((1, 4, 4, 4, 1))).shape
        (1, 2, 2, 2, 1)
    """

    _rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
