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
from callax.metrics.reduction import LossMean, MeanMetricWrapper, loss_mean_init


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(
        self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
        label_smoothing: float = 0,
    ):  # fmt: skip
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)  # fmt: skip
        self._mirror_fn_kwargs()
        self._direction = "down"


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (one-hot labels)."""

    def __init__(
        self, name: str = "categorical_crossentropy", dtype: Any = None,
        from_logits: bool = False, label_smoothing: float = 0, axis: int = -1,
    ):  # fmt: skip
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)  # fmt: skip
        self._mirror_fn_kwargs()
        self._direction = "down"


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (integer labels); ``ignore_class`` entries don't count."""

    def __init__(
        self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
        from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
    ):  # fmt: skip
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)  # fmt: skip
        self._mirror_fn_kwargs()
        self._direction = "down"


class KLDivergence(LossMean):
    """Mean Kullback-Leibler divergence."""

    __init__ = loss_mean_init(losses.kl_divergence, "kl_divergence")


class Poisson(LossMean):
    """Mean Poisson loss."""

    __init__ = loss_mean_init(losses.poisson, "poisson")


class Hinge(LossMean):
    """Mean hinge loss."""

    __init__ = loss_mean_init(losses.hinge, "hinge")


class SquaredHinge(LossMean):
    """Mean squared hinge loss."""

    __init__ = loss_mean_init(losses.squared_hinge, "squared_hinge")


class CategoricalHinge(LossMean):
    """Mean categorical hinge loss."""

    __init__ = loss_mean_init(losses.categorical_hinge, "categorical_hinge")
