"""``ModelCheckpoint``: saves the model (or its weights) during ``fit``.

Every save is atomic (see :mod:`callax.utils.atomic_files`): a run killed while
saving leaves the previous checkpoint intact.

Example:
    >>> import os, tempfile, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cb = callax.callbacks.ModelCheckpoint(os.path.join(d, "m-{epoch:02d}.keras"))
    ...     _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    ...     sorted(os.listdir(d))
    ['m-01.keras', 'm-02.keras']
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from callax.callbacks.monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at some frequency.

    Args:
        filepath: where to save; may hold ``{epoch}``/``{batch}`` and log keys as
            format fields (``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``). Must end in
            ``.keras`` (whole model) or, with ``save_weights_only``, ``.weights.h5``.
        monitor: the log value compared by ``save_best_only``.
        verbose: 1 prints a line per save.
        save_best_only: save only when ``monitor`` improved (a fixed ``filepath``
            then always holds the best model).
        save_weights_only: save weights (``.weights.h5``) instead of the model.
        mode: ``"auto"``, ``"min"`` or ``"max"``: the direction of improvement.
        save_freq: ``"epoch"``, or an int: save every that many batches.
        initial_value_threshold: the value ``monitor`` must first beat.
    """

    def __init__(
        self,
        filepath: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: Any = "epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__(monitor=monitor, mode=mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                "ModelCheckpoint: save_freq must be 'epoch' or a positive int (batches); "
                f"received save_freq={save_freq!r}."
            )
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(
                "ModelCheckpoint: with save_weights_only=True the filepath must end in "
                f"'.weights.h5'; received filepath={self.filepath!r}."
            )
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError(
                "ModelCheckpoint: the filepath must end in '.keras' (or '.weights.h5' with "
                f"save_weights_only=True); received filepath={self.filepath!r}."
            )
        self._batches_seen = 0
        self._current_epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.save_best_only and self.monitor_op is None:
            self._set_monitor_op()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: dict) -> None:
        path = self._format(epoch, batch, logs)
        if not self._should_save(logs, f"Epoch {epoch + 1}", f"model to {path}"):
            return
        model = self.model  # syncs the training state into the variables
        if self.save_weights_only:
            model.save_weights(path, overwrite=True)
        else:
            model.save(path, overwrite=True)

    def _format(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = {k: float(np.asarray(v)) for k, v in logs.items() if np.ndim(v) == 0}
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            keys = re.findall(r"{(\w+)", self.filepath)
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} names {e.args[0]!r}, which is "
                f"not in the logs; fields available: {sorted(fields)} (filepath fields: "
                f"{keys})."
            ) from None
