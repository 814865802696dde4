"""Adam and AdamW, as Keras 3 computes them.

Keras folds the bias corrections into the step size and adds ``epsilon`` to the
uncorrected ``sqrt(v)``: ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
optax's ``scale_by_adam`` adds ``eps`` to the corrected ``sqrt(v_hat)`` instead,
a different optimizer for small ``v``: the small update is written here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0, -1.0]))
    >>> optimizers.Adam(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
    >>> print(w.numpy())   # the first Adam step moves each weight by about lr
    [ 0.9 -0.9]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.optimizers.base_optimizer import Optimizer, map_tensors


class Adam(Optimizer):
    """Adam (Kingma & Ba), optionally AMSGrad.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: decay rates of the first and second moment estimates.
        epsilon: added to ``sqrt(v)`` (Keras's placement: before bias correction).
        amsgrad: use the running maximum of ``v`` (AMSGrad).
        **kwargs: the base arguments (``weight_decay``, ``clipnorm``, ``use_ema``...).
    """

    def __init__(
        self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
        epsilon: float = 1e-7, amsgrad: bool = False, weight_decay: float | None = None,
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
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._add_slots(variables, "momentum", "velocity")
        if self.amsgrad:
            self._add_slots(variables, "velocity_hat")

    def _update_step(self, grads, params, state, lr, step):
        b1, b2 = self.beta_1, self.beta_2

        def one(g, p, m, v, v_max):
            dtype = p.dtype
            g = g.astype(dtype)
            t = (step + 1).astype(dtype)
            alpha = lr.astype(dtype) * jnp.sqrt(1 - jnp.power(jnp.asarray(b2, dtype), t))
            alpha = alpha / (1 - jnp.power(jnp.asarray(b1, dtype), t))
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            if v_max is not None:
                v_max = jnp.maximum(v_max, v)
            denom = jnp.sqrt(v if v_max is None else v_max) + self.epsilon
            return p - (m * alpha) / denom, m, v, v_max

        v_hat = state.get("velocity_hat", [None] * len(params))
        new_params, m, v, v_hat = map_tensors(
            one, grads, params, state["momentum"], state["velocity"], v_hat
        )
        new_state = {"momentum": m, "velocity": v}
        if self.amsgrad:
            new_state["velocity_hat"] = v_hat
        return new_params, new_state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= w * weight_decay * lr`` before the
    Adam step); ``weight_decay`` defaults to 0.004 as in Keras.

    Example:
        >>> AdamW().weight_decay
        0.004
    """

    def __init__(
        self, learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
        beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
        clipnorm: float | None = None, clipvalue: float | None = None,
        global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None, name: str | None = None, **kwargs: Any,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        if self.weight_decay is None:
            raise ValueError(
                f"AdamW {self.name!r}: `weight_decay` must be a float; received weight_decay=None."
            )
