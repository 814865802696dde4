"""Average pooling layers: AveragePooling1D/2D/3D (and Keras's ``AvgPool*`` aliases)."""

from __future__ import annotations

from callax.layers.pooling.base_pooling import Pooling


class AveragePooling1D(Pooling):
    """Mean over windows of ``(batch, steps, channels)`` (``pool_size`` defaults
    to 2, as in Keras 2; Keras 3 requires it).

    Example:
        >>> import callax
        >>> x = callax.ops.arange(4.0).reshape(1, 4, 1)
        >>> callax.layers.AveragePooling1D()(x)[0, :, 0].tolist()
        [0.5, 2.5]
    """

    _rank = 1
    _reducer = "average"


class AveragePooling2D(Pooling):
    """Mean over windows of ``(batch, rows, cols, channels)`` (``pool_size``
    defaults to ``(2, 2)``, as in Keras 2; Keras 3 requires it).

    Example:
        >>> import callax
        >>> callax.layers.AveragePooling2D()(callax.ops.ones((1, 4, 4, 2))).shape
        (1, 2, 2, 2)
    """

    _rank = 2
    _reducer = "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling3D(Pooling):
    """Mean over windows of ``(batch, depth, rows, cols, channels)`` (``pool_size``
    is required, as in Keras).

    Example:
        >>> import callax
        >>> callax.layers.AveragePooling3D(2)(callax.ops.ones((1, 4, 4, 4, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _rank = 3
    _reducer = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
