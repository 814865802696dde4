"""``InputSpec``: the rank, shape, dtype and axis sizes a layer accepts.

``Layer.__call__`` checks ``layer.input_spec`` on every call with
:func:`assert_input_compatibility`; ``keras.layers.InputSpec`` is this class.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


class InputSpec:
    """The rank, shape, dtype and axis sizes a layer accepts; set ``layer.input_spec``
    (one spec, or a list for a layer called on a list) and every call checks it.

    Args:
        dtype: required dtype (``"float32"``...).
        shape: required shape; ``None`` entries match any size.
        ndim, max_ndim, min_ndim: required, largest and smallest rank.
        axes: ``{axis: size}`` for axes that must have a given size.
        allow_last_axis_squeeze: accept a rank one lower/higher when the last axis is 1.
        name: the input's name (for dict inputs).
        optional: the input may be ``None``.

    Example:
        >>> import callax
        >>> class Vec(callax.layers.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.input_spec = callax.layers.InputSpec(ndim=2, axes={-1: 3})
        ...     def call(self, x):
        ...         return x
        >>> Vec()(callax.ops.ones((4, 3))).shape
        (4, 3)
    """

    def __init__(
        self,
        dtype: Any = None,
        shape: Any = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
        optional: bool = False,
    ):
        self.dtype = None if dtype is None else str(jnp.dtype(dtype))
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError):
            raise TypeError(
                f"InputSpec: axes must be a dict with integer keys; received axes={axes!r}."
            ) from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            rank = self.ndim if self.ndim is not None else self.max_ndim
            if max(self.axes) > rank - 1:
                raise ValueError(
                    f"InputSpec: axis {max(self.axes)} is out of range for rank {rank}; "
                    f"received axes={self.axes}."
                )

    def __repr__(self) -> str:
        parts = [
            f"{k}={getattr(self, k)}"
            for k in ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
            if getattr(self, k)
        ]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {
            "dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
            "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
        }  # fmt: skip

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        return cls(**config)


def _received(x: Any) -> str:
    return f"an input of shape {tuple(x.shape)} and dtype {x.dtype}"


def _check_one(spec: InputSpec, x: Any, index: int, who: str) -> None:
    prefix = f"Input {index} of {who} is incompatible with the layer: expected"
    if x is None:
        if spec.optional:
            return
        raise ValueError(f"{prefix} a tensor; received None.")
    if not hasattr(x, "shape"):
        raise TypeError(f"{prefix} a tensor; received {type(x).__name__}: {x!r}.")
    shape = tuple(x.shape)
    rank = len(shape)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
        raise ValueError(f"{prefix} ndim={spec.ndim}, found ndim={rank}; received {_received(x)}.")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise ValueError(
            f"{prefix} max_ndim={spec.max_ndim}, found ndim={rank}; received {_received(x)}."
        )
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise ValueError(
            f"{prefix} min_ndim={spec.min_ndim}, found ndim={rank}; received {_received(x)}."
        )
    if spec.dtype is not None and str(x.dtype) != spec.dtype:
        raise ValueError(f"{prefix} dtype={spec.dtype}, found dtype={x.dtype}; "
                         f"received {_received(x)}.")  # fmt: skip
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -rank <= axis < rank:
            raise ValueError(
                f"{prefix} axis {axis} to have value {size}, but the input has rank {rank}; "
                f"received {_received(x)}."
            )
        if shape[axis] is not None and shape[axis] != size:
            raise ValueError(
                f"{prefix} axis {axis} of input shape to have value {size}; received "
                f"{_received(x)}."
            )
    if spec.shape is not None:
        ref = spec.shape
        if spec.allow_last_axis_squeeze:
            shape = shape[:-1] if shape and shape[-1] == 1 else shape
            ref = ref[:-1] if ref and ref[-1] == 1 else ref
        if len(ref) != len(shape) or any(
            a is not None and b is not None and a != b for a, b in zip(ref, shape)
        ):
            raise ValueError(f"{prefix} shape={spec.shape}; received {_received(x)}.")


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Checks ``inputs`` against ``input_spec`` (one spec or a list of them);
    raises naming the layer and what was received. Called by ``Layer.__call__``
    whenever ``layer.input_spec`` is set."""
    if input_spec is None:
        return
    specs = list(input_spec) if isinstance(input_spec, (list, tuple)) else [input_spec]
    if isinstance(inputs, dict):
        names = [s.name for s in specs]
        if all(names):
            inputs = [inputs.get(n) for n in names]
        else:
            inputs = list(inputs.values())
    if len(specs) == 1 and not isinstance(inputs, (list, tuple)):
        flat = [inputs]
    elif isinstance(inputs, (list, tuple)):
        flat = list(inputs)
    else:
        flat = [inputs]
    if len(flat) != len(specs):
        raise ValueError(
            f"{layer_name} expects {len(specs)} input(s) (its input_spec); received "
            f"{len(flat)} input tensor(s)."
        )
    for i, (spec, x) in enumerate(zip(specs, flat)):
        if spec is not None:
            _check_one(spec, x, i, layer_name)
