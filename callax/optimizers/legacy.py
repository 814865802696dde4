"""``keras.optimizers.legacy``: Keras 2's optimizers, which Keras 3 (and callax)
do not provide. The names exist so old code fails with a clear message.

Example:
    >>> from callax.optimizers import legacy
    >>> legacy.Adam()
    Traceback (most recent call last):
    ...
    ImportError: `keras.optimizers.legacy.Adam` (a Keras 2 optimizer) is not supported ...
"""

from __future__ import annotations

from typing import Any


class _LegacyOptimizer:
    def __init__(self, *args: Any, **kwargs: Any):
        name = type(self).__name__
        raise ImportError(
            f"`keras.optimizers.legacy.{name}` (a Keras 2 optimizer) is not supported by Keras "
            f"3 or callax; use `keras.optimizers.{name}` (same arguments, minus `decay`). "
            f"Received {name}(*{args!r}, **{kwargs!r})."
        )


class Optimizer(_LegacyOptimizer):
    """Unsupported Keras 2 base optimizer (raises ``ImportError``)."""


class SGD(_LegacyOptimizer):
    """Unsupported Keras 2 optimizer (raises ``ImportError``)."""


class Adam(_LegacyOptimizer):
    """Unsupported Keras 2 optimizer (raises ``ImportError``)."""


class Adagrad(_LegacyOptimizer):
    """Unsupported Keras 2 optimizer (raises ``ImportError``)."""


class RMSprop(_LegacyOptimizer):
    """Unsupported Keras 2 optimizer (raises ``ImportError``)."""


class Ftrl(_LegacyOptimizer):
    """Unsupported Keras 2 optimizer (raises ``ImportError``)."""


__all__ = ["Optimizer", "SGD", "Adam", "Adagrad", "RMSprop", "Ftrl"]
