"""Functional and Sequential configs in Keras 3's format, both ways.

A Functional config lists every layer (and op) with its ``inbound_nodes``: the
arguments of each call, symbolic tensors written as
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history":
[layer_name, node_index, tensor_index]}}``; then ``input_layers`` and
``output_layers`` in the structure of the model's inputs and outputs. Configs
written by Keras 3 load here, and ours follow the same layout.

Example:
    >>> import callax
    >>> x = callax.Input((3,), name="x")
    >>> model = callax.Model(x, callax.layers.Dense(2, name="d")(x))
    >>> config = model.get_config()
    >>> [layer["name"] for layer in config["layers"]], config["output_layers"]
    (['x', 'd'], ['d', 0, 0])
    >>> callax.Model.from_config(config).output_shape
    (None, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax import ops
from callax.core import registry, serialization
from callax.core.call_spec import call_spec
from callax.core.custom_objects import get_registered_object
from callax.core.keras_tensor import KerasTensor
from callax.core.names import to_snake_case
from callax.core.symbolic import Operation
from callax.models import graph
from callax.ops import get_item

_MODELS = ("Functional", "Sequential", "Model")


# ------------------------------------------------------------ class lookup
def get_layer_class(
    class_name: str,
    custom_objects: dict | None = None,
    registered_name: str | None = None,
) -> type:
    """The class a config names: from ``custom_objects``, the saving registry
    (``@register_keras_serializable``), then ``callax.layers`` and the model classes.

    Example:
        >>> from callax.models.functional import get_layer_class
        >>> get_layer_class("Dense").__name__
        'Dense'
    """
    custom_objects = custom_objects or {}
    for key in (registered_name, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    for key in (registered_name, class_name):
        found = key and get_registered_object(key, custom_objects)
        if found is not None:
            return found
    # The layer family's table (every public class of callax.layers), then the
    # model classes where the package declared keras.models: no upward import.
    found = registry.family("layer").classes.get(class_name)
    if found is not None:
        return found
    if class_name in _MODELS:
        return getattr(registry.public_module("keras.models"), class_name)
    raise ValueError(
        f"Unknown layer class {class_name!r} in a model config: it is not a callax layer, "
        "and no custom object or registered class has that name. Pass "
        f"custom_objects={{{class_name!r}: {class_name}}} to the loading call, or decorate "
        "the class with @callax.saving.register_keras_serializable(); received "
        f"class_name={class_name!r}, registered_name={registered_name!r}."
    )


# ------------------------------------------------------------- serializing
def serialize_layer(layer: Any) -> dict:
    """``{"module", "class_name", "config", "registered_name"[, "build_config"]}``."""
    if isinstance(layer, Operation):
        module = getattr(layer.fn, "__module__", "") or ""
        kind = module.rsplit(".", 1)[-1] if module.startswith("callax.ops") else "numpy"
        class_name = "".join(part.capitalize() for part in layer.op_name.split("_"))
        return {
            "module": f"keras.src.ops.{kind if kind in ('nn', 'core', 'numpy') else 'numpy'}",
            "class_name": class_name,
            "config": {"name": layer.name},
            "registered_name": class_name,
        }
    cls = type(layer)
    name = cls.__name__
    ours = cls.__module__.startswith("callax.")
    # The generic form: registered names, nested objects.
    out = serialization.serialize_keras_object(layer)
    # Keras writes the build shapes of layers with a `build` (and None for Functional).
    if "build_config" not in out:
        if name == "Functional" and ours:
            out["build_config"] = {"input_shape": None}
        elif layer.built and layer._build_shapes is not None and call_spec(cls).own_build:
            out["build_config"] = {"input_shape": layer._build_shapes}
    return out


def _kept_index(layer: Any, node: Any, in_graph: set) -> int:
    index = 0
    for other in layer._inbound_nodes:
        if other is node:
            return index
        if id(other) in in_graph:
            index += 1
    raise RuntimeError(f"node of layer '{layer.name}' not found among its inbound nodes")


def _serialize_value(x: Any, in_graph: set) -> Any:
    if isinstance(x, KerasTensor):
        node, index = x.history
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": x.shape,
                "dtype": x.dtype,
                "keras_history": [node.layer.name, _kept_index(node.layer, node, in_graph), index],
            },
        }
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (list, tuple)):
        out = [_serialize_value(v, in_graph) for v in x]
        return tuple(out) if isinstance(x, tuple) else out
    if isinstance(x, dict):
        return {k: _serialize_value(v, in_graph) for k, v in x.items()}
    if isinstance(x, slice):
        return {
            "class_name": "__slice__",
            "config": {"start": x.start, "stop": x.stop, "step": x.step},
        }
    if x is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        value = np.asarray(x)
        return {
            "class_name": "__numpy__" if isinstance(x, np.ndarray) else "__tensor__",
            "config": {"value": value.tolist(), "dtype": value.dtype.name},
        }
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return np.dtype(x).name
    return x


def _serialize_node(node: Any, in_graph: set) -> dict:
    kwargs = dict(node.kwargs)
    layer = node.layer
    if not isinstance(layer, Operation):
        # Keras records the resolved `training` (explicit, else a non-None default)
        # and, for calls taking a mask, the mask given (None here).
        training = node.training
        if training is None:
            training = call_spec(type(layer)).training_default
        if training is not None:
            kwargs["training"] = training
        if graph.takes_mask(layer) and "mask" not in kwargs:
            kwargs["mask"] = None
    return {
        "args": [_serialize_value(a, in_graph) for a in node.args],
        "kwargs": _serialize_value(kwargs, in_graph),
    }


def functional_get_config(model: Any) -> dict:
    in_graph = {id(n) for n in model._graph_nodes}
    layers = []
    for op in model._operations:
        entry = serialize_layer(op)
        entry["name"] = op.name
        entry["inbound_nodes"] = [
            _serialize_node(n, in_graph)
            for n in op._inbound_nodes
            if id(n) in in_graph and not n.is_input
        ]
        layers.append(entry)

    def ref(t: KerasTensor) -> list:
        node, index = t.history
        layer = node.layer
        # Keras counts a Functional's own construction as its node 0 here.
        offset = 1 if type(layer).__name__ == "Functional" else 0
        return [layer.name, _kept_index(layer, node, in_graph) + offset, index]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _map_refs(model._inputs_struct, ref),
        "output_layers": _map_refs(model._outputs_struct, ref),
    }


def _map_refs(struct: Any, fn) -> Any:
    if isinstance(struct, KerasTensor):
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_refs(v, fn) for k, v in struct.items()}
    return [_map_refs(v, fn) for v in struct]


# ----------------------------------------------------------- deserializing
def deserialize_layer(data: dict, custom_objects: dict | None = None) -> Any:
    """A new layer (or op) from one entry of a config's ``layers``."""
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(
            "A layer config must be a dict with 'class_name' and 'config'; received "
            f"{type(data).__name__}: {str(data)[:200]}."
        )
    class_name = data["class_name"]
    config = dict(data.get("config") or {})
    module = data.get("module") or ""
    if module.startswith("keras.src.ops") or module.startswith("keras.ops"):
        return _deserialize_op(class_name, config)
    # The generic path: custom-object scopes, safe mode, Keras-only defaults.
    entry = {k: v for k, v in data.items() if k not in ("name", "inbound_nodes")}
    return serialization.deserialize_keras_object(entry, custom_objects=custom_objects)


def _deserialize_op(class_name: str, config: dict) -> Any:
    op_name = to_snake_case(class_name)
    fn = get_item if op_name == "get_item" else getattr(ops, op_name, None)
    if fn is None or not callable(fn):
        raise ValueError(
            f"Unknown op {class_name!r} in a model config: callax.ops has no "
            f"{op_name!r}; received the op config {config}."
        )
    name = config.pop("name", None)
    operation = Operation(fn, name=name, op_name=op_name)
    operation.static_kwargs = config  # Keras keeps some op arguments (axis...) here
    return operation


def _deserialize_value(x: Any, resolve) -> Any:
    if isinstance(x, list):
        return [_deserialize_value(v, resolve) for v in x]
    if isinstance(x, tuple):
        return tuple(_deserialize_value(v, resolve) for v in x)
    if not isinstance(x, dict):
        return x
    if "class_name" not in x or "config" not in x:
        return {k: _deserialize_value(v, resolve) for k, v in x.items()}
    name, config = x["class_name"], x["config"] or {}
    if name == "__keras_tensor__":
        return resolve(*config["keras_history"])
    if name == "__slice__":
        return slice(config.get("start"), config.get("stop"), config.get("step"))
    if name == "__ellipsis__":
        return Ellipsis
    if name in ("__numpy__", "__tensor__"):
        return np.asarray(config["value"], dtype=config["dtype"])
    if name == "__bytes__":
        return config["value"].encode("utf-8")
    if name == "__tuple__":
        return tuple(_deserialize_value(v, resolve) for v in config["value"])
    return {k: _deserialize_value(v, resolve) for k, v in x.items()}


class _NotReady(Exception):
    """A node's input comes from a node not rebuilt yet (retry later)."""


def _call_node(layer: Any, node_data: Any, resolve) -> None:
    if isinstance(node_data, list):  # the legacy format: [[name, node, tensor, kwargs?], ...]
        tensors, kwargs = [], {}
        for entry in node_data:
            tensors.append(resolve(entry[0], entry[1], entry[2]))
            if len(entry) > 3 and entry[3]:
                kwargs = dict(entry[3])
        args = [tensors[0] if len(tensors) == 1 else tensors]
    else:
        args = _deserialize_value(list(node_data.get("args", [])), resolve)
        kwargs = _deserialize_value(dict(node_data.get("kwargs", {})), resolve)
    if isinstance(layer, Operation):
        if layer.fn is get_item and len(args) == 2 and isinstance(args[1], list):
            args[1] = tuple(args[1])  # JSON turned the index tuple into a list
        outputs = layer.fn(*args, **kwargs, **getattr(layer, "static_kwargs", {}))
        recorded = _first_tensor(outputs).node
        # The op call recorded a node on a fresh Operation: move it to this one.
        recorded.layer = layer
        layer._inbound_nodes.append(recorded)
        return
    if kwargs.get("mask", 0) is None:
        kwargs.pop("mask")
    layer(*args, **kwargs)


def _first_tensor(outputs: Any) -> KerasTensor:
    import jax

    return jax.tree_util.tree_leaves(outputs)[0]


def functional_from_config(cls: type, config: dict, custom_objects: dict | None = None):
    """Rebuilds a Functional model from its config (Keras 3's or ours)."""
    for key in ("layers", "input_layers", "output_layers"):
        if key not in config:
            raise ValueError(
                f"A Functional config needs 'layers', 'input_layers' and 'output_layers'; "
                f"'{key}' is missing. Received keys: {sorted(config)}."
            )
    created: dict[str, Any] = {}
    pending: list[tuple[Any, list]] = []
    for data in config["layers"]:
        layer = deserialize_layer(data, custom_objects)
        name = data.get("name") or data.get("config", {}).get("name")
        if name and getattr(layer, "name", name) != name:
            layer.name = name
        created[name] = layer
        pending.append((layer, list(data.get("inbound_nodes") or [])))

    def resolve(layer_name: str, node_index: int, tensor_index: int) -> KerasTensor:
        layer = created.get(layer_name)
        if layer is None:
            raise ValueError(
                f"Invalid Functional config: a node reads the output of layer "
                f"{layer_name!r}, which is not among the config's layers."
            )
        nodes = layer._inbound_nodes if hasattr(layer, "_inbound_nodes") else []
        if node_index >= len(nodes):
            raise _NotReady(layer_name)
        return nodes[node_index].flat_outputs[tensor_index]

    # Nodes whose inputs are not built yet wait for a later sweep (a layer shared
    # at different depths, e.g. A(B(A(x)))), as Keras does.
    while any(queue for _, queue in pending):
        progressed = False
        for layer, queue in pending:
            while queue:
                try:
                    _call_node(layer, queue[0], resolve)
                except _NotReady:
                    break
                queue.pop(0)
                progressed = True
        if not progressed:
            stuck = [layer.name for layer, queue in pending if queue]
            raise ValueError(
                "Invalid Functional config: the graph has a cycle or a node reading a "
                f"missing output; these layers' calls could not be rebuilt: {stuck}."
            )

    def ref(entry: list) -> KerasTensor:
        layer_name, node_index, tensor_index = entry[0], entry[1], entry[2]
        if type(created.get(layer_name)).__name__ == "Functional":
            node_index -= 1  # Keras counts a Functional's construction as node 0 here
        return resolve(layer_name, node_index, tensor_index)

    def refs(struct: Any) -> Any:
        if isinstance(struct, (list, tuple)) and len(struct) == 3 and isinstance(struct[0], str):
            return ref(struct)
        if isinstance(struct, dict):
            return {k: refs(v) for k, v in struct.items()}
        return [refs(v) for v in struct]

    inputs = refs(config["input_layers"])
    outputs = refs(config["output_layers"])
    # `Model` itself builds a Functional; a subclass becomes a Functional of its class
    # (the classes through the declared keras.models module: functional.py imports us).
    models = registry.public_module("keras.models")
    model = models.Model
    target = cls if isinstance(cls, type) and issubclass(cls, model) and cls is not model else None
    target = target or models.Functional
    return target(
        inputs,
        outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True) is not False,
    )


# ------------------------------------------------------------- Sequential
def sequential_get_config(model: Any) -> dict:
    layers = []
    for layer in model._layers:
        layers.append(serialize_layer(layer))
    config = {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": model.dtype_policy.name},
            "registered_name": None,
        },
        "layers": layers,
    }
    if model._build_input_shape is not None:
        config["build_input_shape"] = model._build_input_shape
    return config
