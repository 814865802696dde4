"""Loss-valued metrics: the running mean of a cross-entropy, KL divergence,
Poisson or hinge loss, reported alongside training.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.BinaryCrossentropy(from_logits=True)
    >>> round(float(m(np.array([[1.0]]), np.array([[0.0]]))), 4)  # log(2)
    0.6931
"""

from __future__ import annotations

from typing import Any

from callax import losses
from callax.metrics.reduction import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(
        self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
        label_smoothing: float = 0,
    ):  # fmt: skip
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)  # fmt: skip
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self._direction = "down"


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (one-hot labels)."""

    def __init__(
        self, name: str = "categorical_crossentropy", dtype: Any = None,
        from_logits: bool = False, label_smoothing: float = 0, axis: int = -1,
    ):  # fmt: skip
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)  # fmt: skip
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self._direction = "down"


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (integer labels); ``ignore_class`` entries don't count."""

    def __init__(
        self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
        from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
    ):  # fmt: skip
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)  # fmt: skip
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._direction = "down"


def _simple(fn, default_name: str):
    """An ``__init__(name=default_name, dtype=None)`` wrapping ``fn`` (lower is better)."""

    def __init__(self, name: str = default_name, dtype: Any = None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)
        self._direction = "down"

    return __init__


class _Simple(MeanMetricWrapper):
    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class KLDivergence(_Simple):
    """Mean Kullback-Leibler divergence."""

    __init__ = _simple(losses.kl_divergence, "kl_divergence")


class Poisson(_Simple):
    """Mean Poisson loss."""

    __init__ = _simple(losses.poisson, "poisson")


class Hinge(_Simple):
    """Mean hinge loss."""

    __init__ = _simple(losses.hinge, "hinge")


class SquaredHinge(_Simple):
    """Mean squared hinge loss."""

    __init__ = _simple(losses.squared_hinge, "squared_hinge")


class CategoricalHinge(_Simple):
    """Mean categorical hinge loss."""

    __init__ = _simple(losses.categorical_hinge, "categorical_hinge")
