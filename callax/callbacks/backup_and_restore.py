"""``BackupAndRestore``: resume an interrupted ``fit`` exactly where it stopped.

At the end of every epoch the callback writes one file, atomically, holding the
weights, the optimizer's state, the seed generators' states (dropout masks),
the state of the data shuffling RNG and the epoch number. When ``fit`` starts
and finds it, everything is restored and training continues with the next
epoch: a run killed after epoch ``k`` and restarted (same script, same seed)
ends with the same weights as one that was never interrupted. The file is
deleted when ``fit`` finishes (``delete_checkpoint=True``).

In a job of several processes (``jax.distributed``) the values are gathered from
every process and **process 0 alone writes** the file (the others wait until it
has; a collective, like every save) and deletes it at the end; every process
reads it when ``fit`` restarts, so ``backup_dir`` must be on a filesystem all
processes see (a ``ValueError`` says so when some of them do not find the file).
Restart all processes after a failure: they resume from the last finished epoch.

Example:
    >>> import tempfile, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cb = callax.callbacks.BackupAndRestore(d)
    ...     len(model.fit(x, y, epochs=2, verbose=0, callbacks=[cb]).history["loss"])
    2
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import jax
import numpy as np

from callax.callbacks.callback import Callback
from callax.distribution.multihost import gather_flags, to_host, write_on_primary
from callax.layers.core.lora import raw_lora_weights
from callax.utils.atomic_files import atomic_write

BACKUP_FILE = "latest.weights.h5"
_RNG_GROUP = "callax_rng"


class BackupAndRestore(Callback):
    """Backs up training state each epoch; restores it when ``fit`` restarts.

    Args:
        backup_dir: a directory for the backup (created if needed). Use one per
            training run.
        save_freq: ``"epoch"`` (callax resumes from the last finished epoch).
        delete_checkpoint: delete the backup when ``fit`` completes.
    """

    def __init__(self, backup_dir: Any, save_freq: Any = "epoch", delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError(
                f"BackupAndRestore: backup_dir must be a directory path; received {backup_dir!r}."
            )
        if save_freq != "epoch":
            raise ValueError(
                "BackupAndRestore: callax resumes from the last finished epoch, so backups are "
                f"made once per epoch; save_freq must be 'epoch'; received save_freq={save_freq!r}."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, BACKUP_FILE)

    # --------------------------------------------------------------- hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        found = gather_flags(os.path.exists(self.path))  # every process's view
        if any(found) and not all(found):
            raise ValueError(
                f"BackupAndRestore: the backup {self.path!r} exists for processes "
                f"{[p for p, f in enumerate(found) if f]} but not for processes "
                f"{[p for p, f in enumerate(found) if not f]}; every process reads it, so "
                "backup_dir must be on a filesystem that all of them see."
            )
        if all(found):
            self._restore()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._backup(epoch)

    def on_train_end(self, logs: dict | None = None) -> None:
        # Process 0 wrote it, process 0 removes it (the others may share the folder).
        if self.delete_checkpoint and jax.process_index() == 0 and os.path.exists(self.path):
            os.remove(self.path)

    # --------------------------------------------------------------- state
    def _seed_states(self, model: Any) -> list:
        weights = {id(v) for v in model.weights}
        return [v for v in model.variables if id(v) not in weights]

    def _backup(self, epoch: int) -> None:
        from callax.saving import weights_file

        model = self.model  # syncs the training state into the variables
        rng = getattr(self.data_adapter, "_rng", None)
        meta = {
            "epoch": int(epoch),
            "data_rng": None if rng is None else rng.bit_generator.state,
            "python_random": _jsonable(random.getstate()),
            "numpy_random": _jsonable(np.random.get_state(legacy=False)),
        }
        seeds = to_host([v.value for v in self._seed_states(model)])  # a collective

        def write() -> None:
            os.makedirs(self.backup_dir, exist_ok=True)
            with atomic_write(self.path) as f, raw_lora_weights():  # LoRA factors as they are
                weights_file.write_weights(
                    model, f, extra={_RNG_GROUP: seeds}, attrs={"callax_backup": json.dumps(meta)}
                )

        saved = [v for e in weights_file.saveable_entries(model) for v in e.variables]
        # Several processes: values gathered from all, process 0 writes, the others wait.
        write_on_primary(saved, write, "BackupAndRestore")

    def _restore(self) -> None:
        from callax.saving import weights_file

        model = self.model
        reader = weights_file.WeightsReader(self.path, self.path)
        try:
            raw = reader.file.attrs.get("callax_backup")
            if raw is None:
                raise ValueError(
                    f"BackupAndRestore: {self.path!r} is not a callax backup (no "
                    "'callax_backup' attribute); remove it or use another backup_dir."
                )
            meta = json.loads(raw)
            with raw_lora_weights():
                weights_file.load_weights_from(model, reader)
            seeds = weights_file.read_extra(reader, _RNG_GROUP) or []
        finally:
            reader.close()
        states = self._seed_states(model)
        if len(seeds) != len(states):
            raise ValueError(
                f"BackupAndRestore: the backup holds {len(seeds)} seed-generator states, the "
                f"model has {len(states)}; was {self.path!r} written for another model?"
            )
        for v, value in zip(states, seeds):
            v.assign(value)
        adapter = self.data_adapter
        if meta.get("data_rng") is not None and getattr(adapter, "_rng", None) is not None:
            adapter._rng.bit_generator.state = meta["data_rng"]
        random.setstate(_tuples(meta["python_random"]))
        np.random.set_state(_arrays(meta["numpy_random"]))
        model._initial_epoch = int(meta["epoch"]) + 1


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return {"__ndarray__": x.tolist(), "dtype": x.dtype.name}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _arrays(x: Any) -> Any:
    if isinstance(x, dict):
        if "__ndarray__" in x:
            return np.asarray(x["__ndarray__"], dtype=x["dtype"])
        return {k: _arrays(v) for k, v in x.items()}
    return x


def _tuples(x: Any) -> Any:
    if isinstance(x, list):
        return tuple(_tuples(v) for v in x)
    return x
