"""Binding a constructor call to a signature the constructor does not spell out.

Some built-in layers declare part of their signature once for many layers (the
weight arguments, :mod:`callax.layers.weight_args`; a recurrent layer's cell
arguments, :mod:`callax.layers.rnn.cell_layer_arguments`). Their ``__init__`` binds
each call to the full signature here, with the errors Python gives for a written-out
signature.

Example:
    >>> import inspect
    >>> from callax.layers.signature_binding import bind
    >>> def f(self, units, use_bias=True, **kwargs): ...
    >>> bind(dict, inspect.signature(f), (None, 4), {"name": "d"})
    ({'units': 4, 'use_bias': True}, {'name': 'd'})
"""

from __future__ import annotations

import inspect
from typing import Any


def bind(cls: type, signature: inspect.Signature, args: tuple, kwargs: dict) -> tuple[dict, dict]:
    """Binds ``args`` (``self`` first) and ``kwargs`` to ``signature``, defaults applied.

    Returns the named arguments (without ``self``) and the ``**kwargs`` ones; a call
    that does not fit raises the ``TypeError`` Python would, naming ``cls``.
    """
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(_bind_error(cls, signature, len(args), kwargs, error)) from None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    names = list(signature.parameters)
    del arguments[names[0]]
    var_keyword = [p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    extra = arguments.pop(var_keyword[0]) if var_keyword else {}
    return arguments, extra


def _bind_error(
    cls: type, signature: inspect.Signature, given: int, kwargs: dict, error: TypeError
) -> str:
    """The message Python gives when a call does not fit ``signature`` (which
    ``Signature.bind`` words more vaguely), naming the layer class."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in signature.parameters.values() if p.kind in kinds]
    required = [p.name for p in positional if p.default is p.empty]
    if given > len(positional):
        return (
            f"{cls.__name__}.__init__() takes from {len(required)} to {len(positional)} "
            f"positional arguments but {given} were given"
        )
    missing = [f"'{name}'" for name in required[given:] if name not in kwargs]
    if missing:
        # Python's wording: 'a'; 'a' and 'b'; 'a', 'b', and 'c'.
        names = " and ".join(missing) if len(missing) < 3 else ", ".join(missing[:-1])
        if len(missing) >= 3:
            names += f", and {missing[-1]}"
        plural = "s" if len(missing) > 1 else ""
        return (
            f"{cls.__name__}.__init__() missing {len(missing)} required positional "
            f"argument{plural}: {names}"
        )
    return f"{cls.__name__}.__init__() {error}"


def parameter(name: str, default: Any, annotation: str = "Any") -> inspect.Parameter:
    """A positional-or-keyword parameter as the layers write them (postponed
    annotations are strings)."""
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )
