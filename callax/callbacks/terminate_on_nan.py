"""``TerminateOnNaN``: stop training at the first NaN or infinite loss.

Example:
    >>> import callax
    >>> callax.callbacks.TerminateOnNaN(raise_error=True).raise_error
    True
"""

from __future__ import annotations

import numpy as np

from callax.callbacks.callback import Callback
from callax.utils import io_utils


class TerminateOnNaN(Callback):
    """Checks the loss after every training batch (one host read per batch).

    Args:
        raise_error: raise ``RuntimeError`` at once (skipping ``on_train_end``)
            instead of stopping gracefully with ``model.stop_training = True``.
    """

    accepts_device_logs = True  # reads only logs["loss"], converting it itself

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss))
        if np.isnan(loss) or np.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            io_utils.print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
