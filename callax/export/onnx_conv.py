"""Convolution layouts jax2onnx converts, for the ONNX export.

jax2onnx converts ``lax.conv_general_dilated`` for inputs laid out NWC/NCW/
NHWC/NCHW with WIO/OIW/HWIO/OIHW kernels. callax's transposed convolutions
keep Keras's kernel layout (spatial, out, in), which it rejects ("Unsupported
conv layouts"). While an ONNX export traces, :func:`canonical_conv_layouts`
routes ``lax.conv_general_dilated`` through a wrapper that moves any other 1-D
or 2-D layout to channels-last input/output and a spatial-in-out kernel with
transposes (the same numbers; ONNX Runtime folds the kernel transposes into
the constant weights).

Example:
    >>> import numpy as np
    >>> from jax import lax
    >>> from callax.export.onnx_conv import canonical_conv_layouts
    >>> x, k = np.ones((1, 5, 2), "float32"), np.ones((3, 4, 2), "float32")  # kernel (W, O, I)
    >>> dn = ("NWC", "WOI", "NWC")
    >>> with canonical_conv_layouts():
    ...     y = lax.conv_general_dilated(x, k, (1,), "VALID", dimension_numbers=dn)
    >>> bool(np.allclose(y, lax.conv_general_dilated(x, k, (1,), "VALID", dimension_numbers=dn)))
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from jax import lax

_LHS = {(0, 2, 1), (0, 1, 2), (0, 3, 1, 2), (0, 1, 2, 3)}  # NWC NCW NHWC NCHW
_RHS = {(2, 1, 0), (0, 1, 2), (3, 2, 0, 1), (0, 1, 2, 3)}  # WIO OIW HWIO OIHW
_CANONICAL = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


def _canonical(original: Any) -> Any:
    def conv(lhs: Any, rhs: Any, *args: Any, dimension_numbers: Any = None, **kwargs: Any):
        n = len(lhs.shape) - 2
        dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
        lhs_spec, rhs_spec, out_spec = (tuple(s) for s in dn)
        if n not in _CANONICAL or (lhs_spec in _LHS and rhs_spec in _RHS and out_spec in _LHS):
            return original(lhs, rhs, *args, dimension_numbers=dimension_numbers, **kwargs)
        lhs = lhs.transpose((lhs_spec[0], *lhs_spec[2:], lhs_spec[1]))
        rhs = rhs.transpose((*rhs_spec[2:], rhs_spec[1], rhs_spec[0]))
        out = original(lhs, rhs, *args, dimension_numbers=_CANONICAL[n], **kwargs)
        # `out` is (batch, spatial..., feature); put each axis where out_spec wants it.
        perm = [0] * (n + 2)
        perm[out_spec[0]], perm[out_spec[1]] = 0, n + 1
        for i, axis in enumerate(out_spec[2:]):
            perm[axis] = 1 + i
        return out.transpose(perm)

    return conv


@contextlib.contextmanager
def canonical_conv_layouts() -> Iterator[None]:
    """Within the block, ``jax.lax.conv_general_dilated`` uses layouts jax2onnx converts."""
    original = lax.conv_general_dilated
    lax.conv_general_dilated = _canonical(original)
    try:
        yield
    finally:
        lax.conv_general_dilated = original
