"""The step compiler: the only place the fit loop meets ``jax.jit``.

``StepFunctions(model).get(kind, steps)`` returns ``f(state, data) -> (out, state)``
for ``kind`` in ``train``/``test``/``predict``:

- it calls the model's (overridable) ``train_step``/``test_step``/``predict_step``,
  pure functions of one state tuple and a batch;
- compiled with ``jax.jit`` once per input signature (structure, shapes, dtypes
  of the batch), with the state argument donated so XLA updates it in place;
- with ``steps > 1`` the batch holds ``steps`` stacked batches and one dispatch
  runs them all through ``jax.lax.scan`` (``steps_per_execution``); the logs are
  those of the last step, the predictions come back stacked;
- with ``jit=False`` (``run_eagerly=True``) the same step runs op by op.

``trace_counts`` counts traces per kind: the tests use it to prove a second
epoch or a second ``fit`` compiles nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from callax.distribution.hooks import jit_step
from callax.training.epoch_iterator import Gather


class StepFunctions:
    """The compiled step functions of one compiled model (reset by ``compile``)."""

    def __init__(self, model: Any):
        self.model = model
        self.trace_counts = {"train": 0, "test": 0, "predict": 0}
        self._cache: dict[tuple, Callable] = {}

    def get(self, kind: str, steps: int = 1, jit: bool = True) -> Callable:
        key = (kind, steps, jit)
        fn = self._cache.get(key)
        if fn is None:
            fn = self._cache[key] = self._make(kind, steps, jit)
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

    def _make(self, kind: str, steps: int, jit: bool) -> Callable:
        stepper = self._one_step(kind)
        counts = self.trace_counts

        def one(state, data):
            # A Gather (device-resident dataset) becomes the batch here, inside
            # the compiled step: the rows are gathered by XLA.
            if isinstance(data, Gather):
                data = data.take()
            return stepper(state, data)

        if not jit:
            if steps == 1:
                return one

            def eager_multi(state, stacked):
                out = None
                outs = []
                for i in range(steps):
                    if isinstance(stacked, Gather):
                        batch = Gather(stacked.source, stacked.indices()[i])
                    else:
                        batch = jax.tree_util.tree_map(lambda a, i=i: a[i], stacked)
                    out, state = one(state, batch)
                    outs.append(out)
                if kind == "predict":
                    out = jax.tree_util.tree_map(lambda *xs: jax.numpy.stack(xs), *outs)
                return out, state

            return eager_multi

        if steps == 1:

            def single(state, data):
                counts[kind] += 1  # runs only while tracing
                return one(state, data)

            return jit_step(single)  # jax.jit, donating the state

        def multi(state, stacked):
            counts[kind] += 1
            if isinstance(stacked, Gather):  # scan over index rows, gather per step
                source, stacked = stacked.source, stacked.indices()

                def body(carry, idx):
                    out, carry = one(carry, Gather(source, idx))
                    return carry, out

            else:

                def body(carry, batch):
                    out, carry = one(carry, batch)
                    return carry, out

            state, outs = jax.lax.scan(body, state, stacked)
            if kind != "predict":
                outs = jax.tree_util.tree_map(lambda a: a[-1], outs)
            return outs, state

        return jit_step(multi)
