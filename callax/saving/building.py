"""Rebuilding a loaded model from the input structure it was built with.

A model records the shapes (and dtypes) of the inputs of its first call. The
``.keras`` config keeps them as ``build_config``; on load the model is built
by tracing ``call`` abstractly on inputs of that structure (``jax.eval_shape``:
no computation), which creates every weight so the file's values can be
matched to them. Subclassed models need no ``build_config`` code of their own.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.core.call_spec import call_spec
from callax.core.layer import Layer


def get_build_config(layer: Any) -> dict | None:
    """``{"input_shape": ..., "input_dtype": ...}`` for a built layer, else None."""
    if not layer.built or layer.__dict__.get("_build_shapes") is None:
        return None
    config = {"input_shape": _jsonable(layer.__dict__["_build_shapes"])}
    dtypes = layer.__dict__.get("_build_dtypes")
    if dtypes is not None:
        config["input_dtype"] = _jsonable(dtypes)
    return config


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _is_shape(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, int) for d in x)


def _specs(shapes: Any, dtypes: Any) -> Any:
    if isinstance(shapes, dict):
        dtypes = dtypes if isinstance(dtypes, dict) else {}
        return {k: _specs(v, dtypes.get(k)) for k, v in shapes.items()}
    if _is_shape(shapes):
        dtype = dtypes if isinstance(dtypes, str) else config.floatx()
        return jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in shapes), jnp.dtype(dtype))
    _check_structure(shapes)
    dtypes = dtypes if isinstance(dtypes, list) else [None] * len(shapes)
    return [_specs(s, d) for s, d in zip(shapes, dtypes)]


def _check_structure(shapes: Any) -> None:
    if not isinstance(shapes, (list, tuple)):
        raise ValueError(
            "build_config: input_shape must be a shape (a list of ints and None), or a "
            f"list or dict of shapes; received {type(shapes).__name__}: {shapes!r:.80}."
        )


def build_from_config(layer: Any, build_config: dict) -> None:
    """Builds ``layer`` for the recorded input structure (abstractly)."""
    if not isinstance(build_config, dict):
        raise TypeError(
            f"build_config must be a dict; received {type(build_config).__name__}: "
            f"{build_config!r:.80}."
        )
    shapes = build_config.get("input_shape")
    if shapes is None or layer.built:
        return
    if type(layer).build is not Layer.build and "Functional" not in type(layer).__name__:
        layer.build(_tuples(shapes))  # the model's own build(input_shape)
        return
    specs = _specs(shapes, build_config.get("input_dtype"))
    if isinstance(specs, list) and len(call_spec(type(layer)).positional) != 1:
        args = tuple(specs)  # call(self, a, b): one argument per recorded input
    else:
        args = (specs,)
    layer.abstract_call(*args)
    for v in layer.variables:
        v.value  # noqa: B018 — materialize the weights created abstractly


def _tuples(shapes: Any) -> Any:
    if isinstance(shapes, dict):
        return {k: _tuples(v) for k, v in shapes.items()}
    if _is_shape(shapes):
        return tuple(shapes)
    _check_structure(shapes)
    return [_tuples(s) for s in shapes]
