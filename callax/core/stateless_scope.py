"""The stateless scope: how pure JAX functions see stateful layers.

Inside a ``StatelessScope``, reading a :class:`~callax.Variable` returns the value
the scope maps it to, and assigning to one records the new value in the scope
instead of mutating the variable. Everything that jits or differentiates a layer
(``stateless_call``, the training steps, ``callax.jit``) is built on this one
mechanism, so the stateful objects users write never leak tracers.

Example:
    >>> import jax.numpy as jnp
    >>> from callax import Variable, StatelessScope
    >>> v = Variable(jnp.zeros(2))
    >>> with StatelessScope({v: jnp.ones(2)}) as scope:
    ...     v.assign(v.value + 1)
    ...     print(v.value)
    [2. 2.]
    >>> print(v.value, scope.get_current_value(v))
    [0. 0.] [2. 2.]
"""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()


def get_stateless_scope() -> StatelessScope | None:
    """Returns the innermost active stateless scope, or ``None``."""
    return getattr(_local, "scope", None)


def in_stateless_scope() -> bool:
    return getattr(_local, "scope", None) is not None


class StatelessScope:
    """Maps variables to values for the duration of a ``with`` block.

    Args:
        state_mapping: a mapping or iterable of ``(variable, value)`` pairs giving
            the values variables read as inside the scope.
    """

    __slots__ = ("_values", "_assigned", "_previous", "losses", "loss_owners")

    def __init__(self, state_mapping: Any = None):
        self._values: dict[int, Any] = {}
        self._assigned: dict[int, Any] = {}
        self._previous = None
        self.losses: list[Any] = []  # losses added by calls inside the scope
        self.loss_owners: dict[int, Any] = {}  # id(loss) -> the layer that added it
        if state_mapping is not None:
            items = state_mapping.items() if hasattr(state_mapping, "items") else state_mapping
            for variable, value in items:
                if getattr(type(value), "_is_variable", False):  # a Variable (defined above)
                    # `stateless_call(model.trainable_variables, ...)`: a variable
                    # given as a value stands for its current value.
                    value = value._value if value._value is not None else value.value
                self._values[id(variable)] = value

    def __enter__(self) -> StatelessScope:
        self._previous = getattr(_local, "scope", None)
        _local.scope = self
        return self

    def __exit__(self, *exc) -> None:
        _local.scope = self._previous

    # Reads go through `get_current_value`; writes through `add_update`.
    def get_current_value(self, variable: Any) -> Any:
        """The value ``variable`` has in this scope or an enclosing one, else ``None``."""
        scope = self
        key = id(variable)
        while scope is not None:
            value = scope._values.get(key)
            if value is not None:
                return value
            scope = scope._previous
        return None

    def add_update(self, variable: Any, value: Any) -> None:
        self._assigned[id(variable)] = (variable, value)
        self._values[id(variable)] = value

    def updates(self) -> list[tuple[Any, Any]]:
        """``(variable, new_value)`` for every variable assigned in this scope."""
        return list(self._assigned.values())
