"""The ``Loss`` base class, the function wrapper, and reductions.

A loss object turns ``(y_true, y_pred, sample_weight)`` into one scalar:
``call`` gives a value per sample (the last axis already reduced), sample
weights multiply those values, and the ``reduction`` collapses them.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> class AbsoluteError(losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return abs(y_true - y_pred).mean(axis=-1)
    >>> loss = AbsoluteError()
    >>> float(loss(np.zeros((2, 3)), np.ones((2, 3)), sample_weight=np.array([1.0, 0.0])))
    0.5

Everything is ``jax.numpy``, so losses run inside ``jax.jit`` and ``jax.grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config, registry
from callax.core.names import to_snake_case, unique_name

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction: Any, owner: str = "Loss") -> str | None:
    """Checks ``reduction`` is one Keras accepts and returns it."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{owner}: invalid reduction. Expected one of {list(REDUCTIONS)}; "
            f"received reduction={reduction!r}."
        )
    return reduction


def _compute_dtype(dtype: Any) -> str:
    """The computation dtype for a dtype or dtype policy argument (default floatx)."""
    if dtype is None:
        return config.floatx()
    dtype = getattr(dtype, "compute_dtype", dtype)
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_") :]
    return jnp.dtype(dtype).name


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True):
    """Makes the ranks of ``x1`` and ``x2`` equal when they differ by one
    trailing axis of size 1 (``(B, 1)`` labels against ``(B,)`` predictions).

    A rank-1 partner is expanded rather than the other squeezed, as in Keras.
    """
    r1, r2 = jnp.ndim(x1), jnp.ndim(x2)
    if r1 == r2 + 1 and jnp.shape(x1)[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    elif r2 == r1 + 1 and jnp.shape(x2)[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def _align_weight(values: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Aligns a weight with ``values`` on the leading (batch) axes.

    After Keras's squeeze/expand step, a lower-rank weight (``(B,)`` against
    ``(B, T)`` values) gets trailing unit axes, so it scales samples rather than
    broadcasting against the last axis.
    """
    values, weight = squeeze_or_expand_to_same_rank(values, weight)
    if 0 < weight.ndim < values.ndim:
        weight = jnp.reshape(weight, weight.shape + (1,) * (values.ndim - weight.ndim))
    return values, weight


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean ``mask`` into ``sample_weight``.

    For the mean reductions, valid entries get weight ``total / valid`` so that
    dividing by the number of entries averages over the valid ones only.
    """
    if mask is None:
        return sample_weight
    mask = jnp.asarray(mask)
    if reduction in ("sum_over_batch_size", "mean"):
        total = jnp.asarray(mask.size, dtype)
        valid = jnp.sum(mask.astype(dtype))
        scale = jnp.where(valid > 0, total / jnp.where(valid > 0, valid, 1), 0)
        float_mask = jnp.where(mask.astype(bool), scale, 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = _align_weight(float_mask, jnp.asarray(sample_weight, dtype))
    return sample_weight * float_mask


def reduce_values(values: jax.Array, sample_weight=None, reduction="sum_over_batch_size"):
    """Collapses weighted per-sample values to a scalar as ``reduction`` says."""
    if reduction in (None, "none") or values.ndim == 0 or values.size == 0:
        return values
    total = jnp.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = jnp.sum(jnp.broadcast_to(sample_weight, values.shape)).astype(total.dtype)
    else:
        divisor = jnp.asarray(values.size, total.dtype)
    # divide-no-nan: an all-zero weight gives a zero loss, not NaN
    return jnp.where(divisor != 0, total / jnp.where(divisor != 0, divisor, 1), 0).astype(
        total.dtype
    )


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    """Weights per-sample ``values`` by ``sample_weight`` (and ``mask``), then reduces."""
    reduction = standardize_reduction(reduction)
    dtype = _compute_dtype(dtype)
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = _align_weight(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: subclass and implement ``call(y_true, y_pred)``.

    Args:
        name: the loss's name (default: the class name in snake case).
        reduction: ``"sum_over_batch_size"`` (default; sum divided by the number
            of entries), ``"sum"``, ``"mean"`` (same as the default),
            ``"mean_with_sample_weight"`` (sum divided by the sum of the weights),
            or ``"none"``/``None`` (per-sample values).
        dtype: the computation dtype (default floatx).

    ``loss(y_true, y_pred, sample_weight=None)`` returns the reduced loss;
    ``sample_weight`` may be a scalar, one weight per sample ``(B,)``, or a weight
    per entry of the per-sample values. A keyword-only ``mask`` (boolean, shaped
    like the per-sample values) excludes entries, as Keras does for masked outputs.
    """

    def __init__(
        self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype=None
    ):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction, f"{type(self).__name__} {self.name!r}")
        self._dtype = _compute_dtype(dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *, mask: Any = None):
        y_pred = jax.tree.map(lambda x: jnp.asarray(x, self._dtype), y_pred)
        y_true = jax.tree.map(lambda x: jnp.asarray(x, self._dtype), y_true)
        losses = self.call(y_true, y_pred)
        own_mask = self.compute_mask(y_true, y_pred)
        if own_mask is not None:
            mask = own_mask if mask is None else jnp.logical_and(jnp.asarray(mask, bool), own_mask)
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction,
            dtype=self._dtype,
        )  # fmt: skip

    def call(self, y_true: Any, y_pred: Any) -> jax.Array:
        """Per-sample loss values (subclasses implement this)."""
        raise NotImplementedError(
            f"{type(self).__name__} {self.name!r} must implement call(y_true, y_pred) "
            "returning per-sample loss values."
        )

    def compute_mask(self, y_true: Any, y_pred: Any) -> jax.Array | None:
        """A boolean mask over the per-sample values to exclude, or ``None``.

        ``SparseCategoricalCrossentropy(ignore_class=...)`` uses it so that
        ignored entries count neither in the sum nor in the divisor.
        """
        return None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs) -> per-sample values``.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> loss = losses.LossFunctionWrapper(losses.huber, delta=0.5)
        >>> float(loss(np.zeros((1, 2)), np.array([[0.2, 2.0]])))
        0.4475...
    """

    def __init__(
        self,
        fn: Callable,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype=None,
        **kwargs: Any,
    ):
        if not callable(fn):
            raise TypeError(
                f"LossFunctionWrapper: fn must be a callable fn(y_true, y_pred); received {fn!r}."
            )
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        # (B,) labels against (B, 1) outputs: align ranks as Keras does before the function
        if isinstance(y_true, jax.Array) and isinstance(y_pred, jax.Array):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def compute_mask(self, y_true, y_pred):
        # a function may say which entries it ignores (sparse CE's ignore_class)
        mask_fn = getattr(self.fn, "mask_fn", None)
        return None if mask_fn is None else mask_fn(y_true, y_pred, **self._fn_kwargs)

    def _mirror_fn_kwargs(self) -> None:
        """For the built-in losses: the function's arguments as attributes too
        (``loss.from_logits``), as Keras's built-in losses have them."""
        for key, value in self._fn_kwargs.items():
            setattr(self, key, value)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:  # the losses' registry names the function
            config["fn"] = registry.family("loss").serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        config = dict(config)
        if cls is LossFunctionWrapper and "fn" in config:
            config["fn"] = registry.family("loss").deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        if type(self) is LossFunctionWrapper:
            return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"
        return super().__repr__()


def loss_function_init(fn: Callable, default_name: str) -> Callable:
    """An ``__init__(self, reduction="sum_over_batch_size", name=default_name,
    dtype=None)`` for a built-in :class:`LossFunctionWrapper` of ``fn`` that takes
    no other argument (a real signature, with Keras's default name).

    Example:
        >>> import inspect
        >>> from callax import losses
        >>> str(inspect.signature(losses.Hinge))
        "(reduction: 'str | None' = 'sum_over_batch_size', name: 'str' = 'hinge', dtype: 'Any' = None)"
        >>> losses.Hinge(name="h").get_config()
        {'name': 'h', 'reduction': 'sum_over_batch_size'}
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = default_name,
        dtype: Any = None,
    ):
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, dtype=dtype)

    return __init__
