"""RMSprop on optax's ``scale_by_rms`` / ``scale_by_stddev``, with Keras's momentum.

optax's transforms compute exactly Keras's scaling (``g / sqrt(v + eps)``,
``epsilon`` inside the square root; centered: ``g / sqrt(v - mean(g)^2 + eps)``)
and their state is Keras's ``velocity`` and ``average_gradient``. Keras's
momentum accumulates the learning-rate-scaled step (``m = momentum * m + lr * step``),
written here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> optimizers.RMSprop(learning_rate=0.01, rho=0.0).apply([np.array([4.0])], [w])
    >>> print(w.numpy())   # rho=0: v = g^2, so the step is lr * sign(g)
    [0.99]
"""

from __future__ import annotations

from typing import Any

import optax

from callax.optimizers.base_optimizer import Optimizer


class RMSprop(Optimizer):
    """Divides the gradient by a running root-mean-square of recent gradients.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay of the running average of squared gradients.
        momentum: momentum of the (learning-rate-scaled) steps; ``0`` keeps no state.
        epsilon: added inside the square root.
        centered: normalise by the estimated variance instead of the second moment.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        rho: float = 0.9
        momentum: float = 0.0
        epsilon: float = 1e-7
        centered: bool = False

    def _build_slots(self, variables):
        self._add_slots(variables, "velocity")
        if self.momentum > 0:
            self._add_slots(variables, "momentum")
        if self.centered:
            self._add_slots(variables, "average_gradient")

    def _update_step(self, grads, params, state, lr, step):
        grads = [g.astype(p.dtype) for g, p in zip(grads, params)]
        new_state = {}
        if self.centered:
            transform = optax.scale_by_stddev(decay=self.rho, eps=self.epsilon, eps_in_sqrt=True)
            rms_state = optax.ScaleByRStdDevState(
                mu=state["average_gradient"], nu=state["velocity"]
            )
            scaled, rms_state = transform.update(grads, rms_state)
            new_state["average_gradient"] = rms_state.mu
        else:
            transform = optax.scale_by_rms(decay=self.rho, eps=self.epsilon, eps_in_sqrt=True)
            scaled, rms_state = transform.update(grads, optax.ScaleByRmsState(nu=state["velocity"]))
        new_state["velocity"] = rms_state.nu
        steps = [lr.astype(p.dtype) * s for s, p in zip(scaled, params)]
        if self.momentum > 0:
            steps = [self.momentum * m + s for m, s in zip(state["momentum"], steps)]
            new_state["momentum"] = steps
        return [p - s for p, s in zip(params, steps)], new_state
