"""The fault catalog's case type and the helpers the ``cases_*.py`` files share.

A case is one line::

    C("dense-negative-units", lambda: L.Dense(-1), ValueError, "Dense", "units", "-1")

``C(id, action, raises, *must_contain)`` expects ``action()`` to raise ``raises``
(a type or a tuple of types) with a message (the exception's text and its notes,
compared case-insensitively) containing every string in ``must_contain``; a
compiled regex in ``must_contain`` must match instead. ``OK(id, action, check)``
expects the documented graceful behaviour: ``action()`` returns without raising
and ``check(result)`` (when given) holds. An action taking one parameter gets a
fresh temporary directory (a ``pathlib.Path``).

``xfail="reason"`` marks a known gap, run as ``xfail(strict=True)`` so a fix
shows up as a failure to clear the mark.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    id: str
    action: Callable[..., Any]
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None
    must_contain: tuple[str | re.Pattern, ...] = ()
    check: Callable[[Any], Any] | None = None
    xfail: str | None = None


def C(
    id: str, action: Callable[..., Any], raises: Any, *must_contain: Any, xfail: str | None = None
) -> Case:
    """A case that must raise ``raises`` with a message holding ``must_contain``."""
    return Case(id, action, raises, tuple(must_contain), None, xfail)


def OK(
    id: str,
    action: Callable[..., Any],
    check: Callable[[Any], Any] | None = None,
    xfail: str | None = None,
) -> Case:
    """A case that must not raise; ``check(result)`` may assert more."""
    return Case(id, action, None, (), check, xfail)


def message_of(error: BaseException) -> str:
    """The exception's text and its notes (the call path is attached as a note)."""
    notes = getattr(error, "__notes__", None) or []
    return "\n".join([str(error), *map(str, notes)])


def check_message(error: BaseException, must_contain: tuple) -> None:
    text = message_of(error)
    low = text.lower()
    missing = []
    for item in must_contain:
        if isinstance(item, re.Pattern):
            if not item.search(text):
                missing.append(f"/{item.pattern}/")
        elif str(item).lower() not in low:
            missing.append(repr(item))
    assert not missing, f"{type(error).__name__} message lacks {', '.join(missing)}:\n{text}"


# ------------------------------------------------------------------ helpers
def x(*shape: int, dtype: str = "float32", value: float = 1.0) -> np.ndarray:
    """A constant array (shape first: ``x(4, 2)``)."""
    return np.full(shape, value, dtype=dtype)


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def raise_(error: BaseException) -> Any:
    """For lambdas: ``lambda: raise_(ValueError(...))``."""
    raise error


def compiled(model: Any, loss: Any = "mse", **kwargs: Any) -> Any:
    kwargs.setdefault("optimizer", "sgd")
    model.compile(loss=loss, **kwargs)
    return model


def dense_model(units: int = 1, inputs: int = 2, name: str | None = None, loss: Any = "mse") -> Any:
    """A compiled Sequential ``Input(inputs) -> Dense(units)``."""
    import callax

    model = callax.Sequential(
        [callax.Input((inputs,)), callax.layers.Dense(units, name="d")], name=name
    )
    return compiled(model, loss) if loss is not None else model


def fit(model: Any, *args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("verbose", 0)
    return model.fit(*args, **kwargs)


def session_dir() -> str:
    return _session_dir()


@functools.lru_cache(maxsize=1)
def _session_dir() -> str:
    return tempfile.mkdtemp(prefix="callax-faults-")


def file_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return os.fspath(path)
