"""The training state: where variable values live while ``fit`` runs.

A compiled step takes the state as plain arrays and returns the new state; the
arrays passed in are donated (their memory reused), so the ``Variable`` objects
would hold deleted buffers if they were not updated. Writing every step's result
back into the variables would cost a Python loop per step, so the
:class:`TrainingState` holds the newest values and writes them back only when
something needs the objects: the end of an epoch, a callback that reads the
model (``Callback.model`` asks for a sync), ``evaluate``/``predict`` called from
outside, the end of ``fit``. After a sync the next step re-reads the variables,
so whatever a callback assigned (a learning rate, restored weights) is used.
"""

from __future__ import annotations

from typing import Any

GROUPS = ("trainable", "non_trainable", "optimizer", "metrics")


class TrainingState:
    """Holds the newest value of every variable group of one model.

    Groups: ``trainable``, ``non_trainable`` (the model's variables in
    ``stateless_call`` order), ``optimizer`` (``optimizer.variables``) and
    ``metrics`` (``model.metrics_variables``).
    """

    def __init__(self, model: Any):
        self.model = model
        self.values: dict[str, list] = {}
        self._variables: dict[str, list] | None = None

    # ----------------------------------------------------------- variables
    def refresh(self) -> None:
        """Re-reads which variables form each group (after compile, build, or a
        change of ``trainable``); syncs first so no held value is lost."""
        self.sync()
        self._variables = None

    def variables(self, group: str) -> list:
        if self._variables is None:
            model = self.model
            optimizer = getattr(model, "optimizer", None)
            self._variables = {
                "trainable": list(model.trainable_variables),
                "non_trainable": list(model.non_trainable_variables),
                "optimizer": list(optimizer.variables) if optimizer is not None else [],
                "metrics": list(model.metrics_variables),
            }
        return self._variables[group]

    # -------------------------------------------------------------- values
    def get(self, groups: tuple[str, ...]) -> tuple[list, ...]:
        """The current values of ``groups`` (held ones, else read from the
        variables), ready to be donated to a step."""
        out = []
        pulled = False
        for group in groups:
            if group not in self.values:
                self.values[group] = [v.value for v in self.variables(group)]
                pulled = True
            out.append(self.values[group])
        if pulled:
            out = self._dedupe(out)
            for group, vals in zip(groups, out):
                self.values[group] = vals
        return tuple(out)

    def _dedupe(self, groups: list[list]) -> list[list]:
        """Donating one buffer twice is an error; copy any array that appears in
        two places (e.g. two variables created from the same constant)."""
        import jax.numpy as jnp

        seen: set[int] = set()
        fixed = []
        for values in groups:
            row = []
            for value in values:
                if id(value) in seen:
                    value = jnp.copy(value)
                seen.add(id(value))
                row.append(value)
            fixed.append(row)
        return fixed

    def set(self, groups: tuple[str, ...], values: tuple) -> None:
        """Records a step's new state (the variables are now stale)."""
        for group, vals in zip(groups, values):
            self.values[group] = list(vals)

    def sync(self) -> None:
        """Writes the held values into the variables and forgets them, so the next
        step re-reads the variables (picking up any change made meanwhile)."""
        if not self.values:
            return
        values, self.values = self.values, {}
        for group, vals in values.items():
            for variable, value in zip(self.variables(group), vals):
                variable.assign(value)

    @property
    def in_sync(self) -> bool:
        return not self.values
