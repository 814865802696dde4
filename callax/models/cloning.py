"""``clone_model``: the same architecture with fresh weights (``keras.models.clone_model``),
and ``model_from_json``.

Sequential and Functional models are rebuilt layer by layer: each layer goes
through ``clone_function`` (default: ``layer.__class__.from_config(layer.get_config())``,
which makes new, freshly initialised weights), a layer used twice is cloned once
(sharing survives), and a Functional graph is replayed on new ``Input`` s (or on
``input_tensors``), each call through ``call_function`` when given. Other models
are rebuilt from their config (``get_config``/``from_config``).

Example:
    >>> import callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    >>> clone = callax.models.clone_model(model)
    >>> clone.layers[0] is model.layers[0], clone.layers[0].kernel.shape
    (False, (3, 2))
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import jax

from callax.core import serialization
from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.layers.core.input_layer import Input, InputLayer
from callax.models.functional import Functional
from callax.models.sequential import Sequential


def _default_clone(layer: Layer) -> Layer:
    return layer.__class__.from_config(layer.get_config())


def _wrap(clone_function: Callable | None, call_function: Callable | None, recursive: bool,
          cache: dict) -> Callable:  # fmt: skip
    """``clone_function`` with layer sharing kept (one clone per layer) and, when
    ``recursive``, nested Sequential/Functional models cloned layer by layer."""
    fn = clone_function or _default_clone

    def clone(layer: Layer) -> Layer:
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and isinstance(layer, Sequential):
            new = clone_model(layer, clone_function=fn, recursive=True, cache=cache)
        elif recursive and isinstance(layer, Functional):
            new = clone_model(layer, clone_function=fn, call_function=call_function,
                              recursive=True, cache=cache)  # fmt: skip
        else:
            new = fn(layer)
        cache[id(layer)] = new
        return new

    return clone


def _is_keras_tensor_tree(struct: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(struct, is_leaf=lambda x: isinstance(x, KerasTensor))
    return bool(leaves) and all(isinstance(t, KerasTensor) for t in leaves)


def _clone_sequential(model: Any, clone: Callable, input_tensors: Any) -> Any:

    new_layers: list = [clone(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    f"clone_model: Sequential model '{model.name}' takes one input tensor; "
                    f"received {len(input_tensors)} in input_tensors."
                )
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "clone_model: input_tensors must be a KerasTensor (from callax.Input); "
                f"received {type(input_tensors).__name__}."
            )
        node = input_tensors.node
        if node is not None and isinstance(node.layer, InputLayer):
            new_layers.insert(0, input_tensors)  # built on the given Input itself
        else:
            name = first.name if isinstance(first, InputLayer) else None
            new_layers.insert(0, Input(tensor=input_tensors, name=name))
    elif isinstance(first, InputLayer):
        new_layers.insert(0, Input(batch_shape=first.batch_shape, dtype=first.dtype,
                                   name=first.name))  # fmt: skip
    cloned = Sequential(new_layers, name=model.name, trainable=model.trainable)
    if getattr(model, "compiled", False):
        cloned.compile_from_config(model.get_compile_config())
    return cloned


def _functional_constructor(cls: type) -> bool:
    """Whether ``cls(inputs, outputs, name=...)`` builds a Functional model."""
    try:
        params = list(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return False
    return params[1:3] == ["inputs", "outputs"]


def _clone_functional(model: Any, clone: Callable, input_tensors: Any,
                      call_function: Callable | None) -> Any:  # fmt: skip
    is_leaf = lambda x: isinstance(x, KerasTensor)  # noqa: E731
    if input_tensors is not None:
        if not _is_keras_tensor_tree(input_tensors):
            raise ValueError(
                "clone_model: every entry of input_tensors must be a KerasTensor; received "
                f"{input_tensors!r}."
            )
        ref = jax.tree_util.tree_structure(model.input, is_leaf=is_leaf)
        got = jax.tree_util.tree_structure(input_tensors, is_leaf=is_leaf)
        if isinstance(input_tensors, tuple) and isinstance(model.input, list):
            got = jax.tree_util.tree_structure(list(input_tensors), is_leaf=is_leaf)
        if ref != got and not (ref.num_leaves == got.num_leaves == 1):
            raise ValueError(
                f"clone_model: input_tensors must have the structure of model.input "
                f"({model.input}); received {input_tensors}."
            )
    else:
        input_tensors = jax.tree_util.tree_map(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.name),
            model.input, is_leaf=is_leaf,
        )  # fmt: skip
    new_inputs = jax.tree_util.tree_leaves(input_tensors, is_leaf=is_leaf)
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    for node in model._graph_nodes:
        if node.is_input or id(node.flat_outputs[0]) in values:
            continue
        if any(id(t) not in values for t in node.input_tensors):
            continue  # not reachable from the inputs
        args, kwargs = node.substitute(values)
        layer = node.layer
        if isinstance(layer, Layer):
            if node.training is not None and "training" not in kwargs:
                kwargs["training"] = node.training
            new = clone(layer)
        else:  # an op (``x + 1``): stateless, reused as is
            new = layer
        out = call_function(new, *args, **kwargs) if call_function else new(*args, **kwargs)
        for old, produced in zip(
            node.flat_outputs, jax.tree_util.tree_leaves(out, is_leaf=is_leaf)
        ):
            values[id(old)] = produced
            made = produced.node.layer if produced.node is not None else None
            if not isinstance(layer, Layer) and made is not None and not isinstance(made, Layer):
                made.name = layer.name  # the replayed op keeps its name (output_names), as Keras
    outputs = jax.tree_util.tree_map(lambda t: values[id(t)], model.output, is_leaf=is_leaf)
    cls = type(model)
    if cls is not Functional and _functional_constructor(cls):
        return cls(input_tensors, outputs, name=model.name)
    return Functional(input_tensors, outputs, name=model.name)


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable | None = None,
    call_function: Callable | None = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model with ``model``'s architecture and fresh weights.

    Args:
        model: a Sequential, Functional or subclassed model.
        input_tensors: KerasTensors to build the clone on (Sequential: one;
            Functional: the structure of ``model.input``); default: new ``Input`` s.
        clone_function: ``layer -> new layer`` (e.g. ``lambda layer: layer`` to
            share a layer's weights, or a function that changes some layers).
        call_function: ``(layer, *args, **kwargs) -> outputs``, how each layer is
            called when a Functional graph is replayed.
        recursive: apply ``clone_function`` inside nested Sequential/Functional
            models too (else a nested model is one layer to ``clone_function``).

    Raises:
        ValueError: ``clone_function``/``input_tensors``/``call_function`` on a
            subclassed model, or ``call_function`` on a Sequential model.
    """
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"clone_model: unexpected keyword arguments {tuple(kwargs)}.")
    cache = {} if cache is None else cache
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                f"clone_model: call_function is not supported for Sequential model "
                f"'{model.name}' (its layers are listed, not called); use a Functional "
                f"model. Received call_function={call_function!r}."
            )
        return _clone_sequential(model, _wrap(clone_function, None, recursive, cache),
                                 input_tensors)  # fmt: skip
    if isinstance(model, Functional):
        clone = _wrap(clone_function, call_function, recursive, cache)
        return _clone_functional(model, clone, input_tensors, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "clone_model: clone_function and input_tensors are supported for Sequential "
            f"and Functional models only; received a {type(model).__name__} with "
            f"clone_function={clone_function!r} and input_tensors={input_tensors!r}."
        )
    if call_function is not None:
        raise ValueError(
            "clone_model: call_function is supported for Functional models only; "
            f"received a {type(model).__name__}."
        )
    config = serialization.serialize_keras_object(model)
    return serialization.deserialize_keras_object(
        config, custom_objects={type(model).__name__: type(model)}
    )


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """A model (fresh weights) from the JSON of ``model.to_json()`` (Keras's included)."""
    config = json.loads(json_string)
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects)
