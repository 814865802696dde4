"""Reading and writing many variables as one set: the two ends of every compiled
call (per-layer kernels, ``callax.jit``, the ``fit``/``evaluate``/``predict``
steps), which all run "values out -> pure function under a ``StatelessScope`` ->
updates back".

- ``snapshot(variables)``: the stored values, read as one consistent set;
- ``write_back(variables, values)``: stores values a compiled function computed
  for those variables, through ``Variable._store`` (the variable keeps its layout;
  shape and dtype were checked by ``assign`` while the function was traced).

Both hold ``state_lock``, so a thread reading a model's weights never sees half of
a write-back made on another thread (``fit``'s end-of-epoch sync, a
``callax.jit`` call's state updates): it sees the set from before or from after.
The lock covers only these Python loops (microseconds), never a compiled call, so
concurrent calls still run in parallel.

``abstract_scope()`` is the third piece: the scope in which a call is evaluated
abstractly (``jax.eval_shape``: output specs, abstract builds), computing and
writing nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from callax.core.call_context import isolated_context
from callax.core.stateless_scope import StatelessScope
from callax.core.variable import abstract_variables

# One lock for every bulk read and write-back. It is re-entrant: a write-back may
# run while the same thread holds it for a longer section (TrainingState.sync).
state_lock = threading.RLock()


def snapshot(variables: Iterable[Any]) -> list:
    """The current stored values of ``variables`` (never a stateless scope's), as
    one set no concurrent write-back is half-way through."""
    with state_lock:
        return [v._value if v._value is not None else v.value for v in variables]


def write_back(variables: Sequence[Any], values: Iterable[Any]) -> None:
    """Stores ``values`` (computed by a compiled call for ``variables``) as one set."""
    with state_lock:
        for variable, value in zip(variables, values):
            variable._store(value)


@contextlib.contextmanager
def abstract_scope() -> Iterator[None]:
    """The scope an abstract evaluation (``jax.eval_shape`` of a layer call) runs
    in: weights created inside stay uninitialised until really read
    (``abstract_variables``), reads and assignments go to a fresh
    ``StatelessScope`` (nothing is written to any variable), and calls inside run
    as fresh top-level calls (``isolated_context``), not as part of a call that
    may be in progress around it.

    Example:
        >>> import jax, callax
        >>> dense = callax.layers.Dense(3)
        >>> with abstract_scope():
        ...     out = jax.eval_shape(dense, jax.ShapeDtypeStruct((2, 4), "float32"))
        >>> out.shape, dense.built
        ((2, 3), True)
    """
    with abstract_variables(), StatelessScope(), isolated_context():
        yield
