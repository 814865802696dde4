"""The loops of ``Model.fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods.

Each loop: adapt the data (checked before any step), build what needs building
from the first batch's shapes, then for every work item take the state from the
:class:`~callax.training.state.TrainingState`, run the compiled step, put the
new state back, and call the callbacks. The state is written into the variables
at the end of each epoch, when a callback reads ``self.model``, and at the end.
These functions become ``Trainer`` methods (``self`` is the model).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

from callax.core.config_flags import cap_epochs
from callax.core.stateless_scope import StatelessScope
from callax.distribution.multihost import to_host
from callax.training.data_adapters import (
    DataAdapter,
    check_array_data,
    check_batch_targets,
    class_weight_to_sample_weight,
    get_data_adapter,
    pack_x_y_sample_weight,
    train_validation_split,
    unpack_x_y_sample_weight,
)
from callax.training.epoch_iterator import EpochIterator, _to_device
from callax.training.state import merge

TRAIN_GROUPS = ("trainable", "non_trainable", "optimizer", "metrics")
TEST_GROUPS = ("trainable", "non_trainable", "metrics")
PREDICT_GROUPS = ("trainable", "non_trainable")


def _callback_list(model, callbacks, *, history: bool, verbose: Any, epochs: int, steps):
    from callax.callbacks.callback_list import CallbackList

    if isinstance(callbacks, CallbackList):
        return callbacks
    # Several processes (jax.distributed): the progress bar prints on process 0 only.
    progbar = verbose != 0 and jax.process_index() == 0
    return CallbackList(
        callbacks, add_history=history, add_progbar=progbar, model=model,
        verbose=verbose, epochs=epochs, steps=steps,
    )  # fmt: skip


def _should_eval(epoch: int, freq: Any) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    if isinstance(freq, (list, tuple, set)):
        return (epoch + 1) in freq
    raise ValueError(
        f"fit: validation_freq must be an int or a list of epochs (1-based); "
        f"received validation_freq={freq!r}."
    )


def _full_targets(adapter: DataAdapter) -> Any:
    return getattr(adapter, "y", None)


def _prepare(model, adapter: DataAdapter, caller: str) -> None:
    """Symbolic build from the first batch and target checks (before any step)."""
    first = adapter.first_batch()
    check_batch_targets(model, first, caller)
    model._symbolic_build(first, caller, y_full=_full_targets(adapter))


def _flatten_in_order(model, logs: dict) -> Any:
    """``logs`` as a list in ``metrics_names`` order (a scalar if only one)."""
    names = []
    for metric in model.metrics:
        sub = getattr(metric, "metric_names", None)
        names.extend(sub if sub is not None else [metric.name])
    values = [logs[n] for n in names if n in logs]
    values += [logs[k] for k in sorted(logs) if k not in names]
    return values[0] if len(values) == 1 else values


def _leased(caller: str):
    """Runs a loop that updates the model while holding its lease (see
    training/state.py): a second one on another thread gets a RuntimeError."""

    def wrap(loop):
        @functools.wraps(loop)
        def run(self, *args, **kwargs):
            with self._training_state.lease(caller):
                return loop(self, *args, **kwargs)

        return run

    return wrap


def _run_epoch_items(model, iterator, kind, groups, callbacks, on_begin, on_end):
    """Runs one epoch of work items; returns the last step's logs (device values).
    The train step donates the held state; the test step donates nothing (its
    values may be the variables' own) and returns None for what it left alone."""
    ts = model._training_state
    donate = kind == "train"
    logs = None
    for begin, end, data, n in iterator:
        getattr(callbacks, on_begin)(begin)
        state = ts.get(groups, donate=donate)
        logs, new_state = model._step_fn(kind, n)(state, data)
        ts.set(groups, new_state if donate else merge(state, new_state), donated=donate)
        getattr(callbacks, on_end)(end, logs)
        if kind == "train" and model.stop_training:
            break
    return logs


@_leased("fit")
def fit(
    self,
    x: Any = None,
    y: Any = None,
    batch_size: int | None = None,
    epochs: int = 1,
    verbose: Any = "auto",
    callbacks: Any = None,
    validation_split: float = 0.0,
    validation_data: Any = None,
    shuffle: bool | str = True,
    class_weight: dict | None = None,
    sample_weight: Any = None,
    initial_epoch: int = 0,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    validation_batch_size: int | None = None,
    validation_freq: Any = 1,
    *,
    allow_nan: bool = False,
):
    """Trains the model for ``epochs`` epochs and returns a ``History``.

    Arguments are Keras 3's. Data may be arrays (or dicts/lists/tuples of them;
    a tuple ``x`` fills the positional inputs of a multi-input ``call``), a Python
    generator of ``(x, y[, sample_weight])`` batches, or a ``PyDataset``. Data are
    checked before any step runs; NaN in ``x`` is an error unless ``allow_nan``.

    Threads: ``predict``, ``evaluate``, ``model(x)`` and ``callax.jit(model)`` may
    run on other threads while ``fit`` runs, and ``fit`` is unaffected by them.
    They see the weights as of ``fit``'s last sync (the end of an epoch, or a
    callback reading ``self.model``): ``predict``, ``evaluate`` and ``callax.jit``
    read them once per call as one set, never half-written; an eager
    ``model(x)`` reads each layer's weights when that layer runs. A second
    ``fit`` (or ``train_on_batch``, ``compile``) on the same model from another
    thread raises ``RuntimeError`` instead of interleaving updates.
    """
    from callax.callbacks.callback_list import pythonify_logs

    self._assert_compiled("fit")
    epochs = cap_epochs(epochs)  # keras.config.set_max_epochs (a debugging cap)
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = train_validation_split(
            (x, y, sample_weight), validation_split
        )
    adapter = get_data_adapter(x, y, sample_weight, batch_size, shuffle, class_weight,
                               caller="fit", allow_nan=allow_nan)  # fmt: skip
    iterator = EpochIterator(adapter, steps_per_epoch, self.steps_per_execution, resident=True)
    self.__dict__["_fit_adapter"] = adapter  # BackupAndRestore saves its shuffling RNG
    _prepare(self, adapter, "fit")
    val_iterator = None
    if validation_data is not None:
        vx, vy, vsw = unpack_x_y_sample_weight(validation_data)
        val_adapter = get_data_adapter(
            vx, vy, vsw, validation_batch_size or batch_size, False,
            caller="fit (validation_data)", allow_nan=allow_nan,
        )  # fmt: skip
        _prepare(self, val_adapter, "fit (validation_data)")
        val_iterator = EpochIterator(
            val_adapter, validation_steps, self.steps_per_execution, resident=True
        )
    callbacks = _callback_list(self, callbacks, history=True, verbose=verbose, epochs=epochs,
                               steps=iterator.num_steps)  # fmt: skip
    ts = self._training_state
    self.stop_training = False
    callbacks.on_train_begin()
    initial_epoch = self._initial_epoch or initial_epoch
    training_logs: dict = {}
    try:
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = _run_epoch_items(self, iterator, "train", TRAIN_GROUPS, callbacks,
                                    "on_train_batch_begin", "on_train_batch_end")  # fmt: skip
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
                val_logs = _test_loop(self, val_iterator, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            adapter.on_epoch_end()
            training_logs = epoch_logs
            if self.stop_training or iterator.ran_out:
                break
    finally:
        ts.sync()
        self._initial_epoch = None
        self.__dict__.pop("_fit_adapter", None)
        adapter.close()  # PyDataset workers live for the whole fit
        if val_iterator is not None:
            val_iterator.adapter.close()
    if getattr(self.optimizer, "use_ema", False):  # the weights become their averages
        self.optimizer.finalize_variable_values(self.trainable_variables)
    callbacks.on_train_end(training_logs)
    return self.history


def _reset_metric_values(model) -> list:
    """The metrics' values after ``reset_state``, computed without touching them."""
    own = model._training_state.variables("metrics")
    with StatelessScope() as scope:
        for metric in model.metrics:
            metric.reset_state()
    current = model._training_state.read(("metrics",))[0]
    return [
        current[i] if (value := scope.get_current_value(v)) is None else value
        for i, v in enumerate(own)
    ]


def _test_loop(model, iterator: EpochIterator, callbacks) -> dict:
    from callax.callbacks.callback_list import pythonify_logs

    ts = model._training_state
    leased = ts.try_lease("evaluate")
    try:
        if leased:
            model.reset_metrics()
            callbacks.on_test_begin()
            logs = _run_epoch_items(model, iterator, "test", TEST_GROUPS, callbacks,
                                    "on_test_batch_begin", "on_test_batch_end")  # fmt: skip
            ts.sync()
        else:
            # A loop on another thread (a fit) holds the model: evaluate detached,
            # with the weights read as one set and the metrics in a private copy
            # (starting reset) that the metric objects, the fit's, never see.
            state = ts.read(("trainable", "non_trainable")) + (_reset_metric_values(model),)
            callbacks.on_test_begin()
            logs = None
            for begin, end, data, n in iterator:
                callbacks.on_test_batch_begin(begin)
                logs, new_state = model._step_fn("test", n)(state, data)
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


def evaluate(
    self,
    x: Any = None,
    y: Any = None,
    batch_size: int | None = None,
    verbose: Any = "auto",
    sample_weight: Any = None,
    steps: int | None = None,
    callbacks: Any = None,
    return_dict: bool = False,
    *,
    allow_nan: bool = False,
    **kwargs: Any,
):
    """Returns the loss and metrics on the data: a scalar (loss only), a list in
    ``metrics_names`` order, or a dict with ``return_dict=True``.

    Threads: ``evaluate`` may run while ``fit`` (or another ``evaluate``) runs on
    another thread. It then reads the weights once, as one consistent set, keeps
    its metric values private, and returns its own result; the metric objects
    keep the running loop's values.
    """
    if kwargs:
        raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}.")
    self._assert_compiled("evaluate")
    adapter = get_data_adapter(x, y, sample_weight, batch_size, False,
                               caller="evaluate", allow_nan=allow_nan)  # fmt: skip
    iterator = EpochIterator(adapter, steps, self.steps_per_execution)
    _prepare(self, adapter, "evaluate")
    callbacks = _callback_list(self, callbacks, history=False, verbose=verbose, epochs=1,
                               steps=iterator.num_steps)  # fmt: skip
    try:
        logs = _test_loop(self, iterator, callbacks)
    finally:
        adapter.close()
    return logs if return_dict else _flatten_in_order(self, logs)


def predict(
    self,
    x: Any,
    batch_size: int | None = None,
    verbose: Any = "auto",
    steps: int | None = None,
    callbacks: Any = None,
):
    """The model's outputs for ``x`` as numpy arrays (same structure as ``call``'s).

    Threads: any number of ``predict`` calls may run at once on one model, also
    while ``fit`` runs on another thread. Each reads the weights once, as one
    consistent set (during ``fit``: as of its last sync), and donates nothing, so
    results equal serial ones and no other call's arrays are freed.
    """
    adapter = get_data_adapter(x, None, None, batch_size, False, caller="predict",
                               allow_nan=True)  # fmt: skip
    iterator = EpochIterator(adapter, steps, self.steps_per_execution)
    self._symbolic_build(adapter.first_batch(), "predict")
    callbacks = _callback_list(self, callbacks, history=False, verbose=verbose, epochs=1,
                               steps=iterator.num_steps)  # fmt: skip
    ts = self._training_state
    callbacks.on_predict_begin()
    outputs = []
    first = state = ts.read(PREDICT_GROUPS)  # one consistent set for the whole call
    for begin, end, data, n in iterator:
        callbacks.on_predict_batch_begin(begin)
        out, new_state = self._step_fn("predict", n)(state, data)
        state = merge(state, new_state)
        if n > 1:
            out = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), out)
        outputs.append(out)
        callbacks.on_predict_batch_end(end, {"outputs": out})
    ts.write_changed(PREDICT_GROUPS, _changes(first, state))  # rare: stateful inference
    adapter.on_epoch_end()
    adapter.close()
    callbacks.on_predict_end()
    if not outputs:
        raise ValueError("predict: the data produced no batches; received an empty input.")
    # to_host: outputs split over several processes are gathered (every process
    # gets all predictions, in input order).
    outputs = [to_host(out) for out in outputs]
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outputs)


def _single_batch(model, x, y, sample_weight, class_weight, caller):
    from callax.training.data_adapters import _to_numpy_tree

    x, y, sample_weight = (_to_numpy_tree(v) for v in (x, y, sample_weight))
    check_array_data(x, y, sample_weight, caller=caller, allow_nan=True)
    if class_weight is not None:
        cw = class_weight_to_sample_weight(y, class_weight, caller)
        sample_weight = cw if sample_weight is None else sample_weight * cw
    batch = pack_x_y_sample_weight(x, y, sample_weight)
    model._symbolic_build(batch, caller, checks=False)
    return _to_device(batch)


def _changes(old: tuple, new: tuple) -> tuple:
    """``new`` with None wherever it holds the very array ``old`` held."""
    return tuple([None if n is o else n for o, n in zip(a, b)] for a, b in zip(old, new))


@_leased("train_on_batch")
def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One optimisation step on one batch; returns the (running) loss and metrics
    like ``evaluate`` does. Metrics accumulate until ``reset_metrics()``."""
    from callax.callbacks.callback_list import pythonify_logs

    self._assert_compiled("train_on_batch")
    batch = _single_batch(self, x, y, sample_weight, class_weight, "train_on_batch")
    ts = self._training_state
    # Not donated: the values are the variables' own (no copy per call is needed).
    state = ts.get(TRAIN_GROUPS, donate=False)
    logs, new_state = self._step_fn("train", 1, donate=False)(state, batch)
    ts.set(TRAIN_GROUPS, merge(state, new_state), donated=False)
    ts.sync()
    logs = pythonify_logs(logs)
    return logs if return_dict else _flatten_in_order(self, logs)


def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
    """Evaluates one batch (metrics accumulate until ``reset_metrics()``)."""
    from callax.callbacks.callback_list import pythonify_logs

    self._assert_compiled("test_on_batch")
    batch = _single_batch(self, x, y, sample_weight, None, "test_on_batch")
    ts = self._training_state
    if ts.try_lease("test_on_batch"):
        try:
            state = ts.get(TEST_GROUPS, donate=False)
            logs, new_state = self._step_fn("test", 1)(state, batch)
            ts.set(TEST_GROUPS, merge(state, new_state), donated=False)
        finally:
            ts.release()  # syncs
    else:  # a fit on another thread owns the metrics: compute, keep nothing
        logs, _ = self._step_fn("test", 1)(ts.read(TEST_GROUPS), batch)
    logs = pythonify_logs(logs)
    return logs if return_dict else _flatten_in_order(self, logs)


def predict_on_batch(self, x):
    """The outputs for one batch, as numpy arrays."""
    batch = _single_batch(self, x, None, None, None, "predict_on_batch")
    ts = self._training_state
    state = ts.read(PREDICT_GROUPS)
    out, new_state = self._step_fn("predict", 1)(state, batch)
    ts.write_changed(PREDICT_GROUPS, new_state)
    return to_host(out)  # several processes: gathered, every process gets all rows
