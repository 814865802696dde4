"""Schedule-free AdamW (Defazio et al., 2024), as Keras 3 computes it.

Instead of a decaying schedule, the optimizer keeps a base sequence ``z`` (the
``momentum`` slot, starting at the weights) moved by Adam-scaled gradient
steps, an average ``x`` of it, and evaluates gradients at the interpolation
``y = (1 - beta_1) z + beta_1 x``, which is what the weights hold. Per step
``t``: ``v += (g^2 - v)(1 - beta_2)``; ``z -= lr g / (sqrt(v / (1 - beta_2^t)) + eps)``;
``x = (1 - 1/t) x + z / t`` (``x`` recovered from the weights); ``w = y``. A linear
warm-up over ``warmup_steps`` scales ``lr``.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0, -1.0]))
    >>> optimizers.ScheduleFreeAdamW(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
    >>> print(w.numpy().round(4))   # at t = 1 the average is z: the weights move by lr
    [ 0.9 -0.9]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.optimizers.adam import AdamFamily
from callax.optimizers.base_optimizer import map_tensors


class ScheduleFreeAdamW(AdamFamily):
    """AdamW without a learning-rate schedule (interpolated averaging).

    Args:
        learning_rate: float, schedule or callable (default 0.0025).
        beta_1: the interpolation between the base sequence and its average (default 0.9).
        beta_2: decay of the second-moment estimate (default 0.999).
        epsilon: added to the bias-corrected ``sqrt(v)`` (default 1e-8).
        warmup_steps: steps of linear learning-rate warm-up (default 0).
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters(AdamFamily._Hyperparameters):  # Keras's defaults differ
        learning_rate: Any = 0.0025
        epsilon: float = 1e-8
        warmup_steps: int = 0

    def _build_slots(self, variables):
        super()._build_slots(variables)
        for z, var in zip(self._slots["momentum"], variables):
            z.assign(var.value)  # the base sequence starts at the weights

    def _update_step(self, grads, params, state, lr, step):
        def one(g, w, z, v):
            dtype = w.dtype
            g, rate = g.astype(dtype), lr.astype(dtype)
            t = (step + 1).astype(dtype)
            b1, b2 = jnp.asarray(self.beta_1, dtype), jnp.asarray(self.beta_2, dtype)
            if self.warmup_steps > 0:
                rate = rate * jnp.minimum(t / self.warmup_steps, 1.0)
            v = v + (jnp.square(g) - v) * (1 - b2)
            new_z = z - rate * g / (jnp.sqrt(v / (1 - jnp.power(b2, t))) + self.epsilon)
            x = (w - (1 - b1) * z) / b1  # the average, from y = (1 - b1) z + b1 x
            x = (1.0 - 1.0 / t) * x + new_z / t
            return (1 - b1) * new_z + b1 * x, new_z, v

        new_params, z, v = map_tensors(one, grads, params, state["momentum"], state["velocity"])
        return new_params, {"momentum": z, "velocity": v}
