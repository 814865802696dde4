"""NumPy-style ops (``keras.ops.numpy``), each a wrapped ``jax.numpy`` function."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from callax.core import config
from callax.ops.dispatch import op

# Names whose jax.numpy signature matches keras.ops.
_SAME = """
abs absolute add all amax amin any append arange arccos arccosh arcsin arcsinh arctan arctan2
arctanh argmax argmin argpartition argsort average bincount bitwise_and bitwise_not bitwise_or
bitwise_xor broadcast_to cbrt ceil clip concatenate conj conjugate copy copysign corrcoef correlate cos cosh
count_nonzero cross cumprod cumsum deg2rad diag diagflat diagonal diff digitize divide dot einsum
empty_like equal exp exp2 expand_dims expm1 flip floor floor_divide fmod full_like greater
greater_equal heaviside hstack hypot imag inner isclose isfinite isinf isnan kron lcm gcd left_shift less less_equal
log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or logical_xor matmul max maximum
mean median meshgrid min minimum mod moveaxis multiply nan_to_num nanmax nanmean nanmin nansum
negative nextafter nonzero not_equal ones_like outer power prod ptp quantile rad2deg ravel real reciprocal
remainder repeat right_shift roll sign signbit sin sinc sinh sort split sqrt square squeeze stack std
subtract sum swapaxes take take_along_axis tan tanh tensordot tile trace transpose trapezoid tril triu
true_divide trunc unravel_index var vdot vstack zeros_like positive fix flatnonzero
""".split()

__all__ = list(_SAME)
_g = globals()
for _name in _SAME:
    if hasattr(jnp, _name):
        _g[_name] = op(getattr(jnp, _name), _name)
    else:  # not in this JAX release
        __all__.remove(_name)


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


__all__ += [
    "reshape", "where", "round", "pad", "array", "divide_no_nan", "size", "ndim", "select",
    "slogdet", "histogram", "zeros", "ones", "empty", "full", "eye", "identity", "tri",
    "linspace", "logspace",
]  # fmt: skip

# NaN-aware reductions, windows, splits... (one module per concept).
from callax.ops.numpy_extra import *  # noqa: E402, F403
from callax.ops.numpy_extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
