"""``keras.layers.serialize`` / ``deserialize``: a layer to and from its config.

Example:
    >>> import callax
    >>> config = callax.layers.serialize(callax.layers.Dense(3, name="proj"))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    >>> callax.layers.deserialize(config).name
    'proj'
"""

from __future__ import annotations

from typing import Any


def serialize(layer: Any) -> dict:
    """The layer's full config (``class_name``, ``config``, ``module``...), as
    ``.keras`` files store it."""
    from callax.saving import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None, **kwargs: Any) -> Any:
    """A new layer from a :func:`serialize` config (registered and built-in
    classes resolve by name; others through ``custom_objects``)."""
    from callax.saving import deserialize_keras_object

    if not isinstance(config, dict):
        raise TypeError(
            "layers.deserialize expects the dict that layers.serialize returns; received "
            f"{type(config).__name__}: {config!r}."
        )
    return deserialize_keras_object(config, custom_objects=custom_objects, **kwargs)
