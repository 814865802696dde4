"""Nadam (Adam with Nesterov momentum), as Keras 3 computes it.

Keras follows Dozat's formulation with a momentum schedule
``u_t = b1 * (1 - 0.5 * 0.96^t)`` and keeps the running product of the ``u_t`` as
one scalar state variable (``u_product``, the last of ``optimizer.variables``;
Keras leaves it unnamed). optax's ``nadam`` is a different formulation, so the
update is written here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> opt = optimizers.Nadam(learning_rate=0.1)
    >>> opt.apply([np.array([1.0])], [w])
    >>> [v.name for v in opt.variables]
    ['iteration', 'learning_rate', 'variable_momentum', 'variable_velocity', 'u_product']
"""

from __future__ import annotations

import jax.numpy as jnp

from callax.core import config
from callax.optimizers.adam import AdamFamily
from callax.optimizers.base_optimizer import map_tensors


class Nadam(AdamFamily):
    """Nadam (Dozat, 2016).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: decay rates of the first and second moment estimates.
        epsilon: added to ``sqrt(v_hat)``.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    def _build_slots(self, variables):
        variables = list(variables)
        dtype = variables[0].dtype if variables else config.floatx()
        self._add_slots(variables, "momentum", "velocity")
        self._scalars["u_product"] = self.add_variable((), 1.0, dtype=dtype, name="u_product")

    def _update_step(self, grads, params, state, lr, step):
        u_product = state["u_product"]
        dtype = u_product.dtype
        u_product = (
            u_product * self.beta_1 * (1.0 - 0.5 * jnp.power(0.96, (step + 1).astype(dtype)))
        )

        def one(g, p, m, v):
            dt = p.dtype
            g = g.astype(dt)
            t = (step + 1).astype(dt)
            decay = jnp.asarray(0.96, dt)
            # Keras casts the betas to the variable dtype first, so `1 - b2` rounds
            # in float32 (0.0010000467, not 0.001): a 5e-5 relative difference.
            b1, b2 = jnp.asarray(self.beta_1, dt), jnp.asarray(self.beta_2, dt)
            u_t = b1 * (1.0 - 0.5 * jnp.power(decay, t))
            u_next = b1 * (1.0 - 0.5 * jnp.power(decay, t + 1))
            prod_t = u_product.astype(dt)
            prod_next = prod_t * u_next
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = u_next * m / (1 - prod_next) + (1 - u_t) * g / (1 - prod_t)
            v_hat = v / (1 - jnp.power(b2, t))
            return p - (m_hat * lr.astype(dt)) / (jnp.sqrt(v_hat) + self.epsilon), m, v

        new_params, m, v = map_tensors(one, grads, params, state["momentum"], state["velocity"])
        return new_params, {"momentum": m, "velocity": v, "u_product": u_product}
