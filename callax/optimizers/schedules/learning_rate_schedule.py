"""Learning-rate schedules: ``schedule(step) -> learning rate``, Keras 3 names and formulas.

An optimizer given a schedule calls it with its iteration count on every update,
inside the compiled step (every schedule here is a pure ``jax.numpy`` function of
``step``, so a traced step costs no recompilation).

Example:
    >>> from callax.optimizers import schedules
    >>> lr = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(lr(10)), 6), round(float(lr(20)), 6)
    (0.05, 0.025)
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import jax.numpy as jnp

from callax.core import config as _config
from callax.core.variable import unwrap
from callax.optimizers.declared_arguments import declared_init


def _as_float(x: Any) -> jnp.ndarray:
    """A Python number becomes floatx (as Keras converts it); arrays keep their dtype."""
    x = unwrap(x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return jnp.asarray(x, dtype=_config.floatx())
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(_config.floatx())


def _check_positive(schedule: Any, arg: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(
            f"{type(schedule).__name__}: argument `{arg}` must be > 0, received {arg}={value!r}."
        )


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, lr):
        ...         self.lr = lr
        ...     def __call__(self, step):
        ...         return self.lr * 0.5 ** (step // 10)
        ...     def get_config(self):
        ...         return {"lr": self.lr}
        >>> float(Halving(1.0)(25))
        0.25
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override `get_config()` "
            "to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


class _ArgumentsSchedule(LearningRateSchedule):
    """The built-in schedules: each declares its constructor arguments once, in a
    nested class ``_Arguments`` (``name: annotation = default``, in signature order;
    see :mod:`callax.optimizers.declared_arguments`). They become the attributes of
    the same names and the config, in that order."""

    _config_args: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "_Arguments" in cls.__dict__:
            cls.__init__ = declared_init(cls, cls._Arguments, LearningRateSchedule)
            cls._config_args = tuple(inspect.signature(cls).parameters)

    def get_config(self) -> dict:
        return {arg: getattr(self, arg) for arg in self._config_args}


class _Decay(_ArgumentsSchedule):
    """The schedules that decay ``initial_learning_rate`` over ``decay_steps`` (their
    first two arguments; ``decay_steps`` must be positive)."""

    class _Arguments:
        initial_learning_rate: float
        decay_steps: int

    def _post_init(self) -> None:
        _check_positive(self, "decay_steps", self.decay_steps)


class _StepDecay(_Decay):
    """ExponentialDecay and InverseTimeDecay: the same arguments, and the rate
    applied to ``p = step / decay_steps`` (floored when ``staircase``); a
    subclass says how (:meth:`_decayed`)."""

    class _Arguments(_Decay._Arguments):
        decay_rate: float
        staircase: bool = False
        name: str | None = None

    def _post_init(self) -> None:
        super()._post_init()
        self.name = self.name or type(self).__name__

    def __call__(self, step: Any) -> Any:
        lr = _as_float(self.initial_learning_rate)
        p = jnp.asarray(unwrap(step)).astype(lr.dtype) / jnp.asarray(self.decay_steps, lr.dtype)
        if self.staircase:
            p = jnp.floor(p)
        return self._decayed(lr, jnp.asarray(self.decay_rate, lr.dtype), p)

    def _decayed(self, lr: Any, rate: Any, p: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define `_decayed(lr, rate, p)`.")


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``
    (the exponent floored when ``staircase``).

    Example:
        >>> s = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
        >>> [float(s(i)) for i in range(4)]
        [1.0, 1.0, 0.5, 0.5]
    """

    def _decayed(self, lr: Any, rate: Any, p: Any) -> Any:
        return lr * jnp.power(rate, p)


class PiecewiseConstantDecay(_ArgumentsSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Example:
        >>> s = PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
        >>> [float(s(i)) for i in (0, 2, 3, 5)]
        [1.0, 1.0, 0.5, 0.1]
    """

    class _Arguments:
        boundaries: list
        values: list
        name: str = "PiecewiseConstant"

    def _post_init(self) -> None:
        boundaries, values = self.boundaries, self.values
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: `boundaries` must have one element fewer than "
                f"`values`; received boundaries={boundaries!r} (length {len(boundaries)}) and "
                f"values={values!r} (length {len(values)})."
            )

    def __call__(self, step: Any) -> Any:
        step = jnp.asarray(unwrap(step))
        first = self.values[0]
        dtype = _as_float(first).dtype if isinstance(first, float) else jnp.asarray(first).dtype
        bounds = [jnp.asarray(b).astype(step.dtype) for b in self.boundaries]
        values = [jnp.asarray(v, dtype) for v in self.values]
        # Index of the interval holding `step`: how many boundaries it has passed.
        index = sum((step > b).astype(jnp.int32) for b in bounds)
        return jnp.stack(values)[index]


class PolynomialDecay(_Decay):
    """Decays from ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps`` as ``(1 - step / decay_steps) ** power``; with ``cycle`` the
    horizon grows to the next multiple of ``decay_steps`` instead of holding the end value.

    Example:
        >>> s = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
        >>> [float(s(i)) for i in (0, 2, 4, 8)]
        [1.0, 0.5, 0.0, 0.0]
    """

    class _Arguments(_Decay._Arguments):
        end_learning_rate: float = 0.0001
        power: float = 1.0
        cycle: bool = False
        name: str = "PolynomialDecay"

    def __call__(self, step: Any) -> Any:
        lr = _as_float(self.initial_learning_rate)
        dtype = lr.dtype
        end = jnp.asarray(self.end_learning_rate, dtype)
        step = jnp.asarray(unwrap(step)).astype(dtype)
        horizon = jnp.asarray(self.decay_steps, dtype)
        if self.cycle:
            # The first multiple of decay_steps at or after `step` (1 at step 0).
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / self.decay_steps))
            horizon = horizon * multiplier.astype(dtype)
        else:
            step = jnp.minimum(step, horizon)
        p = step / horizon
        return (lr - end) * jnp.power(1 - p, jnp.asarray(self.power, dtype)) + end


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``
    (the ratio floored when ``staircase``).

    Example:
        >>> s = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
        >>> [float(s(i)) for i in range(3)]
        [1.0, 0.5, 0.3333333432674408]
    """

    def _decayed(self, lr: Any, rate: Any, p: Any) -> Any:
        return lr / (1 + rate * p)


def _cosine(fraction: Any, alpha: Any) -> Any:
    """``1`` at ``fraction=0`` down to ``alpha`` at ``fraction=1``, along half a cosine."""
    cosine = 0.5 * (1.0 + jnp.cos(jnp.asarray(math.pi, fraction.dtype) * fraction))
    return (1 - alpha) * cosine + alpha


class CosineDecay(_Decay):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target``
    over ``warmup_steps``, then cosine decay over ``decay_steps`` down to
    ``alpha`` times the peak (the peak is ``warmup_target`` when given, else
    ``initial_learning_rate``).

    Example:
        >>> s = CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=10)
        >>> [round(float(s(i)), 3) for i in (0, 5, 10, 15, 20, 30)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    class _Arguments(_Decay._Arguments):
        alpha: float = 0.0
        name: str = "CosineDecay"
        warmup_target: float | None = None
        warmup_steps: int = 0

    def __call__(self, step: Any) -> Any:
        lr = _as_float(self.initial_learning_rate)
        dtype = lr.dtype
        decay_steps = jnp.asarray(self.decay_steps, dtype)
        step = jnp.asarray(unwrap(step)).astype(dtype)
        if self.warmup_target is None:
            step = jnp.minimum(step, decay_steps)
            return lr * _cosine(step / decay_steps, self.alpha)
        target = jnp.asarray(self.warmup_target, dtype)
        warmup_steps = jnp.asarray(self.warmup_steps, dtype)
        step = jnp.minimum(step, decay_steps + warmup_steps)
        warming = (target - lr) * (step / warmup_steps) + lr
        decaying = target * _cosine((step - warmup_steps) / decay_steps, self.alpha)
        # Both branches are cheap scalars: select rather than branch (no lax.cond).
        return jnp.where(step < warmup_steps, warming, decaying)


class CosineDecayRestarts(_ArgumentsSchedule):
    """Cosine decay with warm restarts (SGDR): the first period lasts
    ``first_decay_steps``, each next one ``t_mul`` times longer and starting
    from ``m_mul`` times the previous peak.

    Example:
        >>> s = CosineDecayRestarts(1.0, first_decay_steps=4, t_mul=1.0)
        >>> [round(float(s(i)), 3) for i in (0, 2, 4, 6)]
        [1.0, 0.5, 1.0, 0.5]
    """

    class _Arguments:
        initial_learning_rate: float
        first_decay_steps: int
        t_mul: float = 2.0
        m_mul: float = 1.0
        alpha: float = 0.0
        name: str = "SGDRDecay"

    def _post_init(self) -> None:
        _check_positive(self, "first_decay_steps", self.first_decay_steps)

    def __call__(self, step: Any) -> Any:
        lr = _as_float(self.initial_learning_rate)
        dtype = lr.dtype
        t_mul = jnp.asarray(self.t_mul, dtype)
        fraction = jnp.asarray(unwrap(step)).astype(dtype) / jnp.asarray(
            self.first_decay_steps, dtype
        )
        if self.t_mul == 1.0:
            restart = jnp.floor(fraction)
            fraction = fraction - restart
        else:
            # Periods grow geometrically: restart i starts at (1 - t_mul**i) / (1 - t_mul).
            restart = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
            start = (1.0 - jnp.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - start) / jnp.power(t_mul, restart)
        peak = jnp.power(jnp.asarray(self.m_mul, dtype), restart)
        cosine = 0.5 * peak * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        alpha = jnp.asarray(self.alpha, dtype)
        return lr * ((1 - alpha) * cosine + alpha)
