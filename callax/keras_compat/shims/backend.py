"""``keras.src.backend``: callax's backend names plus the mask accessors.

KerasHub's layers read and attach masks with ``get_keras_mask``/``set_keras_mask``;
callax keeps masks the same way Keras does (the ``_keras_mask`` attribute, or a
per-call table for traced values), so these are its mask functions under Keras's names.

Example:
    >>> import numpy as np
    >>> from callax.keras_compat.shims.backend import get_keras_mask, set_keras_mask
    >>> import jax.numpy as jnp
    >>> x = jnp.ones((1, 3))
    >>> set_keras_mask(x, np.array([[True, True, False]]))
    >>> get_keras_mask(x).tolist()
    [[True, True, False]]
"""

from __future__ import annotations

from typing import Any

from callax.backend import *  # noqa: F403  (keras.src.backend holds keras.backend's names)
from callax.backend import __all__ as _backend_all
from callax.core import masking as _masking
from callax.core.keras_tensor import KerasTensor
from callax.core.variable import Variable


def get_keras_mask(x: Any) -> Any:
    """The mask attached to ``x`` (``None`` when there is none)."""
    return _masking.get_mask(x)


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attaches ``mask`` to ``x``; ``mask=None`` removes an attached mask."""
    if mask is None:
        try:
            del x._keras_mask
        except AttributeError:
            pass
        return
    _masking.set_mask(x, mask)


__all__ = [*_backend_all, "KerasTensor", "Variable", "get_keras_mask", "set_keras_mask"]
