"""``keras.optimizers``: Keras 3's optimizers on a pure, jit-able update built on optax.

Example:
    >>> from callax import optimizers
    >>> opt = optimizers.get("adam")
    >>> type(opt).__name__, opt.get_config()["beta_1"]
    ('Adam', 0.9)
    >>> optimizers.deserialize(optimizers.serialize(optimizers.SGD(0.5))).get_config()["learning_rate"]
    0.5
"""

from __future__ import annotations

from typing import Any

from callax.optimizers import legacy, schedules
from callax.optimizers.adadelta import Adadelta
from callax.optimizers.adafactor import Adafactor
from callax.optimizers.adagrad import Adagrad
from callax.optimizers.adam import Adam, AdamW
from callax.optimizers.adamax import Adamax
from callax.optimizers.base_optimizer import Optimizer
from callax.optimizers.ftrl import Ftrl
from callax.optimizers.lamb import Lamb
from callax.optimizers.lion import Lion
from callax.optimizers.loss_scale_optimizer import LossScaleOptimizer
from callax.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from callax.optimizers.muon import Muon
from callax.optimizers.nadam import Nadam
from callax.optimizers.rmsprop import RMSprop
from callax.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from callax.optimizers.sgd import SGD

# Keras resolves names case-insensitively: "adam", "Adam", "rmsprop", "RMSprop".
_CLASSES = {
    cls.__name__.lower(): cls
    for cls in (
        Optimizer,
        SGD,
        Adam,
        AdamW,
        RMSprop,
        Adagrad,
        Adadelta,
        Adamax,
        Nadam,
        Lion,
        LossScaleOptimizer,
        Ftrl,
        Adafactor,
        Lamb,
        Muon,
        ScheduleFreeAdamW,
        MultiOptimizer,
    )
}


def serialize(optimizer: Optimizer) -> dict:
    """The Keras config dict: ``{"module", "class_name", "config", "registered_name"}``."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """An optimizer from its Keras config dict (``custom_objects`` for your own classes)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "optimizers.deserialize expected a dict with 'class_name' and 'config'; "
            f"received {config!r}."
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _CLASSES.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Unknown optimizer {name!r}: expected one of {sorted(_CLASSES)} or a class in "
            f"custom_objects; received class_name={name!r}."
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a config dict, or an instance (unchanged)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name, a config dict or an "
        f"Optimizer instance; received {identifier!r}."
    )


__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
    "Lion", "LossScaleOptimizer", "Ftrl", "Adafactor", "Lamb", "Muon", "ScheduleFreeAdamW", "MultiOptimizer",
    "OptimizerMap", "legacy", "schedules", "serialize", "deserialize", "get",
]  # fmt: skip
