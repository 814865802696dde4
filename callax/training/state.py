"""The training state: where variable values live while ``fit`` runs.

A compiled training step takes the state as plain arrays and returns the new
state; the arrays passed in are donated (their memory reused). Writing every
step's result back into the variables would cost a Python loop per step, so the
:class:`TrainingState` holds the newest values and writes them back only when
something needs the objects: the end of an epoch, a callback that reads the
model (``Callback.model`` asks for a sync), ``evaluate``/``predict`` called from
outside, the end of ``fit``. After a sync the next step re-reads the variables,
so whatever a callback assigned (a learning rate, restored weights) is used.

Threads. The loops that update the model (``fit``, ``train_on_batch``, and
``evaluate``/``test_on_batch``, which update the metrics) hold the model's
**lease** (:meth:`TrainingState.lease`) while they run; only the lease holder's
thread holds values here. A second updating loop on another thread gets a clear
``RuntimeError`` (``evaluate`` instead runs detached, see ``loop.py``), never
corrupted state. Everything else reads the variables, which are never donated:
values pulled from them are copied before a donating step eats them, so a
``predict`` (or ``model(x)``, ``callax.jit``) on another thread always finds valid
arrays, and ``sync`` writes them as one set (``core.pure_call.write_back``, under
its ``state_lock``), so a concurrent reader sees the weights from before a sync
or after it.

Values are read with ``core.pure_call.snapshot`` and written back with
``core.pure_call.write_back``, the two ends every compiled call shares (the
per-layer kernels and ``callax.jit`` too). ``write_back`` stores values as they
are: the step compiler (``steps.py``) checks a step's new state against the
variables' shapes and dtypes once, while tracing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from callax.core.pure_call import snapshot, state_lock, write_back

# The state tuple of each step kind, by variable group (``train_step`` gets
# ``(trainable, non_trainable, optimizer, metrics)`` values, and so on).
STEP_GROUPS: dict[str, tuple[str, ...]] = {
    "train": ("trainable", "non_trainable", "optimizer", "metrics"),
    "test": ("trainable", "non_trainable", "metrics"),
    "predict": ("trainable", "non_trainable"),
}


def merge(old: tuple, new: tuple) -> tuple:
    """The state after a non-donating step, which returns ``None`` for every value
    it left unchanged (so unchanged arrays are neither copied nor written back)."""
    return tuple(
        [o if n is None else n for o, n in zip(olds, news)] for olds, news in zip(old, new)
    )


class TrainingState:
    """Holds the newest value of every variable group of one model.

    Groups: ``trainable``, ``non_trainable`` (the model's variables in
    ``stateless_call`` order), ``optimizer`` (``optimizer.variables``) and
    ``metrics`` (``model.metrics_variables``).
    """

    def __init__(self, model: Any):
        self.model = model
        self.values: dict[str, list] = {}
        self._private: set[str] = set()  # held groups whose arrays no variable holds
        self._variables: dict[str, list] | None = None
        self._owner: int | None = None  # the thread holding the lease
        self._owner_caller = ""
        self._depth = 0

    # --------------------------------------------------------------- lease
    def held_elsewhere(self) -> bool:
        """Whether a loop on another thread holds the lease right now."""
        owner = self._owner
        return owner is not None and owner != threading.get_ident()

    def try_lease(self, caller: str) -> bool:
        """Takes the lease for ``caller`` (re-entrant on one thread); ``False`` if
        a loop on another thread holds it."""
        me = threading.get_ident()
        with state_lock:
            if self._owner is not None and self._owner != me:
                return False
            if self._owner is None:
                self._owner, self._owner_caller = me, caller
            self._depth += 1
        return True

    def release(self) -> None:
        with state_lock:
            self._depth -= 1
            if self._depth:
                return
            try:
                self.sync()
            finally:
                self._owner = None

    @contextlib.contextmanager
    def lease(self, caller: str) -> Iterator[None]:
        """Holds the lease while ``caller`` (``fit``, ``train_on_batch``...) runs;
        raises ``RuntimeError`` if a loop on another thread holds it."""
        if not self.try_lease(caller):
            model = self.model
            raise RuntimeError(
                f"{caller}: {type(model).__name__} '{model.name}' is being updated by "
                f"{self._owner_caller}() on another thread; two training loops on one "
                "model at once would overwrite each other's weights. Wait for it to "
                "finish (Thread.join), or train a copy (callax.models.clone_model). "
                "predict, evaluate and model(x) may run alongside it."
            )
        try:
            yield
        finally:
            self.release()

    # ----------------------------------------------------------- variables
    def refresh(self) -> None:
        """Re-reads which variables form each group (after compile, build, or a
        change of ``trainable``); syncs first so no held value is lost. A no-op on
        a thread that does not hold the lease while another does: the variables
        cannot change under a running loop."""
        if self.held_elsewhere():
            return
        self.sync()
        self._variables = None

    def variables(self, group: str) -> list:
        """The variables of ``group``, read once per ``refresh``; each group when
        first asked for (``predict`` never walks the metrics or the optimizer)."""
        groups = self._variables
        if groups is None:
            groups = self._variables = {}
        found = groups.get(group)
        if found is None:
            found = groups[group] = self._collect(group)
        return found

    def _collect(self, group: str) -> list:
        model = self.model
        if group == "trainable":
            return list(model.trainable_variables)
        if group == "non_trainable":
            return list(model.non_trainable_variables)
        if group == "optimizer":
            optimizer = getattr(model, "optimizer", None)
            return list(optimizer.variables) if optimizer is not None else []
        if group == "metrics":
            return list(model.metrics_variables)
        raise KeyError(group)

    # -------------------------------------------------------------- values
    def get(self, groups: tuple[str, ...], donate: bool = True) -> tuple[list, ...]:
        """The current values of ``groups`` (held ones, else read from the
        variables). With ``donate`` they are ready to be donated to a step: values
        a variable holds are copied first, so the variables stay valid for any
        other thread reading them. Only the lease holder calls this."""
        out = []
        copied = False
        for group in groups:
            values = self.values.get(group)
            if values is None:
                values = self.values[group] = snapshot(self.variables(group))
            if donate and group not in self._private:
                values = self.values[group] = [v.copy() for v in values]
                self._private.add(group)
                copied = True
            out.append(values)
        if copied:  # a buffer donated twice is an error
            out = self._dedupe(out)
            for group, vals in zip(groups, out):
                self.values[group] = vals
        return tuple(out)

    def read(self, groups: tuple[str, ...]) -> tuple[list, ...]:
        """Values for a non-donating step (``predict``, ``evaluate``): the held ones
        on the lease holder's thread, else the variables' (one consistent set)."""
        mine = not self.held_elsewhere()
        return tuple(
            (self.values.get(group) if mine else None) or snapshot(self.variables(group))
            for group in groups
        )

    def _dedupe(self, groups: list[list]) -> list[list]:
        """Donating one buffer twice is an error; copy any array that appears in
        two places (e.g. two variables created from the same constant)."""
        seen: set[int] = set()
        fixed = []
        for values in groups:
            row = []
            for value in values:
                if id(value) in seen:
                    value = value.copy()
                seen.add(id(value))
                row.append(value)
            fixed.append(row)
        return fixed

    def set(self, groups: tuple[str, ...], values: tuple, donated: bool = True) -> None:
        """Records a step's new state (the variables are now stale). ``donated``:
        the values are a donating step's outputs, arrays no variable holds."""
        for group, vals in zip(groups, values):
            self.values[group] = list(vals)
            if donated:
                self._private.add(group)
            else:
                self._private.discard(group)

    def sync(self) -> None:
        """Writes the held values into the variables (as one set) and forgets them,
        so the next step re-reads the variables (picking up any change made
        meanwhile). A no-op on a thread that does not hold the lease while
        another does: its values are its own until it syncs."""
        if not self.values:
            return
        with state_lock:  # checked under the lock, which taking the lease also holds
            if self.held_elsewhere():
                return
            values, self.values = self.values, {}
            self._private = set()
            for group, vals in values.items():
                write_back(self.variables(group), vals)

    def write_changed(self, groups: tuple[str, ...], new: tuple) -> None:
        """Stores what a non-donating step changed (``None`` = unchanged): into the
        held values on the lease holder's thread if it holds the group, else into
        the variables, as one set."""
        mine = not self.held_elsewhere()
        for group, news in zip(groups, new):
            if all(n is None for n in news):
                continue
            held = self.values.get(group) if mine else None
            if held is not None:
                self.values[group] = [o if n is None else n for o, n in zip(held, news)]
                self._private.discard(group)  # mixed: copy before the next donation
            else:
                pairs = [(v, n) for v, n in zip(self.variables(group), news) if n is not None]
                write_back([v for v, _ in pairs], [n for _, n in pairs])
