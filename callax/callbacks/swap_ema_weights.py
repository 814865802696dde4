"""``SwapEMAWeights``: evaluate and predict with the optimizer's moving-average weights.

With ``optimizer(use_ema=True)`` the optimizer keeps an exponential moving
average of every trainable weight. This callback puts the averages into the
model for validation, ``evaluate`` and ``predict`` (and, with
``swap_on_epoch=True``, at the end of each epoch, e.g. so ``ModelCheckpoint``
saves them), then puts the training weights back.

Example:
    >>> import numpy as np, callax
    >>> model = callax.Sequential([callax.Input((2,)), callax.layers.Dense(1)])
    >>> model.compile(callax.optimizers.SGD(0.1, use_ema=True), "mse")
    >>> x = np.ones((8, 2), "float32")
    >>> _ = model.fit(x, x[:, :1], epochs=1, verbose=0,
    ...               callbacks=[callax.callbacks.SwapEMAWeights()])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with their EMA during evaluation and prediction.

    Args:
        swap_on_epoch: also hold the EMA weights in the model between epochs
            (from ``on_epoch_end`` to the next ``on_epoch_begin``), so callbacks
            running after this one at the end of an epoch see them.
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self) -> list[Any]:
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        candidates = list(getattr(optimizer, "optimizers", [optimizer]))
        with_ema = [o for o in candidates if getattr(o, "use_ema", False)]
        if not with_ema:
            raise ValueError(
                "SwapEMAWeights needs an optimizer created with use_ema=True; received "
                f"{type(optimizer).__name__} with use_ema="
                f"{getattr(optimizer, 'use_ema', None)}."
            )
        return with_ema

    @staticmethod
    def _pairs(optimizer: Any) -> list[tuple]:
        return list(zip(optimizer._trainable_variables, optimizer._model_variables_moving_average))

    def _swap_variables(self) -> None:
        for optimizer in self._ema_optimizers():
            for var, average in self._pairs(optimizer):
                current = np.asarray(var.value)
                var.assign(average.value)
                average.assign(current)

    def _finalize_ema_values(self) -> None:
        # The model holds the averages now; fit ends by copying averages into the
        # weights, so the averages must hold them too.
        for optimizer in self._ema_optimizers():
            for var, average in self._pairs(optimizer):
                average.assign(var.value)

    def _hold_ema_weights(self, ema: bool) -> None:
        """Puts the averages (``ema=True``) or the trained weights into the model,
        swapping only when the model holds the other ones."""
        if self._ema_weights_in_model != ema:
            self._swap_variables()
            self._ema_weights_in_model = ema

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch:
            self._hold_ema_weights(False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._hold_ema_weights(True)
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._hold_ema_weights(True)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._hold_ema_weights(False)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._hold_ema_weights(True)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._hold_ema_weights(False)
