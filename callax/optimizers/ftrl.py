"""FTRL-Proximal ("Follow The Regularized Leader"), as Keras 3 computes it.

Per weight: ``n += g^2``; ``z += g_s - (n_new^-p - n^-p) / lr * w`` (``g_s`` the
gradient plus the L2-shrinkage term ``2 * l2_shrinkage * w``); then
``w = (clip(z, -l1, l1) - z) / (n_new^-p / lr + 2 * (l2 + beta / (2 lr)))``.
optax has no FTRL, so the step is written out here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([0.0, 0.0]))
    >>> opt = optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    >>> opt.apply([np.array([0.5, 0.005])], [w])
    >>> print(w.numpy().round(4))   # the small gradient stays inside the L1 ball: exactly 0
    [-0.0828  0.    ]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.optimizers.base_optimizer import Optimizer, map_tensors


class Ftrl(Optimizer):
    """FTRL-Proximal with L1, L2 and L2-shrinkage regularization (sparse, online models).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: ``-p`` in the step size ``lr / n^p``; ``<= 0`` (default -0.5).
        initial_accumulator_value: starting value of the squared-gradient sums (``>= 0``).
        l1_regularization_strength, l2_regularization_strength: ``>= 0``.
        l2_shrinkage_regularization_strength: an L2 penalty on the gradient (``>= 0``).
        beta: adds ``beta / (2 lr)`` to the L2 strength (default 0).
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        learning_rate_power: float = -0.5
        initial_accumulator_value: float = 0.1
        l1_regularization_strength: float = 0.0
        l2_regularization_strength: float = 0.0
        l2_shrinkage_regularization_strength: float = 0.0
        beta: float = 0.0

    def _post_init(self):
        checked = (
            "initial_accumulator_value",
            "learning_rate_power",
            "l1_regularization_strength",
            "l2_regularization_strength",
            "l2_shrinkage_regularization_strength",
        )
        for arg in checked:  # the power must be <= 0, the rest >= 0 (Keras's checks)
            value, power = getattr(self, arg), arg == "learning_rate_power"
            if (-value if power else value) < 0.0:
                expected = "negative or zero" if power else "positive or zero"
                raise ValueError(
                    f"Ftrl {self.name!r}: `{arg}` must be {expected}; received {arg}={value}."
                )

    def _build_slots(self, variables):
        accumulators, linears = self.add_optimizer_variables(
            variables, ["accumulator", "linear"], [self.initial_accumulator_value, "zeros"]
        )
        self._slots.update(accumulator=accumulators, linear=linears)

    def _update_step(self, grads, params, state, lr, step):
        power = -self.learning_rate_power
        l1, shrink = self.l1_regularization_strength, self.l2_shrinkage_regularization_strength

        def one(g, w, n, z):
            dtype = w.dtype
            g, rate = g.astype(dtype), lr.astype(dtype)
            l2 = self.l2_regularization_strength + self.beta / (2.0 * rate)
            new_n = n + jnp.square(g)
            sigma = (jnp.power(new_n, power) - jnp.power(n, power)) / rate
            z = z + (g + 2 * shrink * w) - sigma * w
            quadratic = jnp.power(new_n, power) / rate + 2 * l2
            return (jnp.clip(z, -l1, l1) - z) / quadratic, new_n, z

        new_params, n, z = map_tensors(one, grads, params, state["accumulator"], state["linear"])
        return new_params, {"accumulator": n, "linear": z}
