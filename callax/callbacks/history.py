"""``History``: records every epoch's logs; ``fit`` returns it.

Example:
    >>> import callax
    >>> h = callax.callbacks.History()
    >>> h.on_train_begin()
    >>> h.on_epoch_end(0, {"loss": 0.5})
    >>> h.epoch, h.history
    ([0], {'loss': [0.5]})
"""

from __future__ import annotations

from callax.callbacks.callback import Callback


class History(Callback):
    """``history.history[name]`` lists the value of each metric per epoch;
    ``history.epoch`` lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self._model is not None:
            self._model.__dict__["history"] = self
