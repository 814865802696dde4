"""``keras.optimizers.schedules``: learning rates as functions of the step.

Example:
    >>> from callax.optimizers import schedules
    >>> s = schedules.deserialize(schedules.serialize(schedules.CosineDecay(0.1, 100)))
    >>> type(s).__name__, s.decay_steps
    ('CosineDecay', 100)
"""

from __future__ import annotations

from typing import Any

from callax.core.registry import NameRegistry
from callax.optimizers.schedules.learning_rate_schedule import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

_REGISTRY = NameRegistry(
    "learning rate schedule",
    "keras.optimizers.schedules",
    classes=(LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
             InverseTimeDecay, CosineDecay, CosineDecayRestarts),
    base=LearningRateSchedule,
    class_label="learning rate schedule",
)  # fmt: skip
_CLASSES = _REGISTRY.classes

# One rule for every family: callax.core.registry.
serialize, deserialize = _REGISTRY.serialize, _REGISTRY.deserialize


def get(identifier: Any) -> Any:
    """A schedule from a config dict or an instance (returned unchanged)."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return identifier


__all__ = [*_CLASSES, "serialize", "deserialize", "get"]
