"""Correlation metrics: Pearson and Lin's concordance correlation, per sample
along an axis, averaged over samples.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> round(float(metrics.pearson_correlation(np.array([1., 2., 3.]), np.array([2., 4., 7.]))), 4)
    0.9934
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import squeeze_or_expand_to_same_rank
from callax.metrics.reduction import MeanMetricWrapper


def _aligned(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    return squeeze_or_expand_to_same_rank(jnp.asarray(y_true, y_pred.dtype), y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Pearson correlation between ``y_true`` and ``y_pred`` along ``axis`` (one per sample).

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> metrics.pearson_correlation(np.array([[1., 2., 3.]]), np.array([[3., 2., 1.]]))
        Array([-1.], dtype=float32)
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    t = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    t = t / jnp.std(t, axis=axis, keepdims=True)
    p = p / jnp.std(p, axis=axis, keepdims=True)
    return jnp.mean(t * p, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Lin's concordance correlation ``2 cov / (var_t + var_p + (mean_t - mean_p)^2)``
    along ``axis``: 1 only when predictions equal the labels.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> x = np.array([[1., 2., 3.]])
        >>> metrics.concordance_correlation(x, x + 1.0).round(4)  # correlated but offset
        Array([0.5714], dtype=float32)
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    mean_t = jnp.mean(y_true, axis=axis, keepdims=True)
    mean_p = jnp.mean(y_pred, axis=axis, keepdims=True)
    var_t = jnp.var(y_true, axis=axis, keepdims=True)
    var_p = jnp.var(y_pred, axis=axis, keepdims=True)
    norm = var_t + var_p + jnp.square(mean_t - mean_p) + config.epsilon()
    return jnp.mean(2.0 * (y_true - mean_t) * (y_pred - mean_p) / norm, axis=axis)


class _Correlation(MeanMetricWrapper):
    _fn_default: Any

    def __init__(self, name: str | None = None, dtype: Any = None, axis: int = -1):
        fn = type(self)._fn_default
        super().__init__(fn, name=name or fn.__name__, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class PearsonCorrelation(_Correlation):
    """The mean over samples of the Pearson correlation along ``axis``.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.PearsonCorrelation()
        >>> float(m(np.array([[1., 2., 3.]]), np.array([[2., 4., 6.]])))
        1.0
    """

    _fn_default = staticmethod(pearson_correlation)

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(_Correlation):
    """The mean over samples of the concordance correlation along ``axis``."""

    _fn_default = staticmethod(concordance_correlation)

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(name=name, dtype=dtype, axis=axis)
