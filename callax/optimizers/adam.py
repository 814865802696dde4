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


def adam_step(g, w, m, v, lr, step, beta_1, beta_2, epsilon, v_max=None):
    """Keras's Adam step for one tensor ``w`` at update ``step`` (0-based);
    ``v_max`` is AMSGrad's running maximum of ``v`` (``None``: plain Adam).
    Returns ``(w, m, v, v_max)``. Muon's AdamW fallback takes the same step.

    >>> w, m, v, _ = adam_step(jnp.ones(1), jnp.zeros(1), jnp.zeros(1), jnp.zeros(1),
    ...                        jnp.asarray(0.1), jnp.asarray(0), 0.9, 0.999, 1e-7)
    >>> print(w.round(4))   # the first step moves by about lr
    [-0.1]
    """
    dtype = w.dtype
    g = g.astype(dtype)
    t = (step + 1).astype(dtype)
    alpha = lr.astype(dtype) * jnp.sqrt(1 - jnp.power(jnp.asarray(beta_2, dtype), t))
    alpha = alpha / (1 - jnp.power(jnp.asarray(beta_1, dtype), t))
    m = m + (g - m) * (1 - beta_1)
    v = v + (jnp.square(g) - v) * (1 - beta_2)
    if v_max is not None:
        v_max = jnp.maximum(v_max, v)
    denom = jnp.sqrt(v if v_max is None else v_max) + epsilon
    return w - (m * alpha) / denom, m, v, v_max


class AdamFamily(Optimizer):
    """The base of the optimizers that keep Adam's moment estimates (Adam, Adamax,
    Nadam, Lamb, ScheduleFreeAdamW): their shared hyperparameters, with Keras's
    defaults, and a ``momentum`` and a ``velocity`` slot per variable.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment estimate.
        beta_2: decay rate of the second moment estimate.
        epsilon: a small constant added to the denominator.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        beta_1: float = 0.9
        beta_2: float = 0.999
        epsilon: float = 1e-7

    def _build_slots(self, variables):
        self._add_slots(variables, "momentum", "velocity")


class Adam(AdamFamily):
    """Adam (Kingma & Ba), optionally AMSGrad.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: decay rates of the first and second moment estimates.
        epsilon: added to ``sqrt(v)`` (Keras's placement: before bias correction).
        amsgrad: use the running maximum of ``v`` (AMSGrad).
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters(AdamFamily._Hyperparameters):
        amsgrad: bool = False

    def _build_slots(self, variables):
        super()._build_slots(variables)
        if self.amsgrad:  # after the pairs, as Keras creates it
            self._add_slots(variables, "velocity_hat")

    def _update_step(self, grads, params, state, lr, step):
        def one(g, p, m, v, v_max):
            return adam_step(g, p, m, v, lr, step, self.beta_1, self.beta_2, self.epsilon, v_max)

        v_hat = state.get("velocity_hat", [None] * len(params))
        new_params, m, v, v_hat = map_tensors(
            one, grads, params, state["momentum"], state["velocity"], v_hat
        )
        new_state = {"momentum": m, "velocity": v}
        if self.amsgrad:
            new_state["velocity_hat"] = v_hat
        return new_params, new_state


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= w * weight_decay * lr`` before the
    Adam step); ``weight_decay`` defaults to 0.004 as in Keras.

    Example:
        >>> AdamW().weight_decay
        0.004
    """

    class _Hyperparameters:  # Keras's order: `weight_decay` second
        learning_rate: Any = 0.001
        weight_decay: float = 0.004
        beta_1: float = 0.9
        beta_2: float = 0.999
        epsilon: float = 1e-7
        amsgrad: bool = False

    def _post_init(self):
        if self.weight_decay is None:
            raise ValueError(
                f"AdamW {self.name!r}: `weight_decay` must be a float; received weight_decay=None."
            )
