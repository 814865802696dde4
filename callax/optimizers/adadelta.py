"""Adadelta on optax's ``scale_by_adadelta``: Keras's formula and state exactly
(``accumulated_grad`` = optax's ``e_g``, ``accumulated_delta_var`` = ``e_x``),
the step then scaled by the learning rate.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> optimizers.Adadelta(learning_rate=1.0).apply([np.array([1.0])], [w])
    >>> print(w.numpy())   # the first step is tiny: sqrt(eps) / sqrt(0.05 + eps)
    [0.9985858]
"""

from __future__ import annotations

from typing import Any

import optax

from callax.optimizers.base_optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler): step sizes from running averages of squared gradients and
    squared updates.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay rate of both running averages.
        epsilon: added inside the square roots.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        rho: float = 0.95
        epsilon: float = 1e-7

    def _build_slots(self, variables):
        self._add_slots(variables, "accumulated_grad", "accumulated_delta_var")

    def _update_step(self, grads, params, state, lr, step):
        grads = [g.astype(p.dtype) for g, p in zip(grads, params)]
        transform = optax.scale_by_adadelta(rho=self.rho, eps=self.epsilon)
        ada_state = optax.ScaleByAdaDeltaState(
            e_g=state["accumulated_grad"], e_x=state["accumulated_delta_var"]
        )
        deltas, ada_state = transform.update(grads, ada_state)
        new_params = [p - lr.astype(p.dtype) * d for p, d in zip(params, deltas)]
        return new_params, {
            "accumulated_grad": ada_state.e_g,
            "accumulated_delta_var": ada_state.e_x,
        }
