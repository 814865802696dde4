"""Global pooling layers: GlobalMaxPooling1D/2D/3D and GlobalAveragePooling1D/2D/3D
(and Keras's ``GlobalMaxPool*``/``GlobalAvgPool*`` aliases)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.layers.pooling.base_pooling import GlobalPooling


class GlobalMaxPooling1D(GlobalPooling):
    """Max over the steps of ``(batch, steps, channels)``.

    Example:
        >>> import callax
        >>> x = callax.ops.arange(6.0).reshape(1, 3, 2)
        >>> callax.layers.GlobalMaxPooling1D()(x).tolist()
        [[4.0, 5.0]]
    """

    _rank = 1


class GlobalMaxPooling2D(GlobalPooling):
    """Max over rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.GlobalMaxPooling2D()(callax.ops.ones((2, 4, 4, 3))).shape
        (2, 3)
    """

    _rank = 2


class GlobalMaxPooling3D(GlobalPooling):
    """Max over depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.GlobalMaxPooling3D()(callax.ops.ones((2, 3, 3, 3, 4))).shape
        (2, 4)
    """

    _rank = 3


class GlobalAveragePooling1D(GlobalPooling):
    """Mean over the steps of ``(batch, steps, channels)``; with a ``mask``
    ``(batch, steps)``, over the unmasked steps only.

    Example:
        >>> import callax
        >>> x = callax.ops.arange(6.0).reshape(1, 3, 2)
        >>> callax.layers.GlobalAveragePooling1D()(x).tolist()
        [[2.0, 3.0]]
        >>> callax.layers.GlobalAveragePooling1D()(x, mask=callax.ops.array([[1, 1, 0]])).tolist()
        [[1.0, 2.0]]
    """

    _rank = 1
    _reducer = "average"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        self._check_rank(tuple(inputs.shape))
        mask = jnp.asarray(mask).astype(inputs.dtype)
        mask = jnp.expand_dims(mask, 1 if self._channels_first else 2)
        steps = self._axes[0]
        total = jnp.sum(inputs * mask, axis=steps, keepdims=self.keepdims)
        return total / jnp.sum(mask, axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(GlobalPooling):
    """Mean over rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.GlobalAveragePooling2D()(callax.ops.ones((2, 4, 4, 3))).shape
        (2, 3)
    """

    _rank = 2
    _reducer = "average"


class GlobalAveragePooling3D(GlobalPooling):
    """Mean over depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.GlobalAveragePooling3D()(callax.ops.ones((2, 3, 3, 3, 4))).shape
        (2, 4)
    """

    _rank = 3
    _reducer = "average"


GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
