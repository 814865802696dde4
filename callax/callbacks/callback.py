"""``Callback``: the base class of objects that hook into ``fit``/``evaluate``/``predict``.

Override any hook; each receives a ``logs`` dict (loss and metric values) where
Keras passes one. ``self.model`` is the model being trained and ``self.params``
holds ``verbose``, ``epochs`` and ``steps``; ``self.data_adapter`` is the running
loop's data adapter (``None`` outside a loop). Reading ``self.model`` during
``fit`` first writes the newest weights back into the model's variables, so a
callback always sees (and may change) the current state.

Hooks fire in Keras's order: ``on_train_begin``; per epoch ``on_epoch_begin``,
then per batch ``on_train_batch_begin``/``on_train_batch_end`` (with
``steps_per_execution=N``, once per N batches), then validation
(``on_test_begin``, ``on_test_batch_*``, ``on_test_end``), then
``on_epoch_end``; finally ``on_train_end``.

Example:
    >>> import callax
    >>> class CountBatches(callax.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.batches = 0
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.batches += 1
    >>> CountBatches().params
    {}
"""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class: every hook does nothing until overridden."""

    # The running loop's data adapter (a class default, so subclasses that skip
    # ``__init__`` have it too); set through ``set_data_adapter``.
    data_adapter: Any = None

    def __init__(self):
        self.params: dict = {}
        self._model: Any = None
        self.validation_data = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    def set_data_adapter(self, adapter: Any) -> None:
        """Receives the data adapter of the loop that runs this callback (``None``
        when it ends): ``BackupAndRestore`` saves its shuffling RNG with a backup."""
        self.data_adapter = adapter

    @property
    def model(self) -> Any:
        """The model; reading it syncs the training state into its variables."""
        model = self._model
        sync = getattr(model, "_sync_training_state", None)
        if sync is not None:
            sync()
        return model

    @model.setter
    def model(self, model: Any) -> None:
        self._model = model

    # Keras 2 aliases of the training-batch hooks.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Same as ``on_train_batch_begin`` (kept for Keras 2 code)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Same as ``on_train_batch_end`` (kept for Keras 2 code)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """At the start of an epoch of ``fit``."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """At the end of an epoch of ``fit``; ``logs`` has the epoch's training
        results and, when validating, ``val_``-prefixed ones."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before a training batch (by default calls ``on_batch_begin``)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a training batch; ``logs`` has the running results (by default
        calls ``on_batch_end``)."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before an evaluation batch (also during validation in ``fit``)."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After an evaluation batch."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After a prediction batch; ``logs["outputs"]`` holds its outputs."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """At the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """At the end of ``fit``; ``logs`` are the last epoch's."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """At the start of ``evaluate`` (and of validation in ``fit``)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """At the end of ``evaluate``; ``logs`` are the final results."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """At the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """At the end of ``predict``."""
