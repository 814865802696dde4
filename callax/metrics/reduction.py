"""Reducing metrics: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a
per-sample function such as an accuracy or a loss).

Sample weights follow Keras: a weight of lower rank than the values first
averages the values over the trailing axes, so each weight scales one sample;
the mean divides by the sum of the weights.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.Mean()
    >>> m.update_state(np.array([1.0, 3.0]))
    >>> m.update_state(np.array([5.0]), sample_weight=np.array([2.0]))
    >>> float(m.result())  # (1 + 3 + 2 * 5) / (1 + 1 + 2)
    3.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from callax import losses
from callax.core import registry
from callax.losses.loss import apply_mask, squeeze_or_expand_to_same_rank
from callax.metrics.metric import Metric


def _divide_no_nan(a: jax.Array, b: jax.Array) -> jax.Array:
    safe = jnp.where(b != 0, b, 1)
    return jnp.where(b != 0, a / safe, 0).astype(jnp.result_type(a, b))


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Per-sample values (and weights) from values of any rank and a weight that
    broadcasts against their leading axes."""
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.Sum()
        >>> float(m(np.array([1.0, 2.0]), sample_weight=np.array([1.0, 0.5])))
        2.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = reduce_to_samplewise_values(values, sample_weight, jnp.sum, self.dtype)
        self.total.assign(self.total.value + jnp.sum(values))

    def result(self) -> jax.Array:
        return self.total.value


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count``."""

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, jnp.mean, self.dtype
        )
        self.total.assign(self.total.value + jnp.sum(values))
        if sample_weight is not None:
            num = jnp.sum(sample_weight)
        else:
            num = values.shape[0] if values.ndim >= 1 else 1
        self.count.assign(self.count.value + jnp.asarray(num, self.dtype))

    def result(self) -> jax.Array:
        return _divide_no_nan(self.total.value, self.count.value)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Args:
        fn: a per-sample function, such as ``metrics.binary_accuracy`` or a loss function.
        name, dtype: as for ``Metric``.
        **kwargs: keyword arguments passed to ``fn``.

    Example:
        >>> import numpy as np
        >>> from callax import losses, metrics
        >>> m = metrics.MeanMetricWrapper(losses.mean_absolute_error, name="mae")
        >>> float(m(np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 2.0]])))
        1.0
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs: Any):
        if not callable(fn):
            raise TypeError(
                f"MeanMetricWrapper: fn must be a callable fn(y_true, y_pred); received {fn!r}."
            )
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in losses._FUNCTIONS or isinstance(fn, losses.Loss):
            self._direction = "down"

    def _mirror_fn_kwargs(self) -> None:
        """For the built-in metrics: the function's arguments as attributes too
        (``metric.from_logits``), as Keras's built-in metrics have them."""
        for key, value in self._fn_kwargs.items():
            setattr(self, key, value)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask_fn = getattr(self._fn, "mask_fn", None)
        if mask_fn is not None:  # e.g. sparse cross-entropy's ignore_class
            mask = mask_fn(y_true, y_pred, **self._fn_kwargs)
            sample_weight = apply_mask(sample_weight, mask, self.dtype, "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:  # the metrics' registry names the function
            config["fn"] = registry.family("metric").serialize_function(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        config = dict(config)
        if cls is MeanMetricWrapper and "fn" in config and not callable(config["fn"]):
            config["fn"] = registry.family("metric").function_from_config(config["fn"])
        return cls(**config)


class LossMean(MeanMetricWrapper):
    """The mean of one fixed loss function, lower is better (``MeanSquaredError``,
    ``Hinge``, ``KLDivergence``...): a subclass sets
    ``__init__ = loss_mean_init(fn, default_name)``, and its config is just ``name``
    and ``dtype``, as Keras writes it.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> class MeanL1(LossMean):
        ...     __init__ = loss_mean_init(losses.mean_absolute_error, "mean_l1")
        >>> m = MeanL1()
        >>> float(m(np.zeros((2, 2)), np.ones((2, 2)))), m.get_config()
        (1.0, {'name': 'mean_l1', 'dtype': 'float32'})
    """

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


def loss_mean_init(fn: Callable, default_name: str) -> Callable:
    """An ``__init__(self, name=default_name, dtype=None)`` for a :class:`LossMean`
    of ``fn`` (a real signature, with Keras's default name)."""

    def __init__(self, name: str = default_name, dtype: Any = None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)
        self._direction = "down"

    return __init__
