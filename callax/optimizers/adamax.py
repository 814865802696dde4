"""Adamax (Adam with the infinity norm), as Keras 3 computes it.

Keras's norm is ``u = max(b2 * u, |g|)`` and the step ``lr * m / ((1 - b1^t) * (u + eps))``;
optax's ``scale_by_adamax`` puts ``eps`` inside the max, so the small update is written here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> optimizers.Adamax(learning_rate=0.1).apply([np.array([2.0])], [w])
    >>> print(w.numpy())
    [0.9]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.optimizers.base_optimizer import Optimizer, map_tensors


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, section 7).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment.
        beta_2: decay rate of the infinity norm.
        epsilon: added to the norm.
        **kwargs: the base arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).
    """

    def __init__(
        self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._add_slots(variables, "momentum", "norm")

    def _update_step(self, grads, params, state, lr, step):
        b1, b2 = self.beta_1, self.beta_2

        def one(g, p, m, u):
            dtype = p.dtype
            g = g.astype(dtype)
            correction = 1 - jnp.power(jnp.asarray(b1, dtype), (step + 1).astype(dtype))
            m = m + (g - m) * (1 - b1)
            u = jnp.maximum(b2 * u, jnp.abs(g))
            return p - (lr.astype(dtype) * m) / (correction * (u + self.epsilon)), m, u

        new_params, m, u = map_tensors(one, grads, params, state["momentum"], state["norm"])
        return new_params, {"momentum": m, "norm": u}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
