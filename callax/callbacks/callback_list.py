"""``CallbackList``: calls every callback's hook, in list order.

``fit``/``evaluate``/``predict`` add a :class:`History` (fit) and a
:class:`ProgbarLogger` (when ``verbose``) unless the list has them already.

Batch-end logs are device values; they are converted to Python floats (one
host sync) only when some callback that reads them per batch is present. The
built-in ``History`` and ``ProgbarLogger`` take the device values as they are
(the progress bar reads them only when it redraws).

Example:
    >>> import callax
    >>> cbs = callax.callbacks.CallbackList([], add_history=True, epochs=1)
    >>> [type(c).__name__ for c in cbs.callbacks]
    ['History']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from callax.callbacks.callback import Callback
from callax.callbacks.history import History
from callax.callbacks.progbar_logger import ProgbarLogger


def flatten_logs(logs: Any) -> dict:
    """Nested dicts flattened, keys sorted (as Keras), values untouched."""
    out: dict = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            out.update(flatten_logs(value))
        else:
            out[key] = value
    return out


def pythonify_logs(logs: Any) -> dict:
    """:func:`flatten_logs` with values as Python floats where possible."""
    out = flatten_logs(logs)
    for key, value in out.items():
        try:
            out[key] = float(np.asarray(value))
        except (TypeError, ValueError):
            pass  # not a scalar: keep it as it is
    return out


def _overrides(callback: Callback, *names: str) -> bool:
    return any(
        n in vars(callback) or getattr(type(callback), n, None) is not getattr(Callback, n)
        for n in names
    )


def _loop_hook(hook: str) -> Callable[..., None]:
    """``CallbackList``'s ``hook(self, logs=None)`` for a loop's begin or end:
    every callback's ``hook`` with the logs as Python floats."""

    def call(self: CallbackList, logs: Any = None) -> None:
        self._call(hook, logs=pythonify_logs(logs))

    call.__name__ = hook
    call.__qualname__ = f"CallbackList.{hook}"
    return call


class CallbackList(Callback):
    """A list of callbacks called as one.

    Args:
        callbacks: callbacks (nested lists are flattened).
        add_history: add a :class:`History` if none is given.
        add_progbar: add a :class:`ProgbarLogger` if none is given.
        model: the model every callback gets.
        **params: passed to every callback's ``set_params`` (``verbose``,
            ``epochs``, ``steps``).
    """

    def __init__(
        self,
        callbacks: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ):
        super().__init__()
        self.callbacks: list[Callback] = _flatten(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not hasattr(cb, "on_epoch_end"):
                raise TypeError(
                    "callbacks must be callax.callbacks.Callback instances; received "
                    f"{cb!r} of type {type(cb).__name__}."
                )
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        lazy = (History, ProgbarLogger)

        def eager(*names):
            return any(
                not isinstance(c, lazy) and not getattr(c, "accepts_device_logs", False)
                and _overrides(c, *names)
                for c in self.callbacks
            )  # fmt: skip

        self._float_train = eager("on_train_batch_end", "on_batch_end")
        self._float_test = eager("on_test_batch_end")
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def set_params(self, params: dict) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model: Any) -> None:
        self._model = model
        if self._history is not None:
            model.__dict__["history"] = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def set_data_adapter(self, adapter: Any) -> None:
        """Hands the running loop's data adapter to every callback (``None`` when
        the loop ends)."""
        self.data_adapter = adapter
        for cb in self.callbacks:
            setter = getattr(cb, "set_data_adapter", None)
            if setter is not None:  # duck-typed callbacks may lack it
                setter(adapter)

    def _call(self, hook: str, *args: Any, logs: Any = None) -> None:
        # As Keras: batch hooks get `logs=` by keyword, the others positionally.
        if "batch" in hook:
            for cb in self._overriding(hook):
                getattr(cb, hook)(*args, logs=logs)
        else:
            for cb in self.callbacks:
                getattr(cb, hook)(*args, logs)

    def _overriding(self, hook: str) -> list:
        """The callbacks that define ``hook`` themselves (the base class's hooks do
        nothing): batch hooks run every step, so fit skips the no-op ones."""
        cache = self.__dict__.setdefault("_hook_cache", {})
        key = (hook, len(self.callbacks))
        found = cache.get(key)
        if found is None:
            # The base train-batch hooks forward to the Keras 2 names.
            names = (hook, *_LEGACY.get(hook, ()))
            found = cache[key] = [
                cb for cb in self.callbacks
                if any(n in cb.__dict__ or getattr(type(cb), n, None) is not getattr(Callback, n)
                       for n in names)
            ]  # fmt: skip
        return found

    # epoch/loop hooks: logs as floats
    on_train_begin = _loop_hook("on_train_begin")
    on_train_end = _loop_hook("on_train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=pythonify_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=pythonify_logs(logs))

    on_test_begin = _loop_hook("on_test_begin")
    on_test_end = _loop_hook("on_test_end")
    on_predict_begin = _loop_hook("on_predict_begin")
    on_predict_end = _loop_hook("on_predict_end")

    # batch hooks
    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=flatten_logs(logs))

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        if self._overriding("on_train_batch_begin"):
            self._call("on_train_batch_begin", batch, logs=flatten_logs(logs))

    def on_train_batch_end(self, batch, logs=None):
        if self._overriding("on_train_batch_end"):
            convert = pythonify_logs if self._float_train else flatten_logs
            self._call("on_train_batch_end", batch, logs=convert(logs))

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=flatten_logs(logs))

    def on_test_batch_end(self, batch, logs=None):
        convert = pythonify_logs if self._float_test else flatten_logs
        self._call("on_test_batch_end", batch, logs=convert(logs))

    # Every hook gets a dict, never None (as Keras: user hooks do `logs.keys()`).
    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs={} if logs is None else logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs={} if logs is None else logs)

    def __iter__(self):
        return iter(self.callbacks)


_LEGACY = {"on_train_batch_begin": ("on_batch_begin",), "on_train_batch_end": ("on_batch_end",)}


def _flatten(callbacks: Any) -> list:
    if callbacks is None:
        return []
    if isinstance(callbacks, CallbackList):
        return list(callbacks.callbacks)
    if isinstance(callbacks, (list, tuple)):
        out: list = []
        for c in callbacks:
            out.extend(_flatten(c))
        return out
    return [callbacks]
