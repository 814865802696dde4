"""``OrbaxCheckpoint``: training checkpoints written by Orbax, JAX's checkpoint library.

During ``fit`` the callback saves, as Orbax pytrees, everything an exact resume
needs: the model's trainable and non-trainable variables (seed-generator
states, so dropout masks repeat, included), the optimizer's variables
(iteration count, learning rate, slots) and the metrics' variables, plus a small
JSON record (epoch, step, the variables' paths, the data-shuffling and the
Python/NumPy RNG states). ``save_weights_only=True`` keeps only the model's
variables.

Saves go through ``orbax.checkpoint.CheckpointManager`` into
``directory/<step>/`` (the epoch index, or the number of batches seen with an
integer ``save_freq``). Orbax makes each save atomic: it writes into a
temporary ``<step>.orbax-checkpoint-tmp-*`` folder and renames it only once
everything is on disk, so a run killed mid-save leaves the earlier checkpoints
intact and never a half-written one. With ``save_on_background=True`` (the
default) the writing happens in a background thread while training continues;
``fit`` waits for it at the end.

Restore with :meth:`OrbaxCheckpoint.restore` (the newest step, or a given one)
into a model you built, or rebuild the model from the config saved with it
with :meth:`OrbaxCheckpoint.load_model`.
The next ``fit`` then continues after the saved epoch; with an
``OrbaxCheckpoint`` in that ``fit``'s callbacks, the data shuffling continues
exactly too, so the resumed run ends with the same weights as one that was
never interrupted.

In a job of several processes (``jax.distributed``) every process takes part
in each save and restore (all of them run the same ``fit``). Variables sharded
over devices of several processes (``ModelParallel``) are written by Orbax
shard by shard, each process its own (one ``ocdbt.process_<i>`` part each),
nothing gathered; :meth:`OrbaxCheckpoint.restore` reads them into the layout of
the model it loads into, which may be another mesh (``DataParallel``, one
process, one device). The directory must be on a filesystem every process sees.

Needs orbax-checkpoint (``pip install "callax[orbax]"``), imported when the
callback is created.

Example:
    >>> import os, tempfile, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> d = tempfile.mkdtemp()
    >>> cb = callax.callbacks.OrbaxCheckpoint(d, max_to_keep=2, save_on_background=False)
    >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    >>> sorted(int(s) for s in os.listdir(d) if s.isdigit())
    [1, 2]
    >>> callax.callbacks.OrbaxCheckpoint.restore(model, d)  # the newest: epoch index 2
    2
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.callbacks.backup_and_restore import _arrays, _jsonable, _tuples  # RNG states as JSON
from callax.callbacks.monitor_callback import MonitorCallback
from callax.core import serialization
from callax.core.placement import spans_processes

FORMAT = "callax.orbax_checkpoint/1"
_GROUPS = ("trainable", "non_trainable", "optimizer", "metrics")
_WEIGHT_GROUPS = ("trainable", "non_trainable")
_PENDING_DATA_RNG = "_orbax_pending_data_rng"  # model.__dict__ key, applied by the next fit


def _orbax() -> Any:
    try:
        import orbax.checkpoint as ocp
    except ImportError as e:  # pragma: no cover - exercised only without orbax
        raise ImportError(
            "OrbaxCheckpoint needs orbax-checkpoint, which is not installed; install it with "
            '`pip install "callax[orbax]"` (or `pip install orbax-checkpoint`).'
        ) from e
    return ocp


def _manager(directory: str, max_to_keep: int | None = None, background: bool = False) -> Any:
    ocp = _orbax()
    options = ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, enable_async_checkpointing=background, create=True
    )
    return ocp.CheckpointManager(directory, options=options, item_names=("state", "meta"))


def _groups(model: Any, weights_only: bool) -> dict[str, list]:
    """The model's state, group by group, in ``TrainingState``'s order."""
    optimizer = getattr(model, "optimizer", None)
    groups = {
        "trainable": list(model.trainable_variables),
        "non_trainable": list(model.non_trainable_variables),
    }
    if not weights_only:
        groups["optimizer"] = list(optimizer.variables) if optimizer is not None else []
        groups["metrics"] = list(getattr(model, "metrics_variables", []))
    return groups


def _value(v: Any) -> Any:
    """What is saved for ``v``: its numpy value, or, for a value sharded over
    devices of several processes (``jax.distributed``), a device copy of the
    ``jax.Array``, of which Orbax makes each process write its own shards (a copy:
    the next train step donates the variable's buffer while a background save
    may still be reading it)."""
    value = v.value
    if spans_processes(value):
        return jnp.copy(value)
    return np.asarray(value)


def _target(v: Any, shape: list, dtype: str) -> Any:
    """What ``restore`` reads a saved array as: for a variable sharded over
    devices of several processes, a ``jax.ShapeDtypeStruct`` with its sharding
    (Orbax reads only the shards each process holds, whatever mesh wrote them);
    else a numpy array (placed by ``assign`` as the variable's layout says)."""
    value = getattr(v, "value", None)
    if v is not None and spans_processes(value):
        return jax.ShapeDtypeStruct(tuple(shape), np.dtype(dtype), sharding=value.sharding)
    return np.zeros(shape, dtype)


class OrbaxCheckpoint(MonitorCallback):
    """Saves the model's training state with Orbax during ``fit`` (Keras 3's
    ``keras.callbacks.OrbaxCheckpoint``).

    Args:
        directory: the folder of the checkpoints (one ``<step>/`` folder each).
        monitor: the log value ``save_best_only`` compares (``"val_loss"``...).
        verbose: 1 prints a line per save.
        save_best_only: save only when ``monitor`` improved.
        mode: ``"auto"``, ``"min"`` or ``"max"``: the direction of improvement.
        save_freq: ``"epoch"`` (step = the epoch index), or an int N: every N
            batches (step = the number of batches seen so far).
        initial_value_threshold: the value ``monitor`` must first beat.
        max_to_keep: keep only the newest this many checkpoints (``None``: all).
        save_on_background: write checkpoints in a background thread.
        save_weights_only: save only the model's variables (no optimizer or
            metrics state; such a checkpoint restores weights, not a resume).

    Raises:
        ValueError: for a bad ``save_freq``, ``max_to_keep`` or ``directory``.
        ImportError: when orbax-checkpoint is not installed.
    """

    def __init__(
        self,
        directory: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        mode: str = "auto",
        save_freq: Any = "epoch",
        initial_value_threshold: float | None = None,
        max_to_keep: int | None = 1,
        save_on_background: bool = True,
        save_weights_only: bool = False,
    ):
        super().__init__(monitor=monitor, mode=mode, baseline=initial_value_threshold)
        if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
            raise ValueError(
                "OrbaxCheckpoint: directory must be a folder path (str or os.PathLike); "
                f"received directory={directory!r}."
            )
        if save_freq != "epoch" and not (
            isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        ):
            raise ValueError(
                "OrbaxCheckpoint: save_freq must be 'epoch' or a positive int (batches); "
                f"received save_freq={save_freq!r}."
            )
        if max_to_keep is not None and not (isinstance(max_to_keep, int) and max_to_keep > 0):
            raise ValueError(
                "OrbaxCheckpoint: max_to_keep must be a positive int or None (keep all); "
                f"received max_to_keep={max_to_keep!r}."
            )
        _orbax()  # fail here, not at the first save, when orbax is missing
        self.directory = os.path.abspath(os.fspath(directory))
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.max_to_keep = max_to_keep
        self.save_on_background = save_on_background
        self.save_weights_only = save_weights_only
        self._manager: Any = None
        self._batches_since_save = 0
        self._total_batches_seen = 0
        self._last_batch: int | None = None
        self._epoch = 0

    # ------------------------------------------------------------- hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.save_best_only and self.monitor_op is None:
            self._set_monitor_op()
        model = self._model
        optimizer = getattr(model, "optimizer", None)
        # Batch-numbered steps continue across fits and after a restore.
        self._total_batches_seen = (
            int(np.asarray(getattr(optimizer.iterations, "value", optimizer.iterations)))
            if optimizer is not None
            else 0
        )
        self._batches_since_save = 0
        self._last_batch = None
        pending = model.__dict__.pop(_PENDING_DATA_RNG, None)
        adapter = self.data_adapter
        if pending is not None and getattr(adapter, "_rng", None) is not None:
            adapter._rng.bit_generator.state = pending

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        # With steps_per_execution=N the hook fires once per N batches: count the
        # batches the index moved by (a smaller index means a new epoch).
        last, self._last_batch = self._last_batch, batch
        seen = batch + 1 if last is None or batch <= last else batch - last
        self._total_batches_seen += seen
        self._batches_since_save += seen
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._maybe_save(self._total_batches_seen, logs or {}, f"batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._maybe_save(epoch, logs or {}, f"epoch {epoch + 1}")

    def on_train_end(self, logs: dict | None = None) -> None:
        self.wait_until_finished()
        if self._manager is not None:  # its background threads end with the fit
            self._manager.close()
            self._manager = None

    def wait_until_finished(self) -> None:
        """Blocks until every background save has been written (and renamed)."""
        if self._manager is not None:
            self._manager.wait_until_finished()

    # ------------------------------------------------------------- saving
    def _maybe_save(self, step: int, logs: dict, when: str) -> None:
        if self._should_save(logs, when, f"checkpoint {step} to {self.directory}"):
            self._save(step, logs)

    def _save(self, step: int, logs: dict) -> None:
        ocp = _orbax()
        model = self.model  # syncs the training state into the variables
        groups = _groups(model, self.save_weights_only)
        state = {name: [_value(v) for v in variables] for name, variables in groups.items()}
        rng = getattr(self.data_adapter, "_rng", None)
        meta = {
            "format": FORMAT,
            "step": int(step),
            "epoch": int(self._epoch),
            "save_freq": self.save_freq,
            "save_weights_only": bool(self.save_weights_only),
            "model_class": type(model).__name__,
            "model_config": None if self.save_weights_only else _model_json(model),
            "paths": {name: [v.path for v in variables] for name, variables in groups.items()},
            "shapes": {name: [list(a.shape) for a in arrays] for name, arrays in state.items()},
            "dtypes": {name: [a.dtype.name for a in arrays] for name, arrays in state.items()},
            "logs": {k: float(np.asarray(v)) for k, v in logs.items() if np.size(v) == 1},
            "data_rng": None if rng is None else _jsonable(rng.bit_generator.state),
            "python_random": _jsonable(random.getstate()),
            "numpy_random": _jsonable(np.random.get_state(legacy=False)),
        }
        if self._manager is None:
            self._manager = _manager(self.directory, self.max_to_keep, self.save_on_background)
        if int(step) in self._manager.all_steps():  # a rerun into the same folder: newest wins
            self._manager.wait_until_finished()
            self._manager.delete(int(step))
        self._manager.save(
            int(step),
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            ),
            force=True,  # the callback decides when to save, not the manager's interval
        )

    # ------------------------------------------------------------- restoring
    @staticmethod
    def latest_step(directory: Any) -> int | None:
        """The newest checkpoint step in ``directory`` (``None`` when there is none)."""
        path = os.path.abspath(os.fspath(directory))
        if not os.path.isdir(path):
            return None
        manager = _manager(path)
        try:
            return manager.latest_step()
        finally:
            manager.close()

    @staticmethod
    def restore(model: Any, directory: Any, step: int | None = None, resume: bool = True) -> int:
        """Loads a checkpoint written by ``OrbaxCheckpoint`` into ``model``.

        Every variable is matched by position and checked by shape
        first; on any mismatch a ``ValueError`` lists them and nothing is loaded.

        Args:
            model: a built model with the same architecture (compiled, to restore
                the optimizer state too).
            directory: the callback's ``directory`` (or one ``<step>`` folder in it).
            step: the checkpoint to load; ``None``: the newest.
            resume: also restore the epoch counter and RNG states, so the next
                ``fit`` continues after the saved epoch exactly as the original run
                would have (pass ``False`` to only load the state, e.g. for
                inference or a fresh fine-tuning run).

        Returns:
            The step restored.

        Raises:
            FileNotFoundError: no checkpoint (or not ``step``) in ``directory``.
            ValueError: the checkpoint does not fit ``model``.
        """
        ocp = _orbax()
        manager, step, meta = _open(directory, step, "OrbaxCheckpoint.restore")
        try:
            groups = _prepare(model, meta)
            target = {  # the saved layout, so groups we skip still read cleanly
                name: [
                    _target(v, shape, dtype)
                    for v, shape, dtype in itertools.zip_longest(
                        groups.get(name, []), shapes, meta["dtypes"][name]
                    )
                ]
                for name, shapes in meta["shapes"].items()
            }
            state = manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
            ).state
        finally:
            manager.close()
        for name, variables in groups.items():
            for v, value in zip(variables, state[name]):
                v.assign(value if spans_processes(value) else np.asarray(value))
        if resume and not meta.get("save_weights_only"):
            _resume_from(model, meta)
        return int(step)

    @staticmethod
    def load_model(
        directory: Any,
        step: int | None = None,
        custom_objects: dict | None = None,
        compile: bool = True,
        resume: bool = True,
    ) -> Any:
        """Rebuilds the saved model from the checkpoint's config and restores its state
        (Keras loads an Orbax directory with ``keras.saving.load_model``).

        Args:
            directory: the callback's ``directory``.
            step: the checkpoint to load; ``None``: the newest.
            custom_objects: classes the config names that are not registered
                (``{"MyModel": MyModel}``).
            compile: compile the model as it was (and load the optimizer state).
            resume: as for :meth:`restore`.

        Raises:
            FileNotFoundError: no checkpoint (or not ``step``) in ``directory``.
            ValueError: the checkpoint holds no model config (``save_weights_only``,
                or a model whose config could not be serialized).
        """
        manager, step, meta = _open(directory, step, "OrbaxCheckpoint.load_model")
        manager.close()
        if not meta.get("model_config"):
            raise ValueError(
                f"OrbaxCheckpoint.load_model: step {step} in {directory!r} holds no model "
                "config (saved with save_weights_only=True, or the model has no get_config); "
                "build the model yourself and call OrbaxCheckpoint.restore(model, directory)."
            )
        config = json.loads(meta["model_config"])
        if not compile:
            config.pop("compile_config", None)
        model = serialization.deserialize_keras_object(config, custom_objects=custom_objects)
        OrbaxCheckpoint.restore(model, directory, step=step, resume=resume)
        return model


def is_orbax_checkpoint(path: Any) -> bool:
    """Whether ``path`` is a folder of ``OrbaxCheckpoint`` steps (or one step), for
    loaders that accept such a folder (cheap: no orbax import).

    Example:
        >>> import tempfile
        >>> is_orbax_checkpoint(tempfile.mkdtemp())
        False
    """
    if not isinstance(path, (str, os.PathLike)) or not os.path.isdir(path):
        return False

    def is_step(folder: str) -> bool:
        return os.path.isdir(os.path.join(folder, "meta")) and os.path.isdir(
            os.path.join(folder, "state")
        )

    if is_step(os.fspath(path)):
        return True
    return any(name.isdigit() and is_step(os.path.join(path, name)) for name in os.listdir(path))


def _open(directory: Any, step: int | None, caller: str) -> tuple[Any, int, dict]:
    """An open manager on ``directory``, the step to read and its JSON record."""
    ocp = _orbax()
    path = os.path.abspath(os.fspath(directory))
    name = os.path.basename(path)
    if name.isdigit() and os.path.isdir(os.path.join(path, "meta")):  # one step's folder
        path = os.path.dirname(path)
        step = int(name) if step is None else step
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"{caller}: no checkpoint directory at {path!r}; received directory={directory!r}."
        )
    manager = _manager(path)
    try:
        steps = list(manager.all_steps())
        if step is None:
            if not steps:
                raise FileNotFoundError(f"{caller}: {path!r} holds no finished checkpoint.")
            step = max(steps)
        elif step not in steps:
            raise FileNotFoundError(
                f"{caller}: no checkpoint for step={step!r} in {path!r}; steps available: "
                f"{sorted(steps)}."
            )
        meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            got = meta.get("format") if isinstance(meta, dict) else meta
            raise ValueError(
                f"{caller}: step {step} in {path!r} was not written by callax's "
                f"OrbaxCheckpoint (expected format {FORMAT!r}); received {got!r}."
            )
    except BaseException:
        manager.close()
        raise
    return manager, int(step), meta


def _model_json(model: Any) -> str | None:
    try:
        return model.to_json()
    except Exception:  # no get_config: restore() into a model built by hand still works
        return None


def _prepare(model: Any, meta: dict) -> dict[str, list]:
    """The model's variable groups, checked against the checkpoint's record."""
    if getattr(model, "built", True) is False and not list(model.weights):
        raise ValueError(
            f"OrbaxCheckpoint.restore: {type(model).__name__} '{model.name}' is not built, so "
            "it has no variables to receive the checkpoint; call it on a batch (model(x)) or "
            "model.build(input_shape) first."
        )
    sync = getattr(model, "_sync_training_state", None)
    if sync is not None:
        sync()  # values held by an earlier fit must not overwrite what we load
    weights_only = bool(meta.get("save_weights_only"))
    optimizer = getattr(model, "optimizer", None)
    saved_paths: dict = meta.get("paths", {})
    if not weights_only and optimizer is not None and saved_paths.get("optimizer"):
        if not getattr(optimizer, "built", True):
            optimizer.build(model.trainable_variables)  # slots exist only after a build
            state = getattr(model, "_training_state", None)
            if state is not None:
                state.refresh()
    groups = _groups(model, weights_only)
    problems, restorable = [], {}
    for name in _GROUPS:
        if name not in saved_paths:
            continue
        have, paths = groups.get(name, []), saved_paths[name]
        shapes = [tuple(shape) for shape in meta["shapes"][name]]
        if name == "metrics" and [tuple(v.shape) for v in have] != shapes:
            continue  # built on the first fit, and reset every epoch: nothing to resume
        if name == "optimizer" and optimizer is None and paths:
            problems.append("optimizer: the checkpoint holds its state; the model has none")
            continue
        if len(have) != len(paths):
            problems.append(
                f"{name}: the checkpoint holds {len(paths)} variables, the model {len(have)}"
            )
            continue
        # Matched by position (names differ between runs: dense_3 vs dense), checked by shape.
        for v, path, shape in zip(have, paths, shapes):
            if tuple(v.shape) != shape:
                problems.append(
                    f"{name}: {path!r} has shape {shape} in the checkpoint, {v.path!r} has "
                    f"shape {tuple(v.shape)} in the model"
                )
        restorable[name] = have
    if problems:
        raise ValueError(
            f"OrbaxCheckpoint.restore: the checkpoint (written from a {meta.get('model_class')}) "
            f"does not fit {type(model).__name__} '{model.name}'; nothing was loaded:\n  "
            + "\n  ".join(problems)
        )
    return restorable


def _resume_from(model: Any, meta: dict) -> None:
    if meta.get("save_freq") == "epoch":
        model.__dict__["_initial_epoch"] = int(meta["epoch"]) + 1
    random.setstate(_tuples(meta["python_random"]))
    np.random.set_state(_arrays(meta["numpy_random"]))
    data_rng = _arrays(meta.get("data_rng"))
    if data_rng is not None:  # the next fit's OrbaxCheckpoint applies it to its data
        model.__dict__[_PENDING_DATA_RNG] = data_rng
