"""The layer family's names: the ``"layer"`` :class:`~callax.core.registry.NameRegistry`
and ``keras.layers.serialize`` / ``deserialize``.

Every public layer class of ``callax.layers`` (and its Keras aliases, such as
``Convolution2D``) is in the family's table, so code below ``layers`` finds them
by name through ``callax.core.registry.family("layer")``. A layer's config is the
full one ``.keras`` files store (``build_config`` included): ``serialize`` and
``deserialize`` are the generic :mod:`callax.core.serialization` functions, which
find built-in classes through the same public module.

Example:
    >>> import callax
    >>> config = callax.layers.serialize(callax.layers.Dense(3, name="proj"))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    >>> callax.layers.deserialize(config).name
    'proj'
    >>> from callax.core.registry import family
    >>> family("layer").lookup("Convolution2D") is callax.layers.Conv2D
    True
"""

from __future__ import annotations

import sys
from typing import Any

from callax.core.layer import Layer
from callax.core.registry import NameRegistry
from callax.core.serialization import deserialize_keras_object, serialize_keras_object


def _public_layer_classes() -> dict[str, type]:
    """``{public name: class}`` of every layer class ``callax.layers`` exports."""
    # This module is imported at the end of callax/layers/__init__.py: the package
    # (its parent, loaded first) holds every public layer by then. Reading it from
    # sys.modules avoids importing the package from inside itself.
    package = vars(sys.modules[__package__])
    return {
        name: obj
        for name, obj in package.items()
        if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, Layer)
    }


_REGISTRY = NameRegistry(
    "layer",
    "keras.layers",
    extra_class_names=_public_layer_classes(),
    base=Layer,
    any_callable=False,
)


def serialize(layer: Layer) -> dict:
    """The layer's full config (``class_name``, ``config``, ``module``...), as
    ``.keras`` files store it."""
    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None, **kwargs: Any) -> Layer:
    """A new layer from a :func:`serialize` config (registered and built-in
    classes resolve by name; others through ``custom_objects``)."""
    if not isinstance(config, dict):
        raise TypeError(
            "layers.deserialize expects the dict that layers.serialize returns; received "
            f"{type(config).__name__}: {config!r}."
        )
    return deserialize_keras_object(config, custom_objects=custom_objects, **kwargs)
