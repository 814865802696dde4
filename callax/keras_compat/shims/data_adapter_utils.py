"""``keras.src.trainers.data_adapters.data_adapter_utils``: the helpers KerasHub's
``PipelineModel`` calls on each batch.

Example:
    >>> import numpy as np
    >>> from callax.keras_compat.shims.data_adapter_utils import class_weight_to_sample_weights
    >>> class_weight_to_sample_weights(np.array([0, 1, 2]), {1: 3.0}).tolist()
    [1.0, 3.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.core.config import floatx
from callax.utils.model_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight


def class_weight_to_sample_weights(y: Any, class_weight: dict) -> np.ndarray:
    """Per-sample weights for labels ``y`` (integers, ``(n, 1)`` or one-hot rows):
    ``class_weight[label]``, 1.0 for classes not in ``class_weight``."""
    if not isinstance(class_weight, dict):
        raise TypeError(
            "class_weight_to_sample_weights: class_weight must be a dict {class: weight}; "
            f"received {type(class_weight).__name__}."
        )
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64)
    weights = [class_weight.get(int(label), 1.0) for label in labels.reshape(-1)]
    return np.asarray(weights, dtype=floatx()).reshape(labels.shape)


__all__ = ["class_weight_to_sample_weights", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
