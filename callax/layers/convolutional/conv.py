"""Convolution layers: Conv1D, Conv2D, Conv3D (and their ``Convolution*`` aliases).

Example:
    >>> import callax
    >>> conv = callax.layers.Conv1D(4, 3)
    >>> conv(callax.ops.ones((2, 10, 3))).shape
    (2, 8, 4)
"""

from __future__ import annotations

from callax.layers.convolutional.base_conv import Conv


class Conv1D(Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding="causal"``
    pads only the past, so output ``t`` depends on inputs ``<= t``.

    Example:
        >>> import callax
        >>> callax.layers.Conv1D(4, 3, padding="causal")(callax.ops.ones((2, 10, 3))).shape
        (2, 10, 4)
    """

    _rank = 1
    _allow_causal = True


class Conv2D(Conv):
    """2-D convolution over ``(batch, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv2D(4, (3, 3), strides=2)(callax.ops.ones((2, 9, 9, 3))).shape
        (2, 4, 4, 4)
    """

    _rank = 2


class Conv3D(Conv):
    """3-D convolution over ``(batch, depth, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv3D(2, 3)(callax.ops.ones((1, 5, 5, 5, 1))).shape
        (1, 3, 3, 3, 2)
    """

    _rank = 3


# Keras' aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
