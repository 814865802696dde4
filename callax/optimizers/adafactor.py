"""Adafactor, as Keras 3 computes it: second moments of matrices kept as a row
and a column factor (memory ``O(n + m)`` instead of ``O(n m)``).

At step ``t`` with ``G = g^2 + epsilon_1`` and ``b = 1 - t^beta_2_decay``:
a tensor of rank >= 2 keeps ``r = b r + (1 - b) mean(G, -1)`` and
``c = b c + (1 - b) mean(G, -2)`` and uses ``v = (r / mean(r)) c`` (an outer
product); a vector keeps ``v = b v + (1 - b) G``. The direction ``u = g / sqrt(v)``
is clipped to RMS ``clip_threshold`` and the step is
``max(epsilon_2, rms(w)) * min(lr, 1 / sqrt(t))``. optax's ``adafactor`` differs
(it factors only large dimensions and decays differently), so the step is
written out here. The state is laid out as Keras lays it out (per weight: the
row factor, the column factor, the velocity; vectors get two unused int32
scalars in the factors' places) so checkpoints line up.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.ones((2, 3)))
    >>> optimizers.Adafactor(learning_rate=0.1).apply([np.full((2, 3), 0.5)], [w])
    >>> print(w.numpy().round(4))   # rms(w) * lr * clipped unit direction
    [[0.9 0.9 0.9]
     [0.9 0.9 0.9]]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.optimizers.base_optimizer import Optimizer


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): adaptive steps with factored second moments.

    Args:
        learning_rate: float, schedule or callable (default 0.001); the step size is
            ``min(learning_rate, 1 / sqrt(t))`` relative to the weights' RMS.
        beta_2_decay: the second-moment decay is ``1 - t ** beta_2_decay`` (default -0.8).
        epsilon_1: added to the squared gradients (default 1e-30).
        epsilon_2: the smallest weight RMS the step is relative to (default 1e-3).
        clip_threshold: the RMS the update direction is clipped to (default 1.0).
        relative_step: kept for Keras compatibility; the step is always capped
            by ``1 / sqrt(t)``, as in Keras.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.001
        beta_2_decay: float = -0.8
        epsilon_1: float = 1e-30
        epsilon_2: float = 1e-3
        clip_threshold: float = 1.0
        relative_step: bool = True

    def _build_slots(self, variables):
        rows, cols, velocities = [], [], []
        for var in variables:  # created interleaved per weight, in Keras's order
            name = str(var.name)
            if len(var.shape) < 2:
                rows.append(self.add_variable((), "zeros", dtype="int32", name=name))
                cols.append(self.add_variable((), "zeros", dtype="int32", name=name))
            else:
                shape = tuple(var.shape)
                rows.append(self.add_variable(shape[:-1], dtype=var.dtype, name=name))
                cols.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name=name))
            velocities.append(self.add_variable_from_reference(var, "velocity"))
        self._slots.update(row=rows, col=cols, velocity=velocities)

    def _update_step(self, grads, params, state, lr, step):
        new_params, new_r, new_c, new_v = [], [], [], []
        for g, w, r, c, v in zip(grads, params, state["row"], state["col"], state["velocity"]):
            dtype = w.dtype
            g = g.astype(dtype)
            t = (step + 1).astype(dtype)
            rho = jnp.minimum(lr.astype(dtype), 1.0 / jnp.sqrt(t))
            alpha = jnp.maximum(jnp.asarray(self.epsilon_2, dtype), _rms(w)) * rho
            squared = jnp.square(g) + self.epsilon_1
            decay = 1.0 - jnp.power(t, self.beta_2_decay)
            if w.ndim >= 2:
                r = decay * r + (1.0 - decay) * jnp.mean(squared, axis=-1)
                c = decay * c + (1.0 - decay) * jnp.mean(squared, axis=-2)
                v = (r / jnp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
            else:
                v = decay * v + (1.0 - decay) * squared
            u = g / jnp.sqrt(v)
            u = u / jnp.maximum(1.0, _rms(u) / self.clip_threshold)
            new_params.append(w - alpha * u)
            new_r.append(r)
            new_c.append(c)
            new_v.append(v)
        return new_params, {"row": new_r, "col": new_c, "velocity": new_v}
