"""The step compiler: the only place the fit loop meets ``jax.jit``.

``StepFunctions(model).get(kind, steps)`` returns ``f(state, data) -> (out, state)``
for ``kind`` in ``train``/``test``/``predict``:

- it calls the model's (overridable) ``train_step``/``test_step``/``predict_step``,
  pure functions of one state tuple and a batch;
- compiled with ``jax.jit`` once per input signature (structure, shapes, dtypes
  of the batch). ``fit``'s train step donates the state so XLA updates it in
  place (its values are the training state's own arrays, never a variable's).
  The other steps (``donate=False``: test, predict, ``train_on_batch``) donate
  nothing, because the arrays they get are the variables' own, which another
  thread may be reading; they return ``None`` for every state value they left
  unchanged, so unchanged weights are neither copied nor written back;
- with ``steps > 1`` the batch holds ``steps`` stacked batches and one dispatch
  runs them all through ``jax.lax.scan`` (``steps_per_execution``); the logs are
  those of the last step, the predictions come back stacked;
- with ``jit=False`` (``run_eagerly=True``, or inputs holding strings) the same
  step runs op by op;
- a step's new state is checked against the state it was given (each value the
  shape of its variable, cast to its dtype) once per trace, which is what lets the
  training state write it back with ``core.pure_call.write_back`` unchecked.

``trace_counts`` counts traces per kind: the tests use it to prove a second
epoch or a second ``fit`` compiles nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from callax.distribution.hooks import jit_step
from callax.training.epoch_iterator import Gather
from callax.training.state import STEP_GROUPS


class StepFunctions:
    """The compiled step functions of one compiled model (reset by ``compile``)."""

    def __init__(self, model: Any):
        self.model = model
        self.trace_counts = {"train": 0, "test": 0, "predict": 0}
        # Whether the last loop's inputs held strings (host text layers): its steps
        # ran op by op, as JAX cannot trace strings; ``Model.jit_compile`` says so.
        self.text_inputs = False
        self._cache: dict[tuple, Callable] = {}

    def get(
        self, kind: str, steps: int = 1, jit: bool = True, donate: bool | None = None
    ) -> Callable:
        """The step ``f(state, data) -> (out, new_state)``; ``donate`` defaults to
        ``True`` for ``train`` (``fit``) and ``False`` otherwise."""
        if donate is None:
            donate = kind == "train"
        key = (kind, steps, jit, donate)
        fn = self._cache.get(key)
        if fn is None:
            fn = self._cache[key] = self._make(kind, steps, jit, donate)
        return fn

    def _one_step(self, kind: str) -> Callable:
        model = self.model
        if kind == "train":
            return model.train_step
        if kind == "test":
            return model.test_step

        def predict(state, data):
            outputs, non_trainable = model.predict_step(state, data)
            return outputs, (state[0], non_trainable)

        return predict

    def _make(self, kind: str, steps: int, jit: bool, donate: bool) -> Callable:
        stepper = self._one_step(kind)
        counts = self.trace_counts

        def one(state, data):
            # A Gather (device-resident dataset) becomes the batch here, inside
            # the compiled step: the rows are gathered by XLA.
            if isinstance(data, Gather):
                data = data.take()
            out, new = stepper(state, data)
            return out, self._conform(kind, state, new)

        def kept(state, data):
            """``one`` returning None for each state value it did not change."""
            out, new = one(state, data)
            return out, _unchanged_as_none(state, new)

        if not jit:
            if steps == 1:
                return one if donate else kept

            def eager_multi(state, stacked):
                out = None
                outs = []
                first = state
                for i in range(steps):
                    if isinstance(stacked, Gather):
                        batch = Gather(stacked.source, stacked.indices()[i])
                    else:
                        batch = jax.tree_util.tree_map(lambda a, i=i: a[i], stacked)
                    out, state = one(state, batch)
                    outs.append(out)
                if kind == "predict":
                    out = jax.tree_util.tree_map(lambda *xs: jax.numpy.stack(xs), *outs)
                return out, (state if donate else _unchanged_as_none(first, state))

            return eager_multi

        if steps == 1:

            def single(state, data):
                counts[kind] += 1  # runs only while tracing
                return one(state, data) if donate else kept(state, data)

            return _jit(single, donate)

        def multi(state, stacked):
            counts[kind] += 1
            changed: list[set] = [set() for _ in state]  # learnt while tracing the body

            def step(carry, data):
                out, new = one(carry, data)
                if not donate:
                    for seen, olds, news in zip(changed, carry, new):
                        seen.update(i for i, (o, n) in enumerate(zip(olds, news)) if n is not o)
                return out, new

            if isinstance(stacked, Gather):  # scan over index rows, gather per step
                source, stacked = stacked.source, stacked.indices()

                def body(carry, idx):
                    out, carry = step(carry, Gather(source, idx))
                    return carry, out

            else:

                def body(carry, batch):
                    out, carry = step(carry, batch)
                    return carry, out

            new, outs = jax.lax.scan(body, state, stacked)
            if kind != "predict":
                outs = jax.tree_util.tree_map(lambda a: a[-1], outs)
            if not donate:
                new = tuple(
                    [v if i in seen else None for i, v in enumerate(values)]
                    for seen, values in zip(changed, new)
                )
            return outs, new

        return _jit(multi, donate)

    def _conform(self, kind: str, old: tuple, new: tuple) -> tuple:
        """``new`` (a step's new state) with every changed value cast to the dtype
        of the value it replaces; a changed shape is an error naming the variable.
        This is ``Variable.assign``'s check, made while tracing so that the
        write-back (``core.pure_call.write_back``) can store the values as they are."""
        groups = STEP_GROUPS[kind]
        if len(new) != len(groups) or len(old) != len(groups):
            return new  # not the state tuple of this kind: left as the step returned it
        rows = []
        for group, olds, news in zip(groups, old, new):
            row = list(news)
            for i, (o, n) in enumerate(zip(olds, news)):
                if n is None or n is o:
                    continue
                dtype = getattr(n, "dtype", None)
                if dtype is None:
                    n = row[i] = jnp.asarray(n)
                if jnp.shape(n) != jnp.shape(o):
                    variable = self.model._training_state.variables(group)[i]
                    raise ValueError(
                        f"{kind}_step of {type(self.model).__name__} '{self.model.name}' "
                        f"returned a new value of shape {tuple(jnp.shape(n))} for the "
                        f"{group} variable {variable.path!r} of shape {tuple(jnp.shape(o))}; "
                        "a step must return each state value with its variable's shape."
                    )
                if n.dtype != o.dtype:
                    row[i] = n.astype(o.dtype)
            rows.append(row)
        return tuple(rows)


def _unchanged_as_none(old: tuple, new: tuple) -> tuple:
    """``new`` with ``None`` wherever the step returned the value it was given."""
    return tuple(
        [None if n is o else n for o, n in zip(olds, news)] for olds, news in zip(old, new)
    )


def _jit(fn: Callable, donate: bool) -> Callable:
    """``jit_step(fn)`` (state donated), or the same without donation: the state
    then travels in the non-donated argument."""
    if donate:
        return jit_step(fn)
    compiled = jit_step(lambda nothing, packed: (fn(*packed), nothing))

    def call(state, data):
        return compiled((), (state, data))[0]

    return call
