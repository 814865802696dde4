"""What the call protocol knows about a layer class, and about a call's inputs.

:class:`CallSpec` reads a class's ``call`` and ``build`` signatures once per
class (never per call): where ``training`` goes, whether ``call`` takes a
``mask``, whether the class has its own ``build`` / ``compute_mask``, whether it
runs as a per-layer compiled kernel. The small structure helpers below it
(``shape_of``, ``dtype_of``, ``has_tensor``...) read the shapes and dtypes of
nested call arguments for building.

This module sits below ``core/call.py`` (the protocol) and ``core/layer.py``
(``Layer``) and imports neither: ``Layer`` marks its default ``build`` and
``compute_mask`` with :func:`protocol_default`, and a class that keeps a marked
method skips that step.

Example:
    >>> import callax
    >>> from callax.core.call_spec import call_spec
    >>> class Noisy(callax.layers.Layer):
    ...     def call(self, x, training=False):
    ...         return x + 1.0 if training else x
    >>> spec = call_spec(Noisy)
    >>> spec.positional, spec.training_position, spec.training_default, spec.own_build
    (['x', 'training'], 1, False, False)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from callax.core.keras_tensor import KerasTensor

_JAX_ARRAY = jax.Array


def protocol_default(method: Callable) -> Callable:
    """Marks ``Layer``'s own ``build`` / ``compute_mask``: a class that inherits
    the marked method has no build (or mask) step of its own
    (``CallSpec.own_build`` / ``own_compute_mask`` are then false)."""
    method._callax_default = True
    return method


def _is_default(method: Any) -> bool:
    return getattr(method, "_callax_default", False)


class CallSpec:
    """What the protocol needs to know about a class's ``call`` and ``build``,
    inspected once per class, never per call."""

    __slots__ = (
        "positional", "accepts_training", "training_position", "training_default",
        "accepts_mask", "var_kwargs", "own_build", "build_params", "kernel", "has_mask_arg",
        "own_compute_mask",
    )  # fmt: skip

    def __init__(self, cls: type):
        sig = inspect.signature(cls.call)
        params = list(sig.parameters.values())[1:]  # drop self
        kinds = inspect.Parameter
        self.positional = [
            p.name for p in params if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
        ]
        names = {p.name: p for p in params}
        self.var_kwargs = any(p.kind == kinds.VAR_KEYWORD for p in params)
        self.accepts_training = "training" in names or self.var_kwargs
        self.training_position = (
            self.positional.index("training") if "training" in self.positional else None
        )
        default = names["training"].default if "training" in names else None
        self.training_default = None if default is inspect.Parameter.empty else default
        self.accepts_mask = "mask" in names or self.var_kwargs
        self.has_mask_arg = "mask" in names
        self.own_compute_mask = not _is_default(cls.compute_mask)
        self.own_build = not _is_default(cls.build)
        # Per-layer compiled kernels only for callax's own side-effect-free calls
        # (True, or "training": only when training is truthy); see core/kernels.py.
        opt_in = getattr(cls, "_kernel_call", False)
        self.kernel = opt_in if (cls.call.__module__ or "").startswith("callax.") else False
        if self.own_build:
            bparams = list(inspect.signature(cls.build).parameters.values())[1:]
            self.build_params = [
                p.name
                for p in bparams
                if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
            ]
        else:
            self.build_params = []


def call_spec(cls: type) -> CallSpec:
    """The :class:`CallSpec` of ``cls``, made at its first call and kept on the
    class (``Layer.__init_subclass__`` clears it, so a subclass never inherits
    its parent's)."""
    spec = cls.__dict__.get("_callax_spec")
    if spec is None:
        spec = CallSpec(cls)
        type.__setattr__(cls, "_callax_spec", spec)
    return spec


# ------------------------------------------------------ nested call arguments
def _per_leaf(x: Any, attribute: str, convert: Callable[[Any], Any]) -> Any:
    """``convert(leaf.<attribute>)`` for each leaf of ``x`` (``None`` where a leaf
    has no such attribute), nested as ``x``: lists and tuples as lists, dicts as dicts."""
    if isinstance(x, (list, tuple)):
        return [_per_leaf(v, attribute, convert) for v in x]
    if isinstance(x, dict):
        return {k: _per_leaf(v, attribute, convert) for k, v in x.items()}
    value = getattr(x, attribute, None)
    return None if value is None else convert(value)


def shape_of(x: Any) -> Any:
    """The shape(s) of a tensor or a list/tuple/dict of them, as tuples (``None``
    for a leaf without a shape)."""
    return _per_leaf(x, "shape", tuple)


def dtype_of(x: Any) -> Any:
    """The dtype name(s) of a tensor or a list/tuple/dict of them."""
    return _per_leaf(x, "dtype", str)


def is_tensor(x: Any) -> bool:
    return isinstance(x, (_JAX_ARRAY, np.ndarray, KerasTensor, jax.ShapeDtypeStruct))


def has_tensor(x: Any) -> bool:
    """Whether some leaf of ``x`` is a JAX/NumPy array, a symbolic tensor or a spec."""
    if isinstance(x, (list, tuple)):
        return any(has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(has_tensor(v) for v in x.values())
    return is_tensor(x)


def has_shape(x: Any) -> bool:
    """Whether some leaf of ``x`` is array-like (has a ``shape``: JAX/numpy arrays,
    symbolic tensors, and foreign tensors such as tf.Tensor alike)."""
    if isinstance(x, (list, tuple)):
        return any(has_shape(v) for v in x)
    if isinstance(x, dict):
        return any(has_shape(v) for v in x.values())
    return getattr(x, "shape", None) is not None


def all_numbers(x: Any) -> bool:
    """Whether ``x`` is a non-empty (nested) list/tuple of ints and floats."""
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(all_numbers(v) for v in x)
    return isinstance(x, (int, float)) and not isinstance(x, bool)
