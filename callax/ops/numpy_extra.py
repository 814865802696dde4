"""More NumPy-style ops of ``keras.ops.numpy``: NaN-aware reductions, window
functions, splits, bitwise shifts and set/search helpers.

Each one is wrapped by :func:`callax.ops.dispatch.op`, so it takes JAX/numpy
arrays, :class:`~callax.Variable` s and symbolic ``callax.Input`` tensors.

Example:
    >>> from callax import ops
    >>> ops.nanmean(ops.array([1.0, float("nan"), 3.0])).item()
    2.0
    >>> ops.fliplr(ops.array([[1, 2], [3, 4]])).tolist()
    [[2, 1], [4, 3]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from callax.core import config
from callax.ops.dispatch import op

# Names whose jax.numpy signature (and behaviour) matches keras.ops exactly.
_SAME = """
allclose array_split dsplit dstack fabs fliplr flipud fmax fmin hsplit isin isneginf isposinf
isreal nanargmax nanargmin nancumprod nancumsum nanmedian nanprod nanstd nanvar vander vsplit
""".split()

__all__ = [
    *_SAME, "angle", "bartlett", "blackman", "hamming", "hanning", "kaiser", "bitwise_invert",
    "bitwise_left_shift", "bitwise_right_shift", "geomspace", "get_item", "i0", "ldexp",
    "nanpercentile", "nanquantile", "percentile", "rot90", "searchsorted", "unique",
    "vectorize", "view",
]  # fmt: skip

_g = globals()
for _name in _SAME:
    _g[_name] = op(getattr(jnp, _name), _name)


def _float_of(x: Any) -> Any:
    """``x`` as a float array: integers become floatx, floats keep their precision."""
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return x
    return x.astype(config.floatx())


@op
def angle(x):
    """The counterclockwise angle of each (complex) element, in radians."""
    return jnp.angle(_float_of(x) if not jnp.iscomplexobj(x) else x)


def _window(fn: Callable, name: str) -> Callable:
    def window(x):
        # Keras takes the window length as a (possibly tensor) scalar.
        return fn(int(x)).astype(config.floatx())

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"The {name} window of length ``x``, in floatx (as ``numpy.{name}``)."
    return window


bartlett = _window(jnp.bartlett, "bartlett")
blackman = _window(jnp.blackman, "blackman")
hamming = _window(jnp.hamming, "hamming")
hanning = _window(jnp.hanning, "hanning")


def kaiser(x, beta):
    """The Kaiser window of length ``x`` with shape parameter ``beta``, in floatx."""
    return jnp.kaiser(int(x), beta).astype(config.floatx())


@op
def bitwise_invert(x):
    return jnp.bitwise_not(x)


@op
def bitwise_left_shift(x, y):
    return jnp.left_shift(x, y)


@op
def bitwise_right_shift(x, y):
    return jnp.right_shift(x, y)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop``."""
    return jnp.geomspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)


@op
def get_item(x, key):
    """``x[key]`` as an op (works on symbolic tensors too)."""
    return x[key]


@op
def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.integer):
        x = x.astype(config.floatx())
    return jnp.i0(x)


@op
def ldexp(x1, x2):
    """``x1 * 2**x2``; the exponent ``x2`` must be an integer tensor."""
    x2 = jnp.asarray(x2)
    if not jnp.issubdtype(x2.dtype, jnp.integer):
        raise TypeError(f"ldexp expects an integer exponent x2. Received: x2 dtype={x2.dtype}")
    return jnp.ldexp(x1, x2)


@op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.percentile(_float_of(x), q, axis=axis, method=method, keepdims=keepdims)


@op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanpercentile(_float_of(x), q, axis=axis, method=method, keepdims=keepdims)


@op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanquantile(_float_of(x), q, axis=axis, method=method, keepdims=keepdims)


@op
def rot90(array, k=1, axes=(0, 1)):
    """Rotates ``array`` by 90 degrees ``k`` times in the plane of ``axes``."""
    if array.ndim < 2:
        raise ValueError(
            f"rot90 expects an array of rank >= 2. Received: array.shape={tuple(array.shape)}"
        )
    axes = tuple(axes)
    if len(axes) != 2 or axes[0] % array.ndim == axes[1] % array.ndim:
        raise ValueError(f"rot90 expects two different axes. Received: axes={axes}")
    return jnp.rot90(array, k=k, axes=axes)


@op
def searchsorted(sorted_sequence, values, side="left"):
    """Indices where ``values`` go in the 1-D ``sorted_sequence`` to keep it sorted."""
    if jnp.ndim(sorted_sequence) != 1:
        raise ValueError(
            "searchsorted expects a 1-D sorted_sequence (use ops.vectorized_map for N-D). "
            f"Received: sorted_sequence.shape={tuple(jnp.shape(sorted_sequence))}"
        )
    return jnp.searchsorted(sorted_sequence, values, side=side)


@op
def unique(
    x,
    sorted=True,  # noqa: A002
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The unique elements of ``x``; pass ``size`` for a fixed-size (jittable) result."""
    return jnp.unique(
        x,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=False,
        size=size,
        sorted=sorted,
        fill_value=fill_value,
    )


def vectorize(pyfunc: Callable, *, excluded=None, signature=None) -> Callable:
    """``pyfunc`` made to broadcast over its array arguments (``numpy.vectorize``).

    Example:
        >>> from callax import ops
        >>> f = ops.vectorize(lambda a, b: a + b)
        >>> f(ops.ones((2,)), 1.0).tolist()
        [2.0, 2.0]
    """
    return op(jnp.vectorize(pyfunc, excluded=excluded or set(), signature=signature))


@op
def view(x, dtype=None):
    """The same bytes reinterpreted as ``dtype``."""
    return jnp.asarray(x).view(dtype)
