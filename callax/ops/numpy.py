"""NumPy-style ops (``keras.ops.numpy``).

Two kinds of op live here, and adding one is adding it to one of them:

- a ``jax.numpy`` function whose signature and behaviour are Keras's exactly: its
  name in :data:`SAME_AS_JAX_NUMPY` (it becomes ``op(jnp.<name>)``);
- anything else: a function below decorated with :func:`~callax.ops.dispatch.op`
  (variables and symbolic ``callax.Input`` tensors then work) and its name in
  ``__all__``.

``callax.ops`` re-exports every name in ``__all__`` (as ``keras.ops`` does).

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
import numpy as np

from callax.core import config
from callax.ops.dispatch import op

#: ``keras.ops.numpy`` names whose ``jax.numpy`` function matches Keras's signature
#: and behaviour: each is ``op(getattr(jnp, name))`` (skipped when this JAX lacks it).
SAME_AS_JAX_NUMPY: tuple[str, ...] = tuple(
    """
abs absolute add all amax amin any append arange arccos arccosh arcsin arcsinh arctan
arctan2 arctanh argmax argmin argpartition argsort average bincount bitwise_and bitwise_not
bitwise_or bitwise_xor broadcast_to cbrt ceil clip concatenate conj conjugate copy copysign
corrcoef correlate cos cosh count_nonzero cross cumprod cumsum deg2rad diag diagflat
diagonal diff digitize divide dot einsum empty_like equal exp exp2 expand_dims expm1 flip
floor floor_divide fmod full_like greater greater_equal heaviside hstack hypot imag inner
isclose isfinite isinf isnan kron lcm gcd left_shift less less_equal log log10 log1p log2
logaddexp logaddexp2 logical_and logical_not logical_or logical_xor matmul max maximum mean
median meshgrid min minimum mod moveaxis multiply nan_to_num nanmax nanmean nanmin nansum
negative nextafter nonzero not_equal ones_like outer power prod ptp quantile rad2deg ravel
real reciprocal remainder repeat right_shift roll sign signbit sin sinc sinh sort split sqrt
square squeeze stack std subtract sum swapaxes take take_along_axis tan tanh tensordot tile
trace transpose trapezoid tril triu true_divide trunc unravel_index var vdot vstack
zeros_like positive fix flatnonzero allclose array_split dsplit dstack fabs fliplr flipud
fmax fmin hsplit isin isneginf isposinf isreal nanargmax nanargmin nancumprod nancumsum
nanmedian nanprod nanstd nanvar vander vsplit
""".split()
)


def _wrap_jax_numpy(names: tuple[str, ...]) -> list[str]:
    """Defines ``op(jnp.<name>)`` in this module for each of ``names`` that JAX has;
    returns those names."""
    found = [name for name in names if hasattr(jnp, name)]
    globals().update({name: op(getattr(jnp, name), name) for name in found})
    return found


__all__ = [
    *_wrap_jax_numpy(SAME_AS_JAX_NUMPY),
    "reshape", "where", "round", "pad", "array", "divide_no_nan", "size", "ndim", "select",
    "slogdet", "histogram", "zeros", "ones", "empty", "full", "eye", "identity", "tri",
    "linspace", "logspace", "angle", "bartlett", "blackman", "hamming", "hanning", "kaiser",
    "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift", "geomspace", "get_item",
    "i0", "ldexp", "nanpercentile", "nanquantile", "percentile", "rot90", "searchsorted",
    "unique", "vectorize", "view",
]  # fmt: skip


def _fdt(dtype):
    return jnp.dtype(dtype or config.floatx())


@op
def reshape(x, newshape):
    return jnp.reshape(x, newshape)


@op
def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return jnp.nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where(condition, x1, x2) needs both x1 and x2, or neither.")
    return jnp.where(condition, x1, x2)


@op
def round(x, decimals=0):  # noqa: A001
    return jnp.round(x, decimals)


@op
def pad(x, pad_width, mode="constant", constant_values=None):
    if constant_values is not None:
        return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return jnp.pad(x, pad_width, mode=mode)


@op
def array(x, dtype=None):
    return jnp.array(x, dtype=dtype)


@op
def divide_no_nan(x1, x2):
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.divide(x1, safe))


@op
def size(x):
    return int(np.prod(jnp.shape(x)))


@op
def ndim(x):
    return jnp.ndim(x)


@op
def select(condlist, choicelist, default=0):
    return jnp.select(condlist, choicelist, default)


@op
def slogdet(x):
    return tuple(jnp.linalg.slogdet(x))


@op
def histogram(x, bins=10, range=None):  # noqa: A002
    return jnp.histogram(x, bins=bins, range=range)


def zeros(shape, dtype=None):
    return jnp.zeros(shape, _fdt(dtype))


def ones(shape, dtype=None):
    return jnp.ones(shape, _fdt(dtype))


def empty(shape, dtype=None):
    return jnp.zeros(shape, _fdt(dtype))


def full(shape, fill_value, dtype=None):
    return jnp.full(shape, fill_value, dtype)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803
    return jnp.eye(N, M, k, dtype=_fdt(dtype))


def identity(n, dtype=None):
    return jnp.identity(n, dtype=_fdt(dtype))


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    return jnp.tri(N, M, k, dtype=_fdt(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return jnp.linspace(start, stop, num, endpoint, retstep, dtype, axis)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    return jnp.logspace(start, stop, num, endpoint, base, dtype, axis)


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
