"""Zero-padding layers: ZeroPadding1D/2D/3D.

Example:
    >>> import callax
    >>> x = callax.ops.ones((2, 4, 4, 3))
    >>> callax.layers.ZeroPadding2D(1)(x).shape
    (2, 6, 6, 3)
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.layers.reshaping.base_spatial import _pairs, _Spatial


class ZeroPadding(_Spatial):
    """Pads the spatial axes with zeros.

    Args:
        padding: ``n`` (all sides), one int per axis (both sides), or one
            ``(low, high)`` pair per axis (for 1-D, ``(left, right)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self._rank, "padding", self._label())
        self._pad_width = self._full(self.padding)

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return jnp.pad(inputs, self._pad_width)

    def compute_output_shape(self, input_shape):
        return tuple(
            None if n is None else n + lo + hi for n, (lo, hi) in zip(input_shape, self._pad_width)
        )

    def get_config(self):
        padding = self.padding[0] if self._rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(ZeroPadding):
    """Zero-pads the steps of ``(batch, steps, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding1D((1, 2))(callax.ops.ones((1, 2, 1)))[0, :, 0].tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    _rank = 1


class ZeroPadding2D(ZeroPadding):
    """Zero-pads rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding2D(((1, 0), (2, 3)))(callax.ops.ones((1, 2, 2, 1))).shape
        (1, 3, 7, 1)
    """

    _rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(ZeroPadding):
    """Zero-pads depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding3D()(callax.ops.ones((1, 2, 2, 2, 1))).shape
        (1, 4, 4, 4, 1)
    """

    _rank = 3

    def __init__(
        self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs
    ):
        super().__init__(padding, data_format, **kwargs)
