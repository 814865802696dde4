"""``TerminateOnNaN``: stop training at the first NaN or infinite loss.

With ``diagnose=True`` it also says which layer: when it triggers, it runs
``callax.debug.find_nonfinite`` on a batch (the fit data's first batch, or the
``(x, y)`` given as ``diagnose``) with the model's current weights, prints the
report, keeps it as ``callback.report`` and adds it to the error with
``raise_error=True``. Costs nothing until the loss goes bad.

Example:
    >>> import callax
    >>> callax.callbacks.TerminateOnNaN(raise_error=True).raise_error
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.callbacks.callback import Callback
from callax.debug import find_nonfinite
from callax.utils import io_utils


class TerminateOnNaN(Callback):
    """Checks the loss after every training batch (one host read per batch).

    Args:
        raise_error: raise ``RuntimeError`` at once (skipping ``on_train_end``)
            instead of stopping gracefully with ``model.stop_training = True``.
        diagnose: ``True`` to find the first layer whose output or gradient is
            non-finite when the loss goes bad (on the fit data's first batch),
            or an ``(x, y)`` batch to run it on; the report is printed and kept
            as ``self.report``.
    """

    accepts_device_logs = True  # reads only logs["loss"], converting it itself

    def __init__(self, raise_error: bool = False, diagnose: Any = False):
        super().__init__()
        self.raise_error = raise_error
        self.diagnose = diagnose
        self.report = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss))
        if np.isnan(loss) or np.isinf(loss):
            found = self._diagnose() if self.diagnose is not False else ""
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately." + found
                )
            io_utils.print_msg(f"Batch {batch}: Invalid loss, terminating training" + found)
            self.model.stop_training = True

    def _diagnose(self) -> str:
        """``find_nonfinite`` on a batch, as text to append to the message."""
        model = self.model
        try:
            if self.diagnose is True:
                adapter = self.data_adapter
                if adapter is None:
                    return "\n(diagnose: no batch to rerun; pass diagnose=(x, y))"
                batch = adapter.first_batch()
                x, y = batch[0], batch[1] if len(batch) > 1 else None
                sw = batch[2] if len(batch) > 2 else None
            else:
                x, y = self.diagnose[0], self.diagnose[1] if len(self.diagnose) > 1 else None
                sw = None
            self.report = find_nonfinite(model, x, y, sample_weight=sw, training=True)
        except Exception as error:  # a diagnosis must never hide the NaN itself
            return f"\n(diagnose failed: {type(error).__name__}: {error})"
        return "\n" + str(self.report)
