"""LAMB (layer-wise adaptive moments), as Keras 3 computes it.

An Adam direction ``u = m_hat / (sqrt(v_hat) + eps)`` (bias-corrected moments),
rescaled per tensor by the trust ratio ``||w|| / ||u||`` (1 when either norm is
0): ``w -= lr * ratio * u``. Weight decay is Keras's decoupled one, applied
before the step. Written out rather than on ``optax.lamb`` so the moment updates
round exactly as Keras's (``m += (g - m) (1 - b1)``).

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([3.0, 4.0]))
    >>> optimizers.Lamb(learning_rate=0.1).apply([np.array([1.0, 1.0])], [w])
    >>> print(w.numpy().round(4))   # |step| = lr * ||w|| * u / ||u||, u = (1, 1)
    [2.6464 3.6464]
"""

from __future__ import annotations

import jax.numpy as jnp

from callax.optimizers.adam import AdamFamily
from callax.optimizers.base_optimizer import map_tensors


class Lamb(AdamFamily):
    """Adam with a per-tensor trust ratio, for large-batch training.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: decay rates of the first and second moment estimates.
        epsilon: added to ``sqrt(v_hat)`` (after bias correction).
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    def _update_step(self, grads, params, state, lr, step):
        b1, b2 = self.beta_1, self.beta_2

        def one(g, w, m, v):
            dtype = w.dtype
            g = g.astype(dtype)
            t = (step + 1).astype(dtype)
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = m / (1.0 - jnp.power(jnp.asarray(b1, dtype), t))
            v_hat = v / (1.0 - jnp.power(jnp.asarray(b2, dtype), t))
            update = m_hat / (jnp.sqrt(v_hat) + self.epsilon)
            w_norm = jnp.sqrt(jnp.sum(jnp.square(w)))
            u_norm = jnp.sqrt(jnp.sum(jnp.square(update)))
            safe = (w_norm > 0) & (u_norm > 0)
            ratio = jnp.where(safe, w_norm / jnp.where(safe, u_norm, 1.0), 1.0)
            return w - ratio * lr.astype(dtype) * update, m, v

        new_params, m, v = map_tensors(one, grads, params, state["momentum"], state["velocity"])
        return new_params, {"momentum": m, "velocity": v}
