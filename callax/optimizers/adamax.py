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

import jax.numpy as jnp

from callax.optimizers.adam import AdamFamily
from callax.optimizers.base_optimizer import map_tensors


class Adamax(AdamFamily):
    """Adamax (Kingma & Ba, section 7).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment.
        beta_2: decay rate of the infinity norm.
        epsilon: added to the norm.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    def _build_slots(self, variables):
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
