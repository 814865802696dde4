"""``MonitorCallback``: shared logic of callbacks that watch one logged value
(``EarlyStopping``, ``ReduceLROnPlateau``, ``ModelCheckpoint``, ``OrbaxCheckpoint``).

``mode="auto"`` infers the direction: losses and errors go down; metrics whose
object says ``_direction == "up"`` (accuracy, AUC, precision, ...) go up.

Example:
    >>> from callax.callbacks.monitor_callback import MonitorCallback
    >>> cb = MonitorCallback(monitor="val_loss", min_delta=0.1)
    >>> cb._set_monitor_op()
    >>> cb._is_improvement(0.85, 1.0), cb._is_improvement(0.95, 1.0)
    (True, False)
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from callax.callbacks.callback import Callback
from callax.utils.io_utils import print_msg

_UP_WORDS = ("acc", "auc", "precision", "recall", "f1", "r2", "iou", "top_k")


class MonitorCallback(Callback):
    """Base class: compares a monitored log value with a reference.

    Args:
        monitor: the log key (``"val_loss"``, ``"accuracy"``...).
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        baseline: a starting reference value.
        min_delta: smallest change that counts as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: Any = None,
                 min_delta: float = 0):  # fmt: skip
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__}: mode must be 'auto', 'min' or 'max'; received "
                f"mode={mode!r}. Using 'auto'.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _direction(self) -> str | None:
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name.endswith("_loss"):
            return "down"
        model = self._model
        for metric in getattr(model, "metrics", None) or []:
            for m in getattr(metric, "metrics", None) or [metric]:
                if getattr(m, "name", None) == name and getattr(m, "_direction", None):
                    return m._direction
        if any(word in name for word in _UP_WORDS):
            return "up"
        if "error" in name or "crossentropy" in name or "hinge" in name:
            return "down"
        return None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            up = False
        elif self.mode == "max":
            up = True
        else:
            direction = self._direction()
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} cannot tell whether {self.monitor!r} should go up or "
                    "down; pass mode='max' or mode='min'; received "
                    f"monitor={self.monitor!r}, mode='auto'."
                )
            up = direction == "up"
        self.monitor_op = operator.gt if up else operator.lt
        self._signed_delta = self.min_delta if up else -self.min_delta

    def get_monitor_value(self, logs: dict | None) -> Any:
        """The monitored value in ``logs``; ``None``, with a warning, when absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} is conditioned on {self.monitor!r}, which is not in "
                f"the logs. Available: {', '.join(logs)}.",
                stacklevel=3,
            )
        return value

    def _current_value(self, logs: dict | None) -> Any:
        """``get_monitor_value(logs)``, after choosing the comparison on first use
        (at the first epoch end the model's metrics, which ``mode="auto"`` reads, exist)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        return self.get_monitor_value(logs)

    def _is_improvement(self, value: Any, reference: Any) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self._signed_delta, reference))

    def _should_save(self, logs: dict, when: str, what: str) -> bool:
        """For a checkpointing callback (``save_best_only`` and ``verbose``
        attributes): whether to save now, at ``when`` (``"Epoch 3"``). With
        ``save_best_only`` only an improved ``monitor`` saves (it becomes
        ``best``); a missing one warns and skips. ``verbose`` prints the decision,
        ending ``"saving <what>"``."""
        if not self.save_best_only:
            if self.verbose:
                print_msg(f"\n{when}: saving {what}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"{type(self).__name__}: can save the best model only with {self.monitor!r} "
                f"in the logs; available: {sorted(logs)}. Skipping the save at {when}.",
                stacklevel=3,
            )
            return False
        current = float(np.asarray(current))
        if not self._is_improvement(current, self.best):
            if self.verbose:
                print_msg(f"\n{when}: {self.monitor} did not improve from {self.best}")
            return False
        if self.verbose:
            print_msg(
                f"\n{when}: {self.monitor} improved from {self.best} to {current}, saving {what}"
            )
        self.best = current
        return True
