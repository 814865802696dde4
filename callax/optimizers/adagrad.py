"""Adagrad on optax's ``scale_by_rss``: Keras's formula and state exactly
(``acc += g^2``; ``w -= lr * g / sqrt(acc + eps)``, accumulators starting at 0.1).

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> opt = optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
    >>> opt.apply([np.array([3.0])], [w])
    >>> print(w.numpy())   # g / sqrt(g^2) = 1
    [0.9]
"""

from __future__ import annotations

from typing import Any

import optax

from callax.optimizers.base_optimizer import Optimizer


class Adagrad(Optimizer):
    """Per-parameter learning rates scaled by the root of the summed squared gradients.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        initial_accumulator_value: starting value of the accumulators (default 0.1).
        epsilon: added inside the square root.
        **kwargs: the base arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).
    """

    def __init__(
        self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7, weight_decay: float | None = None,
        clipnorm: float | None = None, clipvalue: float | None = None,
        global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None, name: str | None = None, **kwargs: Any,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._add_slots(variables, "accumulator", initializer=self.initial_accumulator_value)

    def _update_step(self, grads, params, state, lr, step):
        grads = [g.astype(p.dtype) for g, p in zip(grads, params)]
        transform = optax.scale_by_rss(self.initial_accumulator_value, eps=self.epsilon)
        scaled, rss = transform.update(grads, optax.ScaleByRssState(state["accumulator"]))
        new_params = [p - lr.astype(p.dtype) * s for p, s in zip(params, scaled)]
        return new_params, {"accumulator": rss.sum_of_squares}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
