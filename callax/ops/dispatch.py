"""How every op treats its arguments: variables unwrapped, symbolic tensors routed
to the Functional graph builder. One wrapper, used by all ops."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from callax.core.keras_tensor import KerasTensor
from callax.core.symbolic import symbolic_op
from callax.core.variable import Variable


def _scan(args: Any) -> tuple[Any, bool]:
    """Unwraps variables in args (one level of lists/tuples); reports symbolic."""
    symbolic = False
    out = []
    for a in args:
        t = type(a)
        if t is Variable or isinstance(a, Variable):
            a = a.value
        elif t is KerasTensor:
            symbolic = True
        elif t is list or t is tuple:
            inner = []
            for b in a:
                if isinstance(b, Variable):
                    b = b.value
                elif type(b) is KerasTensor:
                    symbolic = True
                inner.append(b)
            a = t(inner)
        out.append(a)
    return out, symbolic


def _as_array(x: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(x) if type(x) is list else x


def op(fn: Callable, name: str | None = None) -> Callable:
    """Wraps ``fn`` so it accepts variables and symbolic tensors."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, symbolic = _scan(args)
        if kwargs:
            vals, sym_kw = _scan(kwargs.values())
            kwargs = dict(zip(kwargs, vals))
            symbolic = symbolic or sym_kw
        if symbolic:
            return symbolic_op(wrapper, fn, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except TypeError as error:
            # keras.ops takes Python lists where jax.numpy insists on arrays
            # (`ops.take(x, [1, 3])`); convert them and try once more.
            if "requires ndarray or scalar arguments" not in str(error):
                raise
            args = [_as_array(a) for a in args]
            kwargs = {k: _as_array(v) for k, v in kwargs.items()}
            return fn(*args, **kwargs)

    if name:
        wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper
