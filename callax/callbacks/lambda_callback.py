"""``LambdaCallback``: a callback made of plain functions.

Example:
    >>> import callax
    >>> seen = []
    >>> cb = callax.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> cb.on_epoch_end(3, {})
    >>> seen
    [3]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from callax.callbacks.callback import Callback

_HOOKS = (
    "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
    "on_train_batch_end", "on_batch_begin", "on_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class LambdaCallback(Callback):
    """Each keyword names a hook and gives the function to run there:
    ``on_epoch_begin(epoch, logs)``, ``on_train_batch_end(batch, logs)``,
    ``on_train_begin(logs)``... (``on_batch_begin``/``on_batch_end`` are the
    training-batch hooks, as in Keras)."""

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **kwargs: Callable,
    ):
        super().__init__()
        given = {
            "on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin, "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin, "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }  # fmt: skip
        unknown = sorted(set(given) - set(_HOOKS))
        if unknown:
            raise TypeError(
                f"LambdaCallback: unknown hooks {unknown}; known hooks: {list(_HOOKS)}."
            )
        for hook, fn in given.items():
            if fn is not None:
                _check_hook(hook, fn)
                setattr(self, hook, _positional(fn))


def _check_hook(hook: str, fn: Callable) -> None:
    """A non-callable, or a function that cannot take the hook's positional
    arguments, fails here rather than in the middle of ``fit``."""
    names = (
        ("batch", "logs")
        if "batch" in hook
        else ("epoch", "logs")
        if "epoch" in hook
        else (("logs",))
    )
    if not callable(fn):
        raise TypeError(
            f"LambdaCallback: {hook} must be a callable taking ({', '.join(names)}); received "
            f"{fn!r} of type {type(fn).__name__}."
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: trust them
        return
    try:
        signature.bind(*names)
    except TypeError:
        raise TypeError(
            f"LambdaCallback: {hook} is called with {len(names)} positional argument(s) "
            f"({', '.join(names)}), as in Keras; received {getattr(fn, '__name__', fn)!r} with "
            f"signature {signature}."
        ) from None


def _positional(fn: Callable) -> Callable:
    """The user's function called with ``logs`` positionally, as Keras documents
    (``lambda batch, logs: ...``), whichever way the loop passes it: the batch
    hooks get ``logs=`` by keyword, which a lambda's ``l`` would not accept."""

    def hook(*args, **kwargs):
        if "logs" in kwargs:
            args = (*args, kwargs.pop("logs"))
        return fn(*args, **kwargs)

    hook.__wrapped__ = fn
    return hook
