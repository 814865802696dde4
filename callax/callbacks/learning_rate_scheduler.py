"""``LearningRateScheduler``: set the learning rate at the start of every epoch.

Example:
    >>> import callax
    >>> cb = callax.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    >>> cb.verbose
    0
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from callax.callbacks.callback import Callback
from callax.callbacks.reduce_lr_on_plateau import current_learning_rate
from callax.utils import io_utils


class LearningRateScheduler(Callback):
    """Calls ``schedule(epoch, lr)`` (or ``schedule(epoch)``) before each epoch and
    sets the optimizer's learning rate to the result; adds ``learning_rate`` to
    the epoch logs.

    Args:
        schedule: the function (epoch index from 0, current rate) -> new rate.
        verbose: 1 prints each update.
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError(
                "LearningRateScheduler: the optimizer must have a `learning_rate` attribute; "
                f"received {type(optimizer).__name__}."
            )
        lr = current_learning_rate(optimizer)
        try:
            n_params = len(inspect.signature(self.schedule).parameters)
        except (TypeError, ValueError):
            n_params = 2
        new = self.schedule(epoch, lr) if n_params >= 2 else self.schedule(epoch)
        try:
            new = float(np.asarray(new)) if not isinstance(new, float) else new
        except (TypeError, ValueError):
            raise ValueError(
                "LearningRateScheduler: the schedule must return a finite float; "
                f"received {new!r} ({type(new).__name__}) at epoch {epoch}."
            ) from None
        if not np.isfinite(new):
            raise ValueError(
                "LearningRateScheduler: the schedule must return a finite float; "
                f"received {new!r} at epoch {epoch}."
            )
        optimizer.learning_rate = new
        if self.verbose > 0:
            io_utils.print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
