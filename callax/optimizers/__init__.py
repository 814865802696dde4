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

from callax.core.registry import NameRegistry
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
_REGISTRY = NameRegistry(
    "optimizer",
    "keras.optimizers",
    classes=(Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion,
             LossScaleOptimizer, Ftrl, Adafactor, Lamb, Muon, ScheduleFreeAdamW, MultiOptimizer),
    base=Optimizer,
    class_label="optimizer",
    case_insensitive=True,
    any_callable=False,
)  # fmt: skip

# One rule for every family: callax.core.registry.
serialize, deserialize = _REGISTRY.serialize, _REGISTRY.deserialize


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``, any case), a config dict, or an instance
    (unchanged)."""
    if isinstance(identifier, str):  # a name is a class name with the default config
        return deserialize({"class_name": identifier, "config": {}})
    return _REGISTRY.get(identifier)


__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
    "Lion", "LossScaleOptimizer", "Ftrl", "Adafactor", "Lamb", "Muon", "ScheduleFreeAdamW", "MultiOptimizer",
    "OptimizerMap", "legacy", "schedules", "serialize", "deserialize", "get",
]  # fmt: skip
