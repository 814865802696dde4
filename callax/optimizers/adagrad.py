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
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        initial_accumulator_value: float = 0.1
        epsilon: float = 1e-7

    def _build_slots(self, variables):
        self._add_slots(variables, "accumulator", initializer=self.initial_accumulator_value)

    def _update_step(self, grads, params, state, lr, step):
        grads = [g.astype(p.dtype) for g, p in zip(grads, params)]
        transform = optax.scale_by_rss(self.initial_accumulator_value, eps=self.epsilon)
        scaled, rss = transform.update(grads, optax.ScaleByRssState(state["accumulator"]))
        new_params = [p - lr.astype(p.dtype) * s for p, s in zip(params, scaled)]
        return new_params, {"accumulator": rss.sum_of_squares}
