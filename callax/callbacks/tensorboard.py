"""``TensorBoard``: training curves (and weight histograms) for TensorBoard.

Writes real TensorBoard event files (see ``tensorboard_events.py``) under
``log_dir/train`` and ``log_dir/validation``, with Keras 3's tags: per epoch
``epoch_<metric>`` (training metrics and ``epoch_learning_rate`` in ``train``,
validation metrics in ``validation``), per batch ``batch_<metric>`` when
``update_freq`` is ``"batch"`` or an int, ``evaluation_<metric>_vs_iterations``
after each evaluation, and ``<weight path>/histogram`` every
``histogram_freq`` epochs. Run ``tensorboard --logdir <log_dir>`` to see them.

``write_graph=True`` writes what Keras 3 writes on JAX: for a Sequential or
Functional model, its JSON config under the tag ``keras`` (plugin
``graph_keras_model``) in ``train``, which TensorBoard's Graphs tab draws as
the model's conceptual graph (there is no TensorFlow op graph to export; a
subclassed model has no layer graph, so nothing is written for it, as in Keras).

``profile_batch=N`` or ``(start, stop)`` runs JAX's profiler
(``jax.profiler.start_trace``/``stop_trace``) from the start of training batch
``start`` to the end of batch ``stop`` (counted from 1 over the whole ``fit``),
each batch inside a ``TraceAnnotation`` named ``Profiled batch <b>``. The trace
lands where Keras puts it, ``log_dir/train/plugins/profile/<session>/``
(``<host>.xplane.pb``), so TensorBoard's Profile tab (the
``tensorboard-plugin-profile`` package) lists it under the run ``train``. Only
one trace can run in a process: if another is active the callback warns and
skips profiling.

Not written (accepted for compatibility, documented differences): weight
images (``write_images``) and embeddings.

Example:
    >>> import tempfile, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((2,)), callax.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> logs = tempfile.mkdtemp()
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0,
    ...               callbacks=[callax.callbacks.TensorBoard(logs)])
    >>> import os; sorted(os.listdir(logs))
    ['train']
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import jax
import numpy as np

from callax.callbacks.callback import Callback
from callax.callbacks.tensorboard_events import EventFileWriter


class TensorBoard(Callback):
    """Logs epoch (and optionally batch) results and weight histograms for TensorBoard.

    Args:
        log_dir: root folder of the logs (``train``/``validation`` are made inside).
        histogram_freq: every this many epochs, log a histogram of every weight
            (0: never).
        write_graph: write a Sequential/Functional model's config for the Graphs tab.
        write_images: accepted; weight images are not written.
        write_steps_per_second: also log training steps per second.
        update_freq: ``"epoch"``, ``"batch"``, or an int N: log batch results
            every N batches.
        profile_batch: profile training batches with JAX's profiler: an int N (that
            batch), a pair ``(start, stop)`` or a string ``"start,stop"``; 0: never.
        embeddings_freq: accepted; embeddings are not written.
        embeddings_metadata: accepted; ignored.
    """

    def __init__(
        self,
        log_dir: str = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: Any = "epoch",
        profile_batch: Any = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ):
        super().__init__()
        if (
            update_freq != "epoch"
            and update_freq != "batch"
            and (not isinstance(update_freq, int) or update_freq < 1)
        ):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or a positive int; "
                f"received update_freq={update_freq!r}."
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.profile_batch = profile_batch
        self._profile_range = _profile_range(profile_batch)
        self._profiling = False
        self._batch_annotation: Any = None
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict[str, EventFileWriter] = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        self._batch_start_time = 0.0

    # ------------------------------------------------------------- writers
    @property
    def _train_dir(self) -> str:
        return os.path.join(self.log_dir, "train")

    @property
    def _val_dir(self) -> str:
        return os.path.join(self.log_dir, "validation")

    def _writer(self, which: str) -> EventFileWriter:
        # Created on first use, so a run without validation makes no validation file.
        if which not in self._writers:
            folder = self._train_dir if which == "train" else self._val_dir
            self._writers[which] = EventFileWriter(folder)
        return self._writers[which]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ------------------------------------------------------------- helpers
    def _optimizer(self) -> Any:
        return getattr(self.model, "optimizer", None)  # .model: synced values

    def _iterations(self) -> int:
        optimizer = self._optimizer()
        iterations = getattr(optimizer, "iterations", None)
        return (
            0 if iterations is None else int(np.asarray(getattr(iterations, "value", iterations)))
        )

    def _learning_rates(self) -> dict[str, float]:
        optimizer = self._optimizer()
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        if hasattr(optimizer, "optimizers"):
            return {
                f"learning_rate_{o.name}": _as_float(o.learning_rate) for o in optimizer.optimizers
            }
        if hasattr(optimizer, "learning_rate"):
            return {"learning_rate": _as_float(optimizer.learning_rate)}
        return {}

    # ------------------------------------------------------------- hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_config()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._profiling:  # fit ended inside the profiled range
            self._stop_profile()
        self._close_writers()

    def _write_model_config(self) -> None:
        # Keras writes the conceptual graph of graph models only: a subclassed
        # model's config has no layer connections for the Graphs tab to draw.
        # Told by class name: callbacks sit below callax.models.
        model = self._model
        if not {"Functional", "Sequential"} & {c.__name__ for c in type(model).__mro__}:
            return
        try:
            config = model.to_json()
        except Exception as e:  # a model that cannot serialize must not stop training
            warnings.warn(
                f"TensorBoard: the model's config could not be written for the Graphs tab "
                f"({type(e).__name__}: {e}); training continues without it.",
                stacklevel=3,
            )
            return
        writer = self._writer("train")
        writer.add_blobs("keras", [config.encode("utf-8")], 0, plugin_name="graph_keras_model")
        writer.flush()

    # ------------------------------------------------------------- profiling
    def _start_profile(self) -> None:
        try:
            jax.profiler.start_trace(self._train_dir)
        except RuntimeError as e:  # another trace is running in this process
            warnings.warn(
                f"TensorBoard: could not start JAX's profiler for profile_batch="
                f"{self.profile_batch!r} ({e}); these batches are not profiled.",
                stacklevel=3,
            )
            self._profile_range = None
            return
        self._profiling = True

    def _stop_profile(self) -> None:
        self._end_batch_annotation()
        self._profiling = False
        jax.profiler.stop_trace()  # writes plugins/profile/<session>/<host>.xplane.pb

    def _end_batch_annotation(self) -> None:
        if self._batch_annotation is not None:
            self._batch_annotation.__exit__(None, None, None)
            self._batch_annotation = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            self._epoch_start_time = time.time()
            self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if self._profile_range is not None:
            if not self._profiling and self._global_train_batch == self._profile_range[0]:
                self._start_profile()
            if self._profiling:
                self._batch_annotation = jax.profiler.TraceAnnotation(
                    f"Profiled batch {self._global_train_batch}"
                )
                self._batch_annotation.__enter__()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._profiling:
            self._end_batch_annotation()
            if self._global_train_batch >= self._profile_range[1]:
                self._stop_profile()
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            if _is_scalar(value):
                writer.add_scalar(f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_test_batch += 1

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._optimizer() is None or not logs:
            return
        writer, step = self._writer("val"), self._iterations()
        for name, value in logs.items():
            if _is_scalar(value):
                writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-9)
            train["steps_per_second"] = (
                self._iterations() - self._epoch_start_iterations
            ) / elapsed
        for which, values in (("train", train), ("val", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    if _is_scalar(value):
                        writer.add_scalar(f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:  # reading .model syncs the newest weights
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                writer.add_histogram(f"{name}/histogram", np.asarray(weight.value), epoch)


def _profile_range(profile_batch: Any) -> tuple[int, int] | None:
    """``(start, stop)`` training batches to profile (1-based, inclusive), or None."""
    value = profile_batch
    if isinstance(value, str):  # Keras accepts "start,stop" (and "N")
        try:
            value = [int(part) for part in value.split(",")]
        except ValueError:
            value = profile_batch
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        start = stop = int(value)
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        start, stop = (int(v) for v in value)
    else:
        start, stop = -1, -1
    if start < 0 or stop < start or (start == 0 and stop != 0):
        raise ValueError(
            "TensorBoard: profile_batch must be a non-negative int N (profile batch N; 0: "
            "never), or a pair (start, stop) of positive ints with start <= stop; received "
            f"profile_batch={profile_batch!r}."
        )
    return None if stop == 0 else (start, stop)


def _as_float(value: Any) -> float:
    return float(np.asarray(getattr(value, "value", value)))


def _is_scalar(value: Any) -> bool:
    try:
        return np.asarray(value).size == 1
    except (TypeError, ValueError):
        return False
