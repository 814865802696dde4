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
        **kwargs: the base arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).
    """

    def __init__(
        self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
        weight_decay: float | None = None, clipnorm: float | None = None,
        clipvalue: float | None = None, global_clipnorm: float | None = None,
        use_ema: bool = False, ema_momentum: float = 0.99,
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
        self.rho = rho
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
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

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
