"""Automatic configs for user classes whose ``__init__`` takes simple arguments.

``Layer.__new__`` records the arguments a user class (one defined outside
callax) was constructed with; when that class has no ``get_config`` of its own,
``get_config`` returns them, bound to ``__init__``'s parameter names, so
``cls.from_config(config)`` (``cls(**config)``) rebuilds the object. Only plain
values qualify (numbers, strings, booleans, ``None``, lists/tuples/dicts of
them); anything else makes ``get_config`` raise with the code to add.

Example:
    >>> import callax
    >>> class MLP(callax.Model):
    ...     def __init__(self, hidden=8, out=2, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.a = callax.layers.Dense(hidden)
    ...         self.b = callax.layers.Dense(out)
    ...     def call(self, x):
    ...         return self.b(self.a(x))
    >>> cfg = MLP(16, name="mlp").get_config()
    >>> cfg["hidden"], cfg["name"]
    (16, 'mlp')
"""

from __future__ import annotations

import inspect
import sys
from typing import Any


class NotSerializableError(NotImplementedError):
    """A layer or model whose config cannot be made automatically.

    A ``NotImplementedError`` as in Keras 3 (``get_config`` not implemented)."""


def _is_simple(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_simple(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_simple(v) for k, v in value.items())
    return False


def _describe(value: Any) -> str:
    if inspect.isfunction(value) or inspect.ismethod(value):
        return f"the function {getattr(value, '__qualname__', value)!r}"
    return f"a {type(value).__name__} object"


def auto_config(layer: Any, base_config: dict) -> dict:
    """The recorded ``__init__`` arguments of ``layer`` as a config.

    Raises:
        NotSerializableError: naming the arguments that are not simple values,
            with the ``get_config``/``from_config`` code to add.
    """
    cls = type(layer)
    module = sys.modules.get(cls.__module__)
    if cls.__module__.startswith("callax.") and getattr(module, cls.__name__, None) is cls:
        return base_config  # a built-in layer: its config is what Layer gives
    args, kwargs = layer.__dict__["_init_args"]
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind(layer, *args, **kwargs)
    except TypeError:  # __init__ was called some other way (e.g. by a subclass)
        return base_config
    params = list(signature.parameters.values())[1:]
    accepts_kwargs = any(p.kind == p.VAR_KEYWORD for p in params)
    config: dict[str, Any] = {}
    if accepts_kwargs:
        config.update(base_config)
    else:
        config.update({k: v for k, v in base_config.items() if k in signature.parameters})
    bad: list[tuple[str, Any]] = []
    for p in params:
        if p.name not in bound.arguments:
            continue
        value = bound.arguments[p.name]
        if p.kind == p.VAR_POSITIONAL:
            if value:
                bad.append((f"*{p.name}", value))
            continue
        if p.kind == p.VAR_KEYWORD:
            for k, v in value.items():
                if k in ("dtype",) and not _is_simple(v):
                    continue  # the base config already holds the policy
                if not _is_simple(v):
                    bad.append((k, v))
                else:
                    config[k] = list(v) if isinstance(v, tuple) else v
            continue
        if not _is_simple(value):
            bad.append((p.name, value))
        else:
            config[p.name] = list(value) if isinstance(value, tuple) else value
    if bad:
        raise NotSerializableError(not_serializable_message(layer, bad))
    return config


def not_serializable_message(layer: Any, bad: list[tuple[str, Any]]) -> str:
    cls = type(layer).__name__
    names = ", ".join(name for name, _ in bad)
    listed = "\n".join(f"  - {name}: {_describe(value)}" for name, value in bad)
    updates = ", ".join(
        f'"{n}": callax.saving.serialize_keras_object(self.{n})' for n, _ in bad[:3]
    )
    restores = "\n".join(
        f'        config["{n}"] = callax.saving.deserialize_keras_object(config["{n}"])'
        for n, _ in bad[:3]
    )
    return (
        f"{cls} '{layer.name}' has no get_config(), and callax cannot record its __init__ "
        f"arguments automatically: {names} "
        f"{'is not a simple value' if len(bad) == 1 else 'are not simple values'} "
        "(numbers, strings, booleans, None, or lists/dicts of them):\n"
        f"{listed}\n"
        f"To save the whole model, add to {cls}:\n\n"
        "    def get_config(self):\n"
        "        config = super().get_config()\n"
        f"        config.update({{{updates}}})\n"
        "        return config\n\n"
        "    @classmethod\n"
        "    def from_config(cls, config):\n"
        f"{restores}\n"
        "        return cls(**config)\n\n"
        'Saving the weights alone always works: model.save_weights("model.weights.h5").'
    )
