"""Recording calls on symbolic tensors: the graph nodes KerasTensors carry, and
the output specs of a call.

A layer (or op) called on :class:`~callax.core.keras_tensor.KerasTensor` s does not
compute: :func:`symbolic_call` / :func:`symbolic_op` find the output shapes and
dtypes by running the call under ``jax.eval_shape`` (no FLOPs, no user code on
real data), wrap them in new KerasTensors and record a :class:`Node` linking the
inputs to the outputs. ``Functional`` (``callax.models``) walks those nodes;
``Layer.__call__`` routes here, and so does every ``callax.ops`` function
(``ops/dispatch.py``) and KerasTensor operator, which ``callax.ops`` provides
(``keras_tensor.register_operators``).

Unknown dimensions (``None``, such as the batch) are found by evaluating with two
different stand-in sizes: a dimension that differs between the two runs depends
on an unknown one and stays ``None``.

Example:
    >>> import callax
    >>> x = callax.Input((3,))
    >>> y = callax.layers.Dense(2, name="proj")(x)
    >>> y.shape, y.node.layer.name
    ((None, 2), 'proj')
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import masking
from callax.core.call_spec import call_spec, shape_of
from callax.core.keras_tensor import KerasTensor
from callax.core.names import unique_name
from callax.core.pure_call import abstract_scope

# Stand-in sizes for unknown dimensions (multiples of 8: friendly to pooling,
# strides and reshapes that need divisibility; two of them to tell which output
# dimensions depend on unknown input ones).
_STAND_INS = (16, 24)

_flatten = jax.tree_util.tree_flatten


class Node:
    """One recorded call: ``layer(*args, **kwargs) -> outputs`` on symbolic tensors.

    Attributes:
        layer: the layer (or :class:`Operation`) called.
        args, kwargs: the call's arguments, KerasTensors in place of arrays.
        outputs: the call's output structure of KerasTensors.
        training: the ``training`` value given explicitly at the call (or None).
        input_tensors: the KerasTensors among the arguments, in order.
    """

    __slots__ = (
        "layer", "args", "kwargs", "outputs", "flat_outputs", "out_treedef", "training",
        "input_tensors", "_leaves", "_treedef", "_positions",
    )  # fmt: skip

    def __init__(self, layer, args, kwargs, outputs=None, training=None):
        self.layer = layer
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.training = training
        leaves, self._treedef = _flatten((self.args, self.kwargs))
        self._leaves = leaves
        self._positions = [i for i, v in enumerate(leaves) if isinstance(v, KerasTensor)]
        self.input_tensors = [leaves[i] for i in self._positions]
        self.set_outputs(outputs)
        layer.__dict__.setdefault("_inbound_nodes", []).append(self)

    def set_outputs(self, outputs: Any) -> None:
        self.outputs = outputs
        self.flat_outputs, self.out_treedef = _flatten(outputs)
        for i, t in enumerate(self.flat_outputs):
            t.history = (self, i)

    @property
    def is_input(self) -> bool:
        return not self._positions and not self.args and not self.kwargs

    @property
    def parent_nodes(self) -> list[Node]:
        return [t.history[0] for t in self.input_tensors if t.history is not None]

    def substitute(self, values: dict[int, Any]) -> tuple[tuple, dict]:
        """The call's ``(args, kwargs)`` with each KerasTensor replaced by
        ``values[id(tensor)]``."""
        leaves = list(self._leaves)
        for i in self._positions:
            leaves[i] = values[id(leaves[i])]
        return self._treedef.unflatten(leaves)

    def __repr__(self) -> str:
        return (
            f"<Node {self.layer.name}: {len(self.input_tensors)} in, {len(self.flat_outputs)} out>"
        )


class Operation:
    """An op (``callax.ops.add``, ``x[:, 0]``...) recorded in a Functional graph.

    Not a layer: it has no weights and does not appear in ``model.layers``, but it
    has a unique name and is serialized in configs as Keras serializes its ops.
    """

    def __init__(self, fn, name: str | None = None, op_name: str | None = None):
        self.fn = fn
        self.op_name = op_name or fn.__name__
        self.name = name or unique_name(self.op_name)
        self._inbound_nodes: list[Node] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Operation {self.op_name} name={self.name}>"


# ---------------------------------------------------------------- output specs
class _Spec:
    """A leaf (not a pytree node): the shape and dtype of one symbolic output."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def _stand_in(shape: tuple, size: int) -> tuple:
    return tuple(size if d is None else d for d in shape)


def eval_symbolic(fn, args: tuple, kwargs: dict) -> Any:
    """Output structure of ``fn(*args, **kwargs)`` with KerasTensors in the
    arguments, as a pytree of specs with ``shape`` (``None`` where unknown) and
    ``dtype``."""
    leaves, treedef = _flatten((args, kwargs))
    positions = [i for i, v in enumerate(leaves) if isinstance(v, KerasTensor)]
    unknown = any(None in leaves[i].shape for i in positions)

    def run(size: int) -> Any:
        specs = [
            jax.ShapeDtypeStruct(_stand_in(leaves[i].shape, size), jnp.dtype(leaves[i].dtype))
            for i in positions
        ]

        def f(*values):
            filled = list(leaves)
            for i, v in zip(positions, values):
                filled[i] = v
            a, k = treedef.unflatten(filled)
            return fn(*a, **k)

        return jax.eval_shape(f, *specs)

    first = run(_STAND_INS[0])
    if not unknown:
        return jax.tree_util.tree_map(lambda s: _Spec(tuple(s.shape), s.dtype), first)
    second = run(_STAND_INS[1])

    def merge(a, b):
        if len(a.shape) != len(b.shape):
            raise ValueError(
                "the output rank depends on the size of an unknown input dimension "
                f"({a.shape} vs {b.shape} for two stand-in sizes)"
            )
        return _Spec(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)), a.dtype)

    return jax.tree_util.tree_map(merge, first, second)


def _to_keras_tensors(specs: Any) -> Any:
    return jax.tree_util.tree_map(lambda s: KerasTensor(s.shape, dtype=s.dtype), specs)


def _symbolic_shapes(args: tuple, kwargs: dict) -> Any:
    return shape_of(args[0] if len(args) == 1 else list(args))


def _describe_inputs(args: tuple, kwargs: dict) -> str:
    leaves = [v for v in _flatten((args, kwargs))[0] if isinstance(v, KerasTensor)]
    return ", ".join(str(t.shape) for t in leaves) or "none"


def _name_error(error: Exception, what: str, args: tuple, kwargs: dict) -> Exception:
    """The error, reworded to name the layer and the symbolic inputs (once: the
    innermost symbolic call that saw it)."""
    if getattr(error, "_callax_symbolic", False):
        return error
    hint = ""
    if isinstance(error, jax.errors.ConcretizationTypeError):
        hint = (
            " While a Functional model is built, layers run on abstract values: Python "
            "control flow on tensor values (`if x > 0`, `float(x)`) is not possible there; "
            "use callax.ops.where / callax.ops.cond."
        )
    message = (
        f"Exception encountered when calling {what} on symbolic inputs of shape "
        f"{_describe_inputs(args, kwargs)} (building a model graph).{hint} The error: "
        f"{error}"
    )
    try:
        new = type(error)(message)
    except Exception:
        new = None
    if new is None or str(new) != message:
        try:
            error.add_note(message)
            error._callax_symbolic = True
        except AttributeError:
            pass
        return error
    new._callax_symbolic = True
    new.__cause__ = error
    return new


def _declared_specs(layer: Any, args: tuple) -> Any:
    """Output specs from ``compute_output_shape`` written outside callax (the
    first positional tensor's shape in, Keras's convention), or ``None``. A
    Functional model (one that keeps Functional's ``call``) gives its specs node
    by node, each of its layers asked the same way."""
    if getattr(layer, "_plan", None) is not None and _runs_graph(layer):
        return _graph_specs(layer, args)
    owner = next((c for c in type(layer).__mro__ if "compute_output_shape" in c.__dict__), None)
    if owner is None or (owner.__module__ or "").startswith("callax."):
        return None  # callax's default works by tracing: nothing else to ask
    if not args or not isinstance(args[0], KerasTensor):
        return None
    shape = layer.compute_output_shape(tuple(args[0].shape))
    dtype = layer.compute_dtype

    def is_shape(s: Any) -> bool:
        return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)

    def to_spec(s: Any) -> Any:
        if is_shape(s):
            return _Spec(tuple(s), jnp.dtype(dtype))
        if isinstance(s, dict):
            return {k: to_spec(v) for k, v in s.items()}
        if isinstance(s, (tuple, list)):
            return type(s)(to_spec(v) for v in s)
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}': compute_output_shape must return a "
            f"shape tuple or a nested structure of them; received {s!r}."
        )

    return to_spec(shape)


def _runs_graph(model: Any) -> bool:
    """Whether ``model`` is a Functional model that keeps Functional's ``call``
    (duck-typed: ``Functional`` sits above core and names its graph-walking
    ``call`` as ``_graph_call``)."""
    graph_call = getattr(type(model), "_graph_call", None)
    return graph_call is not None and type(model).call is graph_call


def _layer_specs(layer: Any, args: tuple, kwargs: dict) -> Any:
    try:
        with abstract_scope():
            return eval_symbolic(lambda *a, **k: layer(*a, **k), args, kwargs)
    except Exception:
        specs = _declared_specs(layer, args)
        if specs is None:
            raise
        return specs


def _graph_specs(model: Any, args: tuple) -> Any:
    """A Functional model's output specs for symbolic inputs, found by walking its
    graph (as Keras does) rather than tracing it whole on stand-in sizes."""
    if not args:
        return None
    inputs = args[0]
    if isinstance(inputs, dict):
        flat = model._inputs_from_dict(inputs)
    elif isinstance(inputs, (list, tuple)):
        flat = _flatten(list(inputs))[0]
    else:
        flat = [inputs]
    if len(flat) != len(model._flat_inputs):
        return None
    values = {id(t): x for t, x in zip(model._flat_inputs, flat)}
    for node, layer, is_op, *_ in model._plan:
        a, k = node.substitute(values)
        if is_op:
            specs = eval_symbolic(layer.fn, a, k)
        else:
            if node.training is not None:
                k["training"] = node.training
            specs = _layer_specs(layer, a, k)
        model._store_outputs(node, _to_keras_tensors(specs), values)
    outputs = [values[id(t)] for t in model._flat_outputs]
    specs = [_Spec(tuple(t.shape), jnp.dtype(t.dtype)) for t in outputs]
    return model._out_treedef.unflatten(specs)


def _materialize(layer: Any) -> None:
    # Weights created under abstract_variables() are computed on first real read.
    for v in layer.variables:
        v.value  # noqa: B018


def symbolic_call(layer: Any, args: tuple, kwargs: dict, training: Any = None) -> Any:
    """Records ``layer(*args, **kwargs)`` on symbolic tensors and returns the
    symbolic outputs. Builds the layer first (``build`` receives shapes with
    ``None`` for unknown dimensions, as in Keras)."""
    outputs = _to_keras_tensors(symbolic_specs(layer, args, kwargs, training))
    Node(layer, args, kwargs, outputs, training=training)
    _attach_symbolic_mask(layer, args, kwargs, outputs)
    return outputs


def symbolic_specs(layer: Any, args: tuple, kwargs: dict, training: Any = None) -> Any:
    """The output specs (``shape`` with ``None`` where unknown, ``dtype``) of
    ``layer(*args, **kwargs)`` on symbolic tensors, computing nothing; builds the
    layer first, as :func:`symbolic_call` does, but records no node."""
    try:
        d = layer.__dict__
        spec = call_spec(type(layer))
        if not d["built"] and spec.own_build:
            layer._run_build(args, kwargs)
            d["built"] = True
        built_before = d["built"]
        call_kwargs = dict(kwargs)
        if training is not None:
            call_kwargs["training"] = training
        if spec.has_mask_arg and call_kwargs.get("mask") is None and args:
            # As in Keras, `call(inputs, mask=None)` sees the input's mask while the
            # graph is built (the recorded node does not keep it: a Functional model
            # passes the real mask when it runs).
            previous = masking.mask_structure(args[0])
            if previous is not None:
                call_kwargs["mask"] = previous
        host_spec = getattr(layer, "host_output_spec", None)  # string inputs: no JAX trace
        if host_spec is not None and any(getattr(a, "dtype", None) == "string" for a in args):
            specs = host_spec(args[0])
        else:
            try:
                with abstract_scope():
                    specs = eval_symbolic(lambda *a, **k: layer(*a, **k), args, call_kwargs)
            except Exception:
                # A call that only works for some sizes of an unknown dimension (slicing a
                # fixed-size position table to the sequence length) fails on the stand-ins;
                # as in Keras, a layer's own compute_output_shape then gives the specs.
                specs = _declared_specs(layer, args)
                if specs is None:
                    raise
        if not built_before:
            d["_build_shapes"] = _symbolic_shapes(args, kwargs)
        _materialize(layer)
    except Exception as error:
        named = _name_error(error, f"{type(layer).__name__} '{layer.name}'", args, kwargs)
        if named is error:
            raise
        raise named from error
    return specs


def _attach_symbolic_mask(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> None:
    """Gives symbolic outputs the ``_keras_mask`` (a bool KerasTensor) the layer
    would attach to real outputs, so ``x._keras_mask`` reads as in Keras while a
    graph is built. Only for inspection: a Functional model recomputes masks when
    it runs."""
    spec = call_spec(type(layer))
    if not (layer.__dict__.get("supports_masking") or spec.own_compute_mask):
        return
    first = args[0] if args else None
    previous = kwargs.get("mask")
    if previous is None:
        previous = masking.mask_structure(first)
    if previous is None and not spec.own_compute_mask:
        return
    try:
        with abstract_scope():
            mask_specs = eval_symbolic(layer.compute_mask, (first, previous), {})
    except Exception:  # a mask that cannot be inferred abstractly is left off
        return
    if mask_specs is not None:
        masking.attach_structure(outputs, _to_keras_tensors(mask_specs))


def symbolic_op(wrapper: Any, fn: Any, args: Any, kwargs: dict) -> Any:
    """Records an op (``callax.ops.*`` or a KerasTensor operator) called on
    symbolic tensors; ``wrapper`` is what the graph calls on real arrays."""
    name = getattr(wrapper, "__name__", None) or getattr(fn, "__name__", "op")
    try:
        specs = eval_symbolic(fn, tuple(args), kwargs)
    except Exception as error:
        named = _name_error(error, f"op '{name}'", tuple(args), kwargs)
        if named is error:
            raise
        raise named from error
    operation = Operation(wrapper, op_name=name)
    outputs = _to_keras_tensors(specs)
    Node(operation, tuple(args), kwargs, outputs)
    return outputs
