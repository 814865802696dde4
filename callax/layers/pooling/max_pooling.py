"""Max pooling layers: MaxPooling1D/2D/3D (and Keras's ``MaxPool*`` aliases)."""

from __future__ import annotations

from callax.layers.pooling.base_pooling import Pooling


class MaxPooling1D(Pooling):
    """Max over windows of ``(batch, steps, channels)``.

    Example:
        >>> import callax
        >>> x = callax.ops.arange(6.0).reshape(1, 6, 1)
        >>> callax.layers.MaxPooling1D(pool_size=3)(x)[0, :, 0].tolist()
        [2.0, 5.0]
    """

    _rank = 1


class MaxPooling2D(Pooling):
    """Max over windows of ``(batch, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.MaxPooling2D(3, strides=2, padding="same")(
        ...     callax.ops.ones((1, 7, 7, 2))
        ... ).shape
        (1, 4, 4, 2)
    """

    _rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling3D(Pooling):
    """Max over windows of ``(batch, depth, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.MaxPooling3D()(callax.ops.ones((1, 4, 4, 4, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


# Keras' aliases.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
