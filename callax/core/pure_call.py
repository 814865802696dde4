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
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

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
