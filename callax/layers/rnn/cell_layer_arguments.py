"""The signature of a recurrent layer that takes its cell's arguments.

Keras's ``SimpleRNN``, ``GRU``, ``LSTM`` and ``ConvLSTM*`` layers take every argument
of their cell (``units``, ``activation``, the weight arguments...), the loop's
(``return_sequences``...) and ``activity_regularizer``, in one signature per layer.
:func:`cell_layer_arguments` derives that signature from the cell's, so each
argument is declared once (on the cell), and splits each call into the cell's
arguments and the loop's.

Example:
    >>> import inspect
    >>> import callax
    >>> cell = list(inspect.signature(callax.layers.GRUCell).parameters)
    >>> layer = list(inspect.signature(callax.layers.GRU).parameters)
    >>> [name for name in layer if name not in cell]
    ['activity_regularizer', 'return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll']
    >>> layer[-2:]
    ['reset_after', 'kwargs']
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from callax.layers.signature_binding import bind, parameter

# The recurrent loop's arguments, in Keras's order.
LOOP_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


@functools.cache
def cell_arg_names(cell_class: type) -> tuple[str, ...]:
    """The named arguments of ``cell_class``'s constructor (what a layer built on the
    cell hands it, and reads back from it as attributes); cached, as a layer's
    ``__getattr__`` asks for them."""
    return tuple(
        p.name
        for p in inspect.signature(cell_class).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    )


def cell_layer_arguments(
    cell_class: type,
    loop_after: str,
    loop_args: tuple[str, ...] = LOOP_ARGS,
    last: tuple[str, ...] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Gives the ``__init__(self, cell_args, loop_args, **kwargs)`` it decorates the
    signature of a layer built on ``cell_class``: the cell's arguments, with
    ``activity_regularizer`` after the cell's regularizers, ``loop_args`` (each
    ``False`` by default) after the cell argument ``loop_after``, and the cell
    arguments named in ``last`` moved to the end (as Keras's ``GRU`` has
    ``reset_after``). A call binds to that signature; the decorated ``__init__``
    gets the cell's arguments and the loop's as two dicts, in signature order, and
    ``activity_regularizer`` in ``**kwargs``."""

    def decorate(init: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(init).parameters
        cell = [p for p in inspect.signature(cell_class).parameters.values()]
        named = [p for p in cell if p.kind is p.POSITIONAL_OR_KEYWORD]
        regularizers = [i for i, p in enumerate(named) if p.name.endswith("_regularizer")]
        named.insert(regularizers[-1] + 1, parameter("activity_regularizer", None))
        where = [p.name for p in named].index(loop_after) + 1
        named[where:where] = [parameter(name, False, "bool") for name in loop_args]
        named = [p for p in named if p.name not in last] + [p for p in named if p.name in last]
        first, *_, var_keyword = own.values()  # self, ..., **kwargs
        signature = inspect.Signature([first, *named, var_keyword])
        cell_names = cell_arg_names(cell_class)

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            arguments, extra = bind(type(self), signature, (self, *args), kwargs)
            extra["activity_regularizer"] = arguments.pop("activity_regularizer")
            cell_args = {name: arguments.pop(name) for name in cell_names}
            init(self, cell_args, arguments, **extra)

        __init__.__signature__ = signature  # type: ignore[attr-defined]
        return __init__

    return decorate
