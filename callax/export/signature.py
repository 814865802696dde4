"""Input signatures for export: what shapes and dtypes an exported function takes.

An input signature is a tuple with one entry per positional argument of the
exported function; each entry is a nested structure (list, tuple, dict) of leaf
specs. A leaf may be a ``callax.layers.InputSpec`` (``shape`` and ``dtype``), a
``jax.ShapeDtypeStruct`` (its dims may already be symbolic), a ``KerasTensor``
(``callax.Input(...)``), an array (numpy or JAX), or anything shaped like
``tf.TensorSpec``. Arrays and ``KerasTensor`` leaves get a dynamic batch axis,
as in Keras.

Dimensions may be ``None`` (dynamic) or a string naming a symbolic dimension.
Every ``None`` on axis 0 becomes the shared symbol ``batch`` (so a model that
concatenates two inputs exports); any other ``None`` gets a symbol of its own.
Give the same string to dims that must be equal.

Example:
    >>> import jax.numpy as jnp
    >>> import callax
    >>> from callax.export.signature import normalize_signature, symbolic_args
    >>> sig = normalize_signature([callax.layers.InputSpec(shape=(None, 3), dtype="float32")])
    >>> sig
    (ExportSpec(shape=(None, 3), dtype=float32, name=None),)
    >>> symbolic_args(sig)[0].shape
    (batch, 3)
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import numpy as np

from callax.core import config, pitfalls
from callax.core.input_spec import InputSpec
from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer

ACCEPTED = (
    "callax.layers.InputSpec (with a shape), jax.ShapeDtypeStruct, a KerasTensor "
    "(callax.Input), a numpy/JAX array or a tf.TensorSpec"
)


class ExportSpec:
    """One input leaf: ``shape`` (ints, ``None`` or symbol names), ``dtype``, ``name``."""

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape: tuple, dtype: Any, name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name

    def __repr__(self) -> str:
        return f"ExportSpec(shape={self.shape}, dtype={self.dtype}, name={self.name!r})"

    def to_json(self) -> dict:
        return {"shape": list(self.shape), "dtype": self.dtype.name, "name": self.name}


def _dim(d: Any) -> int | str | None:
    if d is None or isinstance(d, str):
        return d
    if isinstance(d, (int, np.integer)) and not isinstance(d, bool):
        return int(d)
    if jax.export.is_symbolic_dim(d):
        return str(d)
    raise TypeError(
        f"input_signature: a dimension must be an int, None or a symbol name (str); "
        f"received {d!r} of type {type(d).__name__}."
    )


def _dynamic_batch(shape: tuple) -> tuple:
    return (None, *shape[1:]) if shape else shape


def to_spec(leaf: Any, where: str = "input_signature") -> ExportSpec:
    """One leaf of a user's signature as an :class:`ExportSpec`."""
    if isinstance(leaf, ExportSpec):
        return leaf
    if isinstance(leaf, InputSpec):
        if leaf.shape is None:
            raise ValueError(
                f"{where}: an InputSpec needs a `shape` (e.g. InputSpec(shape=(None, 3), "
                f"dtype='float32')); received {leaf!r}."
            )
        return ExportSpec([_dim(d) for d in leaf.shape], leaf.dtype or config.floatx(), leaf.name)
    if isinstance(leaf, KerasTensor):
        if leaf.dtype == "string":
            raise TypeError(f"{where}: string inputs cannot be exported; received {leaf!r}.")
        return ExportSpec(_dynamic_batch(leaf.shape), leaf.dtype, leaf.name)
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return ExportSpec([_dim(d) for d in leaf.shape], leaf.dtype)
    if isinstance(leaf, (jax.Array, np.ndarray)):
        return ExportSpec(_dynamic_batch(tuple(leaf.shape)), leaf.dtype)
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is not None and dtype is not None and hasattr(shape, "as_list"):  # tf.TensorSpec
        dims = shape.as_list() if shape.rank is not None else None
        if dims is None:
            raise ValueError(f"{where}: a TensorSpec needs a known rank; received {leaf!r}.")
        np_dtype = getattr(dtype, "as_numpy_dtype", dtype)
        return ExportSpec(dims, np_dtype, getattr(leaf, "name", None))
    raise TypeError(f"{where}: each input must be {ACCEPTED}; received {leaf!r}.")


def _is_leaf(x: Any) -> bool:
    return not isinstance(x, (list, tuple, dict))


def normalize_signature(signature: Any, num_args: int | None = None) -> tuple:
    """A user's ``input_signature`` as a tuple of per-argument spec structures.

    A single leaf or a dict is one argument; a list or tuple lists the
    arguments. When the function takes one data argument (``num_args == 1``) and
    a list of several leaves is given, the list is that one argument (a
    Functional model with a list of inputs).
    """
    if signature is None:
        raise ValueError("input_signature: expected specs for the inputs; received None.")
    if _is_leaf(signature) or isinstance(signature, dict):
        signature = (signature,)
    signature = tuple(signature)
    if num_args == 1 and len(signature) > 1:
        signature = (list(signature),)
    if not signature:
        raise ValueError("input_signature: expected at least one input spec; received [].")

    def convert(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: convert(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v) for v in x)
        if x is None:
            raise TypeError(f"input_signature: each input must be {ACCEPTED}; received None.")
        return to_spec(x)

    return tuple(convert(arg) for arg in signature)


def data_params(fn: Any) -> list[str] | None:
    """Names of ``fn``'s positional data arguments (not ``training``/``mask``)."""
    if isinstance(fn, Layer):
        fn = fn.call  # a layer is called like its `call`
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds and p.name not in ("training", "mask")]


def _required_data_params(model: Any) -> int:
    params = inspect.signature(type(model).call).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(
        1
        for p in list(params)[1:]
        if p.kind in kinds
        and p.name not in ("training", "mask")
        and p.default is inspect.Parameter.empty
    )


def model_signature(model: Any) -> tuple:
    """The input signature of a built model, with a dynamic batch axis.

    Functional and Sequential models use their ``Input`` tensors; a subclassed
    model uses the shapes and dtypes of its first call (one argument per
    recorded input when ``call`` takes several positional arguments).
    """
    if not model.built:
        raise ValueError(pitfalls.unbuilt(model, "export()"))
    struct = model.__dict__.get("_inputs_struct")
    # A Sequential model, told by class name (export sits below callax.models).
    if struct is None and any(c.__name__ == "Sequential" for c in type(model).__mro__):
        try:
            struct = model.inputs[0]
        except (ValueError, AttributeError):  # built by a call on data, without a graph
            struct = None
    if struct is not None:
        return (jax.tree_util.tree_map(to_spec, struct),)

    shapes = model.__dict__.get("_build_shapes")
    if shapes is None:
        raise ValueError(
            f"{type(model).__name__} '{model.name}'.export(): the model was built without "
            "recording its input shapes; pass input_signature=[callax.layers.InputSpec("
            "shape=(None, ...), dtype=...)] for each input. Received input_signature=None."
        )
    dtypes = model.__dict__.get("_build_dtypes")

    def specs(s: Any, d: Any) -> Any:
        if isinstance(s, dict):
            d = d if isinstance(d, dict) else {}
            return {k: specs(v, d.get(k)) for k, v in s.items()}
        if isinstance(s, (list, tuple)) and all(x is None or isinstance(x, int) for x in s):
            return ExportSpec(
                _dynamic_batch(tuple(s)), d if isinstance(d, str) else config.floatx()
            )
        d = d if isinstance(d, (list, tuple)) else [None] * len(s)
        return [specs(x, y) for x, y in zip(s, d)]

    structure = specs(shapes, dtypes)
    if isinstance(structure, list) and _required_data_params(model) > 1:
        return tuple(structure)  # call(self, a, b): one argument per recorded input
    return (structure,)


# ----------------------------------------------------------- symbolic shapes
def _symbol_names(signature: tuple) -> list[list[str]]:
    names, counter = [], [0]

    def one(spec: ExportSpec) -> list[str]:
        dims = []
        for axis, d in enumerate(spec.shape):
            if d is None and axis == 0:
                dims.append("batch")
            elif d is None:
                counter[0] += 1
                dims.append(f"d{counter[0]}")
            else:
                dims.append(str(d))
        return dims

    for spec in jax.tree_util.tree_leaves(signature):
        names.append(one(spec))
    return names


def symbolic_args(signature: tuple) -> tuple:
    """The signature as ``jax.ShapeDtypeStruct``s with symbolic dims (one scope)."""
    leaves, treedef = jax.tree_util.tree_flatten(signature)
    scope = jax.export.SymbolicScope()
    out = []
    for spec, dims in zip(leaves, _symbol_names(signature)):
        shape = jax.export.symbolic_shape(", ".join(dims), scope=scope) if dims else ()
        out.append(jax.ShapeDtypeStruct(shape, spec.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


def polymorphic_shapes(signature: tuple) -> tuple:
    """``jax2tf`` polymorphic shape strings, one pytree per argument."""
    treedef = jax.tree_util.tree_structure(signature)
    strings = ["(" + ", ".join(dims) + ")" for dims in _symbol_names(signature)]
    return tuple(jax.tree_util.tree_unflatten(treedef, strings))


def flat_input_names(signature: tuple, params: list[str] | None) -> list[str]:
    """Unique names for the flattened inputs (ONNX input names).

    A dict key names its leaf; else the spec's own name (``Input(name=...)``);
    else the function's parameter name, with ``_<i>`` for list positions.
    """
    flat, _ = jax.tree_util.tree_flatten_with_path(signature)
    names: list[str] = []
    for path, spec in flat:
        keys = [k.key for k in path[1:] if isinstance(k, jax.tree_util.DictKey)]
        arg = path[0].idx
        if keys:
            name = str(keys[-1])
        elif spec.name:
            name = spec.name
        else:
            name = params[arg] if params and arg < len(params) else f"input_{arg}"
            name += "".join(
                f"_{k.idx}" for k in path[1:] if isinstance(k, jax.tree_util.SequenceKey)
            )
        base, i = name, 1
        while name in names:
            name, i = f"{base}_{i}", i + 1
        names.append(name)
    return names
