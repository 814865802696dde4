"""Lion on optax's ``scale_by_lion``: Keras's formula and state exactly
(``w -= lr * sign(b1 * m + (1 - b1) * g)``; ``m = b2 * m + (1 - b2) * g``).

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0, 1.0]))
    >>> optimizers.Lion(learning_rate=0.1).apply([np.array([3.0, -0.01])], [w])
    >>> print(w.numpy())   # every weight moves by exactly lr
    [0.9 1.1]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import optax

from callax.optimizers.base_optimizer import Optimizer


class Lion(Optimizer):
    """Lion (evolved sign momentum, Chen et al. 2023).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: interpolation between momentum and gradient for the sign, in ``(0, 1]``.
        beta_2: decay rate of the momentum.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        beta_1: float = 0.9
        beta_2: float = 0.99

    def _post_init(self):
        if not 0 < self.beta_1 <= 1:
            raise ValueError(
                f"Lion {self.name!r}: `beta_1` must be in (0, 1] (otherwise Lion degenerates "
                f"to SignSGD); received beta_1={self.beta_1!r}."
            )

    def _build_slots(self, variables):
        self._add_slots(variables, "momentum")

    def _update_step(self, grads, params, state, lr, step):
        grads = [g.astype(p.dtype) for g, p in zip(grads, params)]
        # Keras casts the betas to the variable dtype, so `1 - beta` rounds in float32.
        dtype = params[0].dtype
        b1, b2 = jnp.asarray(self.beta_1, dtype), jnp.asarray(self.beta_2, dtype)
        transform = optax.scale_by_lion(b1=b1, b2=b2)
        signs, lion = transform.update(grads, optax.ScaleByLionState(step, state["momentum"]))
        new_params = [p - lr.astype(p.dtype) * s for p, s in zip(params, signs)]
        return new_params, {"momentum": lion.mu}
