"""``keras.src.utils.backend_utils``: ``in_grain_data_pipeline``.

KerasHub's preprocessing layers return numpy instead of tensors when they run
inside a Grain pipeline (Grain workers must not touch accelerators).

Example:
    >>> from callax.keras_compat.shims.backend_utils import in_grain_data_pipeline
    >>> in_grain_data_pipeline()
    False
"""

from __future__ import annotations

import os
import sys

# Grain's dataset and data-loader code run user transformations from these folders.
_GRAIN_DIRS = (
    os.path.join("grain", "_src", "python", "dataset"),
    os.path.join("grain", "_src", "python", "data_loader"),
)


def in_grain_data_pipeline() -> bool:
    """Whether the caller runs inside a Grain dataset or data loader (by its stack)."""
    if "grain" not in sys.modules:  # nothing can run under Grain before it is imported
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if any(d in frame.f_code.co_filename for d in _GRAIN_DIRS):
            return True
        frame = frame.f_back
    return False


__all__ = ["in_grain_data_pipeline"]
