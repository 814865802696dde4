"""``keras.optimizers.schedules``: learning rates as functions of the step.

Example:
    >>> from callax.optimizers import schedules
    >>> s = schedules.deserialize(schedules.serialize(schedules.CosineDecay(0.1, 100)))
    >>> type(s).__name__, s.decay_steps
    ('CosineDecay', 100)
"""

from __future__ import annotations

from typing import Any

from callax.optimizers.schedules.learning_rate_schedule import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

_CLASSES = {
    cls.__name__: cls
    for cls in (
        LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
        InverseTimeDecay, CosineDecay, CosineDecayRestarts,
    )
}  # fmt: skip


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """The Keras config dict of a schedule (``module``, ``class_name``, ``config``)."""
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(learning_rate_schedule).__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """A schedule from its Keras config dict (``custom_objects`` for your own classes)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "schedules.deserialize expected a dict with 'class_name' and 'config'; "
            f"received {config!r}."
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule {name!r}: expected one of {sorted(_CLASSES)} "
            f"or a class passed in custom_objects; received class_name={name!r}."
        )
    return cls.from_config(dict(config.get("config", {})))


def get(identifier: Any) -> Any:
    """A schedule from a config dict or an instance (returned unchanged)."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return identifier


__all__ = [*_CLASSES, "serialize", "deserialize", "get"]
