"""A weight's initializer, regularizer and constraint, as layers take them.

Layers with weights take three arguments per weight (``kernel_initializer``,
``kernel_regularizer``, ``kernel_constraint``...), keep them as attributes of the
same names, create the weight from them and list them in their config. These
helpers do that once for every such layer, with Keras's config order (all the
initializers, then the regularizers, then the constraints).

Example:
    >>> import callax
    >>> from callax.layers.weight_args import set_weight_args, weight_args_config
    >>> layer = callax.layers.Layer()
    >>> set_weight_args(layer, "kernel", "ones", None, None)
    >>> weight_args_config(layer, "kernel")["kernel_initializer"]["class_name"]
    'Ones'
"""

from __future__ import annotations

from typing import Any

from callax import constraints, initializers, regularizers
from callax.core.layer import Layer
from callax.core.variable import Variable


def set_weight_args(
    layer: Layer, prefix: str, initializer: Any, regularizer: Any = None, constraint: Any = None
) -> None:
    """Resolves and sets ``{prefix}_initializer``, ``{prefix}_regularizer`` and
    ``{prefix}_constraint`` on ``layer`` (names, configs or objects, as Keras takes)."""
    setattr(layer, f"{prefix}_initializer", initializers.get(initializer))
    setattr(layer, f"{prefix}_regularizer", regularizers.get(regularizer))
    setattr(layer, f"{prefix}_constraint", constraints.get(constraint))


def weight_args_config(layer: Layer, *prefixes: str) -> dict:
    """The serialized initializers, then regularizers, then constraints of the
    weights named by ``prefixes`` (Keras's config keys and order)."""
    config = {f"{p}_initializer": initializers.serialize(getattr(layer, f"{p}_initializer"))
              for p in prefixes}  # fmt: skip
    config.update({f"{p}_regularizer": regularizers.serialize(getattr(layer, f"{p}_regularizer"))
                   for p in prefixes})  # fmt: skip
    config.update({f"{p}_constraint": constraints.serialize(getattr(layer, f"{p}_constraint"))
                   for p in prefixes})  # fmt: skip
    return config


def add_weight_from_args(layer: Layer, prefix: str, **kwargs: Any) -> Variable:
    """``layer.add_weight(...)`` with the initializer, regularizer and constraint
    that :func:`set_weight_args` set for ``prefix``; ``kwargs`` give the rest
    (``shape``, ``name``, ``dtype``, ``trainable``...)."""
    return layer.add_weight(
        initializer=getattr(layer, f"{prefix}_initializer"),
        regularizer=getattr(layer, f"{prefix}_regularizer"),
        constraint=getattr(layer, f"{prefix}_constraint"),
        **kwargs,
    )


def add_bias(layer: Layer, shape: tuple) -> Variable | None:
    """The ``bias`` weight (from the ``bias_*`` arguments) when ``layer.use_bias``,
    else ``None``."""
    if not layer.use_bias:
        return None
    return add_weight_from_args(layer, "bias", shape=shape, name="bias")
