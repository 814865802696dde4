"""Activation functions, by name or callable (``Dense(64, activation="relu")``).

Example:
    >>> import numpy as np
    >>> from callax import activations
    >>> activations.get("relu")(np.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from callax.core.registry import NameRegistry
from callax.core.serialization import deserialize_keras_object, serialize_keras_object
from callax.ops.activation_functions import (
    celu,
    elu,
    exponential,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh,
    tanh_shrink,
    threshold,
)

# Keras's aliases.
swish = silu
hard_swish = hard_silu

_ALL = {
    f.__name__: f
    for f in (relu, leaky_relu, relu6, elu, selu, sigmoid, hard_sigmoid, hard_silu, tanh,
              softplus, softsign, silu, gelu, mish, exponential, linear, softmax, log_softmax,
              celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus,
              sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)
}  # fmt: skip
_ALL.update(swish=silu, hard_swish=hard_silu)


# One rule for every family: callax.core.registry. Activations are functions:
# a built-in is written as its name, None means linear.
_REGISTRY = NameRegistry("activation", "keras.activations", functions=_ALL)


def serialize(activation: Callable) -> str | Any:
    """A built-in activation's name; for a user function, Keras 3's
    ``{"module": "builtins", "class_name": "function", "config": <registered name>,
    "registered_name": "function"}`` (the registered name is
    ``"package>name"`` under ``register_keras_serializable``, else the function's
    name, found at load time in ``custom_objects``); for a callable object, its
    ``serialize_keras_object`` config.

    Example:
        >>> import callax
        >>> @callax.saving.register_keras_serializable(package="docs", name="square")
        ... def square(x):
        ...     return x * x
        >>> callax.activations.serialize(square)["config"]
        'docs>square'
    """
    if _REGISTRY.is_builtin(activation):
        return activation.__name__
    if isinstance(activation, types.FunctionType):
        if activation.__name__ == "<lambda>":
            raise ValueError(
                f"Cannot serialize activation {activation!r}: a lambda has no name to load "
                "it back by. Define it with `def` and decorate it with "
                "@callax.saving.register_keras_serializable()."
            )
        return _REGISTRY.serialize_function(activation)
    if callable(activation) and hasattr(activation, "get_config"):
        return serialize_keras_object(activation)
    raise ValueError(
        f"Cannot serialize activation {activation!r}: give it a name registered in "
        "callax.activations, or make it a function registered with "
        "@callax.saving.register_keras_serializable()."
    )


def get(identifier: str | Callable | None) -> Callable:
    """An activation function from a name, a config, a callable, or ``None`` (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name or callable.")


def deserialize(config: Any, custom_objects: dict | None = None) -> Callable:
    """The activation function a :func:`serialize` output names: a name (``"relu"``), or
    Keras's ``{"class_name": "function", "config": "relu", ...}`` dict.

    Example:
        >>> from callax import activations
        >>> activations.deserialize(activations.serialize(activations.celu)) is activations.celu
        True
    """
    if isinstance(config, dict):
        if config.get("class_name") not in (None, "function", "__function__") and (
            "module" in config
        ):
            return deserialize_keras_object(config, custom_objects)  # a callable object's config
        name = config.get("config", config)
        if isinstance(name, dict):
            name = name.get("name", config.get("class_name"))
        registered = config.get("registered_name")
        if isinstance(name, str):
            return _REGISTRY.function_from_config(
                {"config": name, "registered_name": registered}, custom_objects
            )
    elif isinstance(config, str):
        return _REGISTRY.deserialize(config, custom_objects)
    raise ValueError(
        "activations.deserialize: expected an activation name or a serialized "
        f"{{'class_name': 'function', 'config': name}} dict; received {config!r}."
    )
