"""Functional models: ``callax.Model(inputs, outputs)`` over a graph of layer calls.

Layers (and ops) called on symbolic tensors from ``callax.Input`` record nodes;
``Functional`` walks them back from ``outputs`` into a graph, in topological
order. ``model(x)`` runs the nodes in that order, each layer through the normal
call protocol (so ``training`` routing, recording and error call paths apply). A
layer used at several nodes shares its weights; models nest like layers.

Example:
    >>> import callax
    >>> inputs = callax.Input(shape=(784,), name="digits")
    >>> x = callax.layers.Dense(64, activation="relu", name="hidden")(inputs)
    >>> outputs = callax.layers.Dense(10, activation="softmax", name="probs")(x)
    >>> model = callax.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    >>> [layer.name for layer in model.layers]
    ['digits', 'hidden', 'probs']
    >>> model(callax.ops.ones((2, 784))).shape
    (2, 10)
    >>> model.input_shape, model.output_shape
    ((None, 784), (None, 10))
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.core.symbolic import Node, Operation, symbolic_call, symbolic_op
from callax.layers.core.input_layer import InputLayer
from callax.models import graph as _graph
from callax.models.model import Model, functional_hooks
from callax.models.serialization import (  # noqa: F401 — functional_from_config is re-exported
    functional_from_config,
    functional_get_config,
    get_layer_class,
)
from callax.training.trainer import Trainer

__all__ = ["Functional", "symbolic_call", "symbolic_op", "get_layer_class", "is_functional_call"]

_tree_flatten = jax.tree_util.tree_flatten
_JAX_ARRAY = jax.Array


def _flatten_struct(struct: Any) -> list:
    """Leaves of a structure of tensors; dicts in sorted key order (as Keras)."""
    return _tree_flatten(struct, is_leaf=lambda x: isinstance(x, KerasTensor))[0]


class Functional(Model):
    """A model defined by its input and output symbolic tensors.

    Args:
        inputs: a KerasTensor (from ``callax.Input``), or a list/tuple/dict of them.
        outputs: a KerasTensor, or a (nested) list/tuple/dict of them, computed
            from ``inputs`` by layer and op calls.
        name: the model's name.
        trainable: whether its weights are trained.

    Called with a dict, the model maps entries to inputs by the ``inputs`` dict's
    keys (or by the inputs' names); with a list or tuple, by position.
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs
    ):
        Layer.__init__(self, name=name, trainable=True, **kwargs)
        Trainer.__init__(self)
        inputs = self._check_structure(inputs, "inputs")
        outputs = self._check_structure(outputs, "outputs")
        d = self.__dict__
        d["_inputs_struct"] = inputs
        d["_outputs_struct"] = outputs
        flat_inputs = _flatten_struct(inputs)
        for t in flat_inputs:
            if t.history is None:  # a bare KerasTensor: give it an InputLayer
                InputLayer(input_tensor=t, name=t.name)
        flat_outputs = _flatten_struct(outputs)
        graph = _graph.map_graph(self, flat_inputs, flat_outputs)
        # Sublayers first in __dict__, in Keras's order: weights follow it.
        self._layers = [op for op in graph.operations if isinstance(op, Layer)]
        d["_operations"] = graph.operations
        d["_graph_nodes"] = graph.nodes
        d["_plan"] = [_plan_entry(n) for n in graph.nodes if not n.is_input]
        d["_flat_inputs"] = flat_inputs
        d["_flat_outputs"] = flat_outputs
        d["_out_treedef"] = _tree_flatten(outputs, is_leaf=lambda x: isinstance(x, KerasTensor))[1]
        d["_input_dtypes"] = [np.dtype(object if t.dtype == "string" else t.dtype)
                              for t in flat_inputs]  # fmt: skip
        d["_input_names"] = [t.name for t in flat_inputs]
        self.built = True
        if not trainable:
            self.trainable = False

    def _check_structure(self, struct: Any, what: str) -> Any:
        leaves = _flatten_struct(struct)
        bad = [x for x in leaves if not isinstance(x, KerasTensor)]
        if not leaves or bad:
            received = type(bad[0]).__name__ if bad else "an empty structure"
            raise TypeError(
                f"Functional model '{self.name}': every `{what}` entry must be a symbolic "
                f"KerasTensor (from callax.Input or a layer called on one); received "
                f"{received}."
            )
        if isinstance(struct, tuple):
            struct = list(struct)
        return struct

    # ------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The model's layers in graph order, ``InputLayer`` s included (as Keras)."""
        return list(self._layers)

    @property
    def operations(self) -> list[Any]:
        """Layers and ops (``Operation``) in graph order."""
        return list(self._operations)

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._flat_inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._flat_outputs)

    @property
    def input(self) -> Any:
        return self._inputs_struct

    @property
    def output(self) -> Any:
        return self._outputs_struct

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self._flat_inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self._flat_outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self) -> list[str]:
        return list(self._input_names)

    @property
    def output_names(self) -> list[str]:
        return [t.node.layer.name for t in self._flat_outputs]

    # ------------------------------------------------------------------ call
    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        values = dict(zip(map(id, self._flat_inputs), self._standardize_inputs(inputs)))
        masks = {} if mask is None else _graph.initial_masks(self._flat_inputs, mask)
        for node, layer, is_op, makes_mask, single_in, single_out in self._plan:
            if single_in is not None:  # the common `layer(x)`: no structure to rebuild
                args, kwargs = (values[single_in],), {}
            else:
                args, kwargs = node.substitute(values)
            if is_op:
                out = layer.fn(*args, **kwargs)
            else:
                if training is not None:  # the model's value wins, as in Keras
                    kwargs = {**kwargs, "training": training}
                elif node.training is not None:
                    kwargs["training"] = node.training
                if masks:
                    _graph.add_mask_argument(layer, node, kwargs, masks)
                out = layer(*args, **kwargs)
            if single_out is not None and isinstance(out, _JAX_ARRAY):
                values[single_out] = out
            else:
                self._store_outputs(node, out, values)
            if masks or makes_mask:
                _graph.record_output_masks(layer, node, args, out, masks)
        return self._out_treedef.unflatten([values[id(t)] for t in self._flat_outputs])

    # core/symbolic.py tells a model that runs this graph-walking call (not a
    # subclass's own) by this name: it cannot import Functional.
    _graph_call = call

    def _store_outputs(self, node: Node, out: Any, values: dict) -> None:
        flat = node.flat_outputs
        leaves = _tree_flatten(out)[0]
        if len(leaves) != len(flat):
            raise ValueError(
                f"Functional model '{self.name}': layer '{node.layer.name}' returned "
                f"{len(leaves)} tensors, but {len(flat)} when the model was built."
            )
        for t, v in zip(flat, leaves):
            values[id(t)] = v

    def _standardize_inputs(self, inputs: Any) -> list:
        """The call's inputs as a flat list aligned with ``self.inputs``: matched by
        key or name (dict) or position, cast to each input's dtype, rank-adjusted
        (a trailing axis of 1 added or dropped, as Keras) and shape-checked."""
        flat_in = self._flat_inputs
        n = len(flat_in)
        if isinstance(inputs, dict):
            inputs = self._inputs_from_dict(inputs)
        elif isinstance(inputs, (list, tuple)):
            inputs = _tree_flatten(list(inputs), is_leaf=lambda x: x is None)[0]
        else:
            inputs = [inputs]
        if len(inputs) != n:
            raise ValueError(
                f"Functional model '{self.name}' expects {n} input(s) "
                f"{self._input_names}; received {len(inputs)} input(s)."
            )
        out = []
        for i, (x, ref, dtype) in enumerate(zip(inputs, flat_in, self._input_dtypes)):
            if x is None:
                layer = ref.node.layer if ref.history else None
                if isinstance(layer, InputLayer) and not layer.optional:
                    raise ValueError(
                        f"Functional model '{self.name}': input '{ref.name}' is not optional, "
                        "but received None."
                    )
                out.append(x)
                continue
            if dtype.kind == "O":  # string inputs stay numpy arrays, on the host
                x = np.asarray(x, dtype=object)
            elif not isinstance(x, _JAX_ARRAY):
                x = jnp.asarray(x)
            if x.dtype != dtype:
                if dtype.kind != "O":  # Input(dtype="int64") without x64: int32, no warning
                    dtype = jax.dtypes.canonicalize_dtype(dtype)
                if x.dtype != dtype:
                    x = x.astype(dtype)
            if x.ndim != len(ref.shape):
                x = self._adjust_rank(x, ref, i)
            for k in range(1, x.ndim):
                want = ref.shape[k]
                if want is not None and x.shape[k] != want:
                    raise ValueError(
                        f"Functional model '{self.name}': input {i} ('{ref.name}') expects "
                        f"shape {ref.shape}; received an input of shape {tuple(x.shape)}."
                    )
            out.append(x)
        return out

    def _inputs_from_dict(self, inputs: dict) -> list:
        struct = self._inputs_struct
        if isinstance(struct, dict):
            keys = sorted(struct)
        else:
            keys = self._input_names
        missing = [k for k in keys if k not in inputs]
        if missing:
            raise ValueError(
                f"Functional model '{self.name}' expects inputs named {keys}; the dict it "
                f"received lacks {missing}. Received keys: {sorted(inputs)}."
            )
        return [inputs[k] for k in keys]

    def _adjust_rank(self, x: Any, ref: KerasTensor, i: int) -> Any:
        # strings stay NumPy arrays on the host (JAX has no string arrays)
        xp = np if isinstance(x, np.ndarray) and x.dtype.kind in "USO" else jnp
        if x.ndim == len(ref.shape) + 1 and x.shape[-1] == 1:
            return xp.squeeze(x, axis=-1)
        if x.ndim == len(ref.shape) - 1 and ref.shape[-1] == 1:
            return xp.expand_dims(x, axis=-1)
        raise ValueError(
            f"Functional model '{self.name}': input {i} ('{ref.name}') expects shape "
            f"{ref.shape} (rank {len(ref.shape)}); received an input of shape "
            f"{tuple(x.shape)} (rank {x.ndim})."
        )

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Keras 3's Functional config: ``name``, ``trainable``, ``layers`` (each with
        its ``inbound_nodes``), ``input_layers`` and ``output_layers``."""
        return functional_get_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        """Rebuilds the model (new weights) from :meth:`get_config` output, Keras's
        included."""
        return functional_from_config(cls, config, custom_objects)

    def __repr__(self) -> str:
        return f"<Functional name={self.name}, built={self.built}>"


def is_functional_call(args: tuple, kwargs: dict) -> bool:
    """Whether constructor arguments are ``(inputs, outputs)`` of symbolic tensors."""
    if "inputs" in kwargs and "outputs" in kwargs:
        inputs = kwargs["inputs"]
    elif len(args) == 2 or (len(args) == 1 and "outputs" in kwargs):
        inputs = args[0]
    else:
        return False
    return bool(_flatten_struct(inputs)) and all(
        isinstance(t, KerasTensor) for t in _flatten_struct(inputs)
    )


_functional_classes: dict[type, type] = {}


def functional_class_for(cls: type) -> type:
    """``cls`` (a ``Model`` subclass) combined with ``Functional``: its own methods
    (``train_step``, a custom ``call``...) first, the graph machinery behind."""
    if issubclass(cls, Functional):
        return cls
    combined = _functional_classes.get(cls)
    if combined is None:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                     "_callax_user_class": cls}  # configs name the user's class  # fmt: skip
        combined = _functional_classes[cls] = type(cls.__name__, (cls, Functional), namespace)
    return combined


def become_functional(model: Model, *args: Any, **kwargs: Any) -> None:
    """Turns a subclassed model under construction into a Functional one."""
    model.__class__ = functional_class_for(type(model))
    Functional.__init__(model, *args, **kwargs)


def is_functional_config(cls: type, config: Any) -> bool:
    """Whether ``cls.from_config(config)`` should rebuild a graph: a Functional
    config, and a class whose constructor takes ``(inputs, outputs, ...)`` (as
    Keras decides)."""
    if not isinstance(config, dict) or "input_layers" not in config or "layers" not in config:
        return False
    if issubclass(cls, Functional) or cls.__init__ is Model.__init__:
        return True
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds:
        return True
    return [p.name for p in params[:2]] == ["inputs", "outputs"]


def _plan_entry(node: Node) -> tuple:
    """What ``Functional.call`` needs per node, worked out once: ``(node, layer,
    is_op, makes_mask, id of the single input or None, id of the single output or
    None)``."""
    layer = node.layer
    single_in = None
    if len(node.args) == 1 and not node.kwargs and isinstance(node.args[0], KerasTensor):
        single_in = id(node.args[0])
    single_out = id(node.flat_outputs[0]) if len(node.flat_outputs) == 1 else None
    if single_out is not None and not isinstance(node.outputs, KerasTensor):
        single_out = None  # a one-element list or dict: keep its structure
    is_op = type(layer) is Operation
    makes_mask = not is_op and _graph.produces_mask(layer)
    return (node, layer, is_op, makes_mask, single_in, single_out)


functional_hooks.cls = Functional
functional_hooks.is_call = is_functional_call
functional_hooks.become = become_functional
functional_hooks.is_config = is_functional_config
functional_hooks.from_config = functional_from_config
