"""``ProgbarLogger``: the progress bar ``fit``/``evaluate``/``predict`` show.

Added automatically when ``verbose`` is not 0. Prints ``Epoch i/n`` before each
epoch when there are several, a live bar per epoch (``verbose=1``), or one line
per epoch (``verbose=2``). Validation inside ``fit`` shows no bar of its own:
its results appear on the epoch's line as ``val_*``.

Example:
    >>> import callax
    >>> logger = callax.callbacks.ProgbarLogger()
    >>> logger.set_params({"verbose": 2, "epochs": 1, "steps": 2})
    >>> logger.on_train_begin()
    >>> logger.on_epoch_begin(0)
    >>> logger.on_train_batch_end(0, {"loss": 0.5})
    >>> logger.on_epoch_end(0, {"loss": 0.25})  # doctest: +ELLIPSIS
    2/2 - 0s - ...step - loss: 0.2500
"""

from __future__ import annotations

from callax.callbacks.callback import Callback
from callax.utils.io_utils import print_msg
from callax.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints progress and metrics to stdout."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        try:
            self.verbose = 1 if verbose == "auto" else int(verbose)
        except (TypeError, ValueError):
            raise ValueError(
                f"verbose must be 'auto', 0 (silent), 1 (progress bar) or 2 (one line per "
                f"epoch); received verbose={verbose!r}."
            ) from None
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self) -> None:
        self.seen = 0
        self.progbar = None

    def _bar(self) -> Progbar:
        if self.progbar is None:
            self.progbar = Progbar(self.target, verbose=self.verbose, unit_name="step")
        return self.progbar

    def _update(self, batch: int, logs: dict | None) -> None:
        self.seen = batch + 1
        bar = self._bar()
        bar.stateful_metrics.update(k for k, _ in _items(logs))  # already running means
        bar.update(self.seen, _items(logs), finalize=False)

    def _finish(self, logs: dict | None) -> None:
        bar = self._bar()
        if self.target is None:
            bar.target = self.seen
        bar.stateful_metrics.update(k for k, _ in _items(logs))
        bar.update(self.target if self.target is not None else self.seen, _items(logs),
                   finalize=True)  # fmt: skip

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._reset()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._reset()

    def on_predict_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self._bar().update(self.seen, None, finalize=False)

    def on_predict_end(self, logs=None):
        self._finish(None)


def _items(logs: dict | None) -> list:
    return [] if not logs else list(logs.items())
