"""``TrainingLoop``: one run of ``fit``, ``evaluate``, ``predict`` or a ``*_on_batch`` method.

``Model.fit`` and its siblings make one loop object per call. For that call it
owns:

- the model's :class:`~callax.training.state.TrainingState`, where the variable
  values live between steps, and its lease (a second updating loop on another
  thread gets a ``RuntimeError``);
- the compiled steps (:class:`~callax.training.steps.StepFunctions`, made once
  per ``compile`` and shared by every loop), and whether they run compiled: not
  when the model runs eagerly, nor when the inputs hold strings (host text
  layers: JAX cannot trace them);
- the :class:`~callax.callbacks.callback_list.CallbackList`, to which it hands
  the data adapter explicitly (``set_data_adapter``: ``BackupAndRestore`` saves
  its shuffling RNG, ``TerminateOnNaN`` re-runs its first batch).

Each loop: adapt the data (checked before any step), build what needs building
from the first batch's shapes, then for every work item take the state from the
training state, run the compiled step, put the new state back, and call the
callbacks. The state is written into the variables at the end of each epoch,
when a callback reads ``self.model``, and at the end.

Example:
    >>> import numpy as np, callax
    >>> from callax.training.loop import TrainingLoop
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> logs = TrainingLoop(model, "evaluate").evaluate(x, y, verbose=0, return_dict=True)
    >>> sorted(logs)
    ['loss']
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from callax.callbacks.callback_list import CallbackList, pythonify_logs
from callax.core.config_flags import cap_epochs
from callax.core.stateless_scope import StatelessScope
from callax.distribution.multihost import to_host
from callax.training.data_adapters import (
    DataAdapter,
    _to_numpy_tree,
    check_array_data,
    check_batch_targets,
    class_weight_to_sample_weight,
    get_data_adapter,
    pack_x_y_sample_weight,
    train_validation_split,
    unpack_x_y_sample_weight,
)
from callax.training.epoch_iterator import EpochIterator, _to_device
from callax.training.state import STEP_GROUPS, merge


def holds_text(data: Any) -> bool:
    """Whether any leaf of ``data`` holds strings (read from dtypes: no device copy).

    >>> import numpy as np
    >>> holds_text((np.array([["a b"]]), np.zeros(1))), holds_text(np.zeros(2))
    (True, False)
    """
    for leaf in jax.tree_util.tree_leaves(data):
        dtype = getattr(leaf, "dtype", None)
        if (np.asarray(leaf).dtype if dtype is None else np.dtype(dtype)).kind in "USO":
            return True
    return False


def _should_eval(epoch: int, freq: Any) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    if isinstance(freq, (list, tuple, set)):
        return (epoch + 1) in freq
    raise ValueError(
        f"fit: validation_freq must be an int or a list of epochs (1-based); "
        f"received validation_freq={freq!r}."
    )


def _changes(old: tuple, new: tuple) -> tuple:
    """``new`` with None wherever it holds the very array ``old`` held."""
    return tuple([None if n is o else n for o, n in zip(a, b)] for a, b in zip(old, new))


class TrainingLoop:
    """One ``fit``/``evaluate``/``predict``/``*_on_batch`` call on ``model``.

    Args:
        model: a ``callax.Model`` (anything with the ``Trainer`` methods).
        caller: the public method running (``"fit"``, ``"evaluate"``...), named
            in error messages and in the lease.
    """

    def __init__(self, model: Any, caller: str):
        self.model = model
        self.caller = caller
        self.state = model._training_state
        self.steps = model._trainer.steps
        self.jit = model.jit_compile
        self.callbacks: CallbackList | None = None

    # ------------------------------------------------------------ pieces
    def _use_inputs(self, batch: Any) -> None:
        """Decides compiled or op-by-op steps from a batch's inputs (strings
        cannot be traced), as Keras keeps layers with ``supports_jit=False`` eager."""
        x, _, _ = unpack_x_y_sample_weight(batch)
        self.steps.text_inputs = holds_text(x)
        self.jit = self.model.jit_compile

    def _prepare(self, adapter: DataAdapter, caller: str, targets: bool = True) -> Any:
        """Symbolic build from the first batch and target checks (before any
        step); returns the first batch."""
        first = adapter.first_batch()
        if targets:
            check_batch_targets(self.model, first, caller)
        self.model._symbolic_build(first, caller, y_full=getattr(adapter, "y", None))
        return first

    def _set_callbacks(
        self, callbacks: Any, adapter: DataAdapter, *, history: bool, verbose: Any,
        epochs: int, steps: int | None,
    ) -> CallbackList:  # fmt: skip
        if not isinstance(callbacks, CallbackList):
            # Several processes (jax.distributed): the progress bar prints on process 0 only.
            progbar = verbose != 0 and jax.process_index() == 0
            callbacks = CallbackList(
                callbacks, add_history=history, add_progbar=progbar, model=self.model,
                verbose=verbose, epochs=epochs, steps=steps,
            )  # fmt: skip
        callbacks.set_data_adapter(adapter)
        self.callbacks = callbacks
        return callbacks

    def _step(self, kind: str, n: int, donate: bool | None = None):
        return self.steps.get(kind, n, jit=self.jit, donate=donate)

    def _flatten_in_order(self, logs: dict) -> Any:
        """``logs`` as a list in ``metrics_names`` order (a scalar if only one)."""
        names = []
        for metric in self.model.metrics:
            sub = getattr(metric, "metric_names", None)
            names.extend(sub if sub is not None else [metric.name])
        values = [logs[n] for n in names if n in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def _run_items(self, iterator: EpochIterator, kind: str, on_begin: str, on_end: str):
        """Runs one epoch of work items; returns the last step's logs (device values).
        The train step donates the held state; the test step donates nothing (its
        values may be the variables' own) and returns None for what it left alone."""
        ts, callbacks, model = self.state, self.callbacks, self.model
        groups = STEP_GROUPS[kind]
        donate = kind == "train"
        logs = None
        for begin, end, data, n in iterator:
            getattr(callbacks, on_begin)(begin)
            state = ts.get(groups, donate=donate)
            logs, new_state = self._step(kind, n)(state, data)
            ts.set(groups, new_state if donate else merge(state, new_state), donated=donate)
            getattr(callbacks, on_end)(end, logs)
            if kind == "train" and model.stop_training:
                break
        return logs

    def _reset_metric_values(self) -> list:
        """The metrics' values after ``reset_state``, computed without touching them."""
        own = self.state.variables("metrics")
        with StatelessScope() as scope:
            for metric in self.model.metrics:
                metric.reset_state()
        current = self.state.read(("metrics",))[0]
        return [
            current[i] if (value := scope.get_current_value(v)) is None else value
            for i, v in enumerate(own)
        ]

    def _test_pass(self, iterator: EpochIterator) -> dict:
        """One pass of the test step over ``iterator`` (``evaluate``, validation)."""
        ts, callbacks, model = self.state, self.callbacks, self.model
        leased = ts.try_lease("evaluate")
        try:
            if leased:
                model.reset_metrics()
                callbacks.on_test_begin()
                logs = self._run_items(iterator, "test", "on_test_batch_begin",
                                       "on_test_batch_end")  # fmt: skip
                ts.sync()
            else:
                # A loop on another thread (a fit) holds the model: evaluate detached,
                # with the weights read as one set and the metrics in a private copy
                # (starting reset) that the metric objects, the fit's, never see.
                state = ts.read(("trainable", "non_trainable")) + (self._reset_metric_values(),)
                callbacks.on_test_begin()
                logs = None
                for begin, end, data, n in iterator:
                    callbacks.on_test_batch_begin(begin)
                    logs, new_state = self._step("test", n)(state, data)
                    state = merge(state, new_state)
                    callbacks.on_test_batch_end(end, logs)
        finally:
            if leased:
                ts.release()
        iterator.adapter.on_epoch_end()
        if logs is None:
            raise ValueError("evaluate: the data produced no batches; received an empty input.")
        logs = pythonify_logs(logs)
        callbacks.on_test_end(logs)
        return logs

    def _single_batch(self, x: Any, y: Any, sample_weight: Any, class_weight: Any) -> Any:
        """One checked, device-ready batch for the ``*_on_batch`` methods."""
        caller = self.caller
        x, y, sample_weight = (_to_numpy_tree(v) for v in (x, y, sample_weight))
        check_array_data(x, y, sample_weight, caller=caller, allow_nan=True)
        if class_weight is not None:
            cw = class_weight_to_sample_weight(y, class_weight, caller)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        batch = pack_x_y_sample_weight(x, y, sample_weight)
        self.model._symbolic_build(batch, caller, checks=False)
        self._use_inputs(batch)
        return _to_device(batch)

    # ------------------------------------------------------------- loops
    def fit(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
        verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
        validation_data: Any = None, shuffle: bool | str = True,
        class_weight: dict | None = None, sample_weight: Any = None, initial_epoch: int = 0,
        steps_per_epoch: int | None = None, validation_steps: int | None = None,
        validation_batch_size: int | None = None, validation_freq: Any = 1,
        allow_nan: bool = False,
    ) -> Any:  # fmt: skip
        """``Model.fit`` (see there); returns the ``History``."""
        model, ts = self.model, self.state
        with ts.lease("fit"):
            model._assert_compiled("fit")
            epochs = cap_epochs(epochs)  # keras.config.set_max_epochs (a debugging cap)
            if validation_split and validation_data is None:
                (x, y, sample_weight), validation_data = train_validation_split(
                    (x, y, sample_weight), validation_split
                )
            adapter = get_data_adapter(x, y, sample_weight, batch_size, shuffle, class_weight,
                                       caller="fit", allow_nan=allow_nan)  # fmt: skip
            iterator = EpochIterator(
                adapter, steps_per_epoch, model.steps_per_execution, resident=True
            )
            self._use_inputs(self._prepare(adapter, "fit"))
            val_iterator = None
            if validation_data is not None:
                vx, vy, vsw = unpack_x_y_sample_weight(validation_data)
                val_adapter = get_data_adapter(
                    vx, vy, vsw, validation_batch_size or batch_size, False,
                    caller="fit (validation_data)", allow_nan=allow_nan,
                )  # fmt: skip
                self._prepare(val_adapter, "fit (validation_data)")
                val_iterator = EpochIterator(
                    val_adapter, validation_steps, model.steps_per_execution, resident=True
                )
            callbacks = self._set_callbacks(callbacks, adapter, history=True, verbose=verbose,
                                            epochs=epochs, steps=iterator.num_steps)  # fmt: skip
            return self._fit_epochs(adapter, iterator, val_iterator, epochs, initial_epoch,
                                    validation_freq, x)  # fmt: skip

    def _fit_epochs(
        self, adapter: DataAdapter, iterator: EpochIterator, val_iterator: Any, epochs: int,
        initial_epoch: int, validation_freq: Any, x: Any,
    ) -> Any:  # fmt: skip
        model, ts, callbacks = self.model, self.state, self.callbacks
        model.stop_training = False
        callbacks.on_train_begin()
        initial_epoch = model._initial_epoch or initial_epoch
        training_logs: dict = {}
        try:
            for epoch in range(initial_epoch, epochs):
                model.reset_metrics()
                callbacks.on_epoch_begin(epoch)
                logs = self._run_items(iterator, "train", "on_train_batch_begin",
                                       "on_train_batch_end")  # fmt: skip
                ts.sync()
                if logs is None:
                    if iterator.ran_out:
                        break
                    raise ValueError(
                        "fit: the training data produced no batches in this epoch; "
                        f"received an empty input ({type(x).__name__})."
                    )
                epoch_logs = pythonify_logs(logs)
                if val_iterator is not None and _should_eval(epoch, validation_freq):
                    val_logs = self._test_pass(val_iterator)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                adapter.on_epoch_end()
                training_logs = epoch_logs
                if model.stop_training or iterator.ran_out:
                    break
        finally:
            ts.sync()
            model._initial_epoch = None
            callbacks.set_data_adapter(None)
            adapter.close()  # PyDataset workers live for the whole fit
            if val_iterator is not None:
                val_iterator.adapter.close()
        if getattr(model.optimizer, "use_ema", False):  # the weights become their averages
            model.optimizer.finalize_variable_values(model.trainable_variables)
        callbacks.on_train_end(training_logs)
        return model.history

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None,
        verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
        callbacks: Any = None, return_dict: bool = False, allow_nan: bool = False,
    ) -> Any:  # fmt: skip
        """``Model.evaluate`` (see there)."""
        model = self.model
        model._assert_compiled("evaluate")
        adapter = get_data_adapter(x, y, sample_weight, batch_size, False,
                                   caller="evaluate", allow_nan=allow_nan)  # fmt: skip
        iterator = EpochIterator(adapter, steps, model.steps_per_execution)
        self._use_inputs(self._prepare(adapter, "evaluate"))
        iterator.host_batches = self.jit  # compiled steps take NumPy batches themselves
        callbacks = self._set_callbacks(callbacks, adapter, history=False, verbose=verbose,
                                        epochs=1, steps=iterator.num_steps)  # fmt: skip
        try:
            logs = self._test_pass(iterator)
        finally:
            callbacks.set_data_adapter(None)
            adapter.close()
        return logs if return_dict else self._flatten_in_order(logs)

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
        steps: int | None = None, callbacks: Any = None,
    ) -> Any:  # fmt: skip
        """``Model.predict`` (see there)."""
        model, ts = self.model, self.state
        adapter = get_data_adapter(x, None, None, batch_size, False, caller="predict",
                                   allow_nan=True)  # fmt: skip
        iterator = EpochIterator(adapter, steps, model.steps_per_execution)
        self._use_inputs(self._prepare(adapter, "predict", targets=False))
        iterator.host_batches = self.jit  # compiled steps take NumPy batches themselves
        callbacks = self._set_callbacks(callbacks, adapter, history=False, verbose=verbose,
                                        epochs=1, steps=iterator.num_steps)  # fmt: skip
        groups = STEP_GROUPS["predict"]
        callbacks.on_predict_begin()
        outputs = []
        first = state = ts.read(groups)  # one consistent set for the whole call
        for begin, end, data, n in iterator:
            callbacks.on_predict_batch_begin(begin)
            out, new_state = self._step("predict", n)(state, data)
            state = merge(state, new_state)
            if n > 1:
                out = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), out)
            outputs.append(out)
            callbacks.on_predict_batch_end(end, {"outputs": out})
        ts.write_changed(groups, _changes(first, state))  # rare: stateful inference
        adapter.on_epoch_end()
        adapter.close()
        callbacks.set_data_adapter(None)
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data produced no batches; received an empty input.")
        # to_host: outputs split over several processes are gathered (every process
        # gets all predictions, in input order).
        outputs = [to_host(out) for out in outputs]
        return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outputs)

    def train_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:  # fmt: skip
        """``Model.train_on_batch`` (see there)."""
        model, ts = self.model, self.state
        groups = STEP_GROUPS["train"]
        with ts.lease("train_on_batch"):
            model._assert_compiled("train_on_batch")
            batch = self._single_batch(x, y, sample_weight, class_weight)
            # Not donated: the values are the variables' own (no copy per call is needed).
            state = ts.get(groups, donate=False)
            logs, new_state = self._step("train", 1, donate=False)(state, batch)
            ts.set(groups, merge(state, new_state), donated=False)
            ts.sync()
        logs = pythonify_logs(logs)
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """``Model.test_on_batch`` (see there)."""
        model, ts = self.model, self.state
        groups = STEP_GROUPS["test"]
        model._assert_compiled("test_on_batch")
        batch = self._single_batch(x, y, sample_weight, None)
        if ts.try_lease("test_on_batch"):
            try:
                state = ts.get(groups, donate=False)
                logs, new_state = self._step("test", 1)(state, batch)
                ts.set(groups, merge(state, new_state), donated=False)
            finally:
                ts.release()  # syncs
        else:  # a fit on another thread owns the metrics: compute, keep nothing
            logs, _ = self._step("test", 1)(ts.read(groups), batch)
        logs = pythonify_logs(logs)
        return logs if return_dict else self._flatten_in_order(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """``Model.predict_on_batch`` (see there)."""
        ts = self.state
        groups = STEP_GROUPS["predict"]
        batch = self._single_batch(x, None, None, None)
        state = ts.read(groups)
        out, new_state = self._step("predict", 1)(state, batch)
        ts.write_changed(groups, new_state)
        return to_host(out)  # several processes: gathered, every process gets all rows
