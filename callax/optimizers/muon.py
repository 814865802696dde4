"""Muon, as Keras 3 computes it: orthogonalised momentum for 2-D weights, AdamW
for everything else.

A 2-D weight keeps a momentum ``m += g + (momentum - 1) m``; its update is the
Newton-Schulz orthogonalisation of ``g + momentum * m`` (Nesterov) or of ``m``,
scaled by ``lr * sqrt(max(rows, cols)) * rms_rate``. Other weights (biases,
embeddings when ``exclude_embeddings``, paths matching ``exclude_layers``) take
an AdamW step at ``lr * adam_lr_ratio`` with their own ``adam_weight_decay``.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.zeros((2, 2)), name="kernel")
    >>> optimizers.Muon(learning_rate=0.1, weight_decay=None).apply([np.eye(2)], [w])
    >>> print(np.round(w.numpy(), 2))   # the identity is already orthogonal
    [[-0.03  0.  ]
     [ 0.   -0.03]]
"""

from __future__ import annotations

import re
from typing import Any

import jax.numpy as jnp

from callax.optimizers.adam import adam_step
from callax.optimizers.base_optimizer import Optimizer


def _swap_last(x):
    return jnp.swapaxes(x, -1, -2)


class Muon(Optimizer):
    """Muon (MomentUm Orthogonalized by Newton-schulz) with an AdamW fallback.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        adam_beta_1, adam_beta_2, epsilon: the AdamW fallback's moments and epsilon.
        adam_weight_decay: weight decay of the AdamW-updated weights (default 0.004).
        weight_decay: weight decay of the Muon-updated weights (default 0.004).
        exclude_layers: regular expressions; weights whose path matches use AdamW.
        exclude_embeddings: weights with "embedding" in their path use AdamW (default True).
        muon_a, muon_b, muon_c: the Newton-Schulz iteration's coefficients.
        adam_lr_ratio: the AdamW learning rate is ``learning_rate * adam_lr_ratio``.
        momentum: Muon's momentum (default 0.95); nesterov: use the Nesterov form.
        ns_steps: Newton-Schulz iterations (default 5).
        rms_rate: scales the update by ``sqrt(max(rows, cols)) * rms_rate``; ``None``: no scaling.
        **kwargs: the base arguments (``clipnorm``, ``use_ema``...).
    """

    # get_config's order, Keras's (not the signature's).
    _config_attrs = (
        "adam_beta_1",
        "adam_beta_2",
        "epsilon",
        "exclude_layers",
        "muon_a",
        "muon_b",
        "muon_c",
        "adam_lr_ratio",
        "momentum",
        "ns_steps",
        "nesterov",
        "exclude_embeddings",
        "adam_weight_decay",
        "rms_rate",
    )

    class _Hyperparameters:
        learning_rate: Any = 0.001
        adam_beta_1: float = 0.9
        adam_beta_2: float = 0.999
        adam_weight_decay: float | None = 0.004
        epsilon: float = 1e-7
        weight_decay: float | None = 0.004
        exclude_layers: list[str] | None = None
        exclude_embeddings: bool = True
        muon_a: float = 3.4445
        muon_b: float = -4.775
        muon_c: float = 2.0315
        adam_lr_ratio: float = 1
        momentum: float = 0.95
        ns_steps: int = 5
        nesterov: bool = True
        rms_rate: float | None = 0.2

    def _post_init(self):
        self.exclude_layers = list(self.exclude_layers or [])

    def _should_use_adamw(self, variable) -> bool:
        if len(variable.shape) != 2:
            return True
        path = str(getattr(variable, "path", None) or variable.name)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def _build_slots(self, variables):
        self._momentums, self._adam_velocities = [], []
        for var in variables:  # interleaved per weight, as Keras creates them
            self._momentums.append(self.add_variable_from_reference(var, "momentum"))
            use_adam = self._should_use_adamw(var)
            velocity = self.add_variable_from_reference(var, "velocity") if use_adam else None
            self._adam_velocities.append(velocity)

    def _apply_weight_decay(self, params, active, lr):
        out = []
        for p, i in zip(params, active):
            var = self._trainable_variables[i]
            wd = self.adam_weight_decay if self._should_use_adamw(var) else self.weight_decay
            if wd is not None and self._use_weight_decay(var):
                p = p - p * jnp.asarray(wd, p.dtype) * lr.astype(p.dtype)
            out.append(p)
        return out

    def _run_update(self, grads, params, active, values, index, lr, step):
        new_params = []
        for g, w, i in zip(grads, params, active):
            m_at = index[id(self._momentums[i])]
            velocity = self._adam_velocities[i]
            if velocity is None:
                w, values[m_at] = self._muon_step(g, w, values[m_at], lr)
            else:
                v_at = index[id(velocity)]
                w, values[m_at], values[v_at] = self._adamw_step(
                    g, w, values[m_at], values[v_at], lr * self.adam_lr_ratio, step
                )
            new_params.append(w)
        return new_params, values

    def _muon_step(self, g, w, m, lr):
        g = g.astype(w.dtype)
        m = m + (g + m * (self.momentum - 1))
        direction = g + self.momentum * m if self.nesterov else m
        update = lr.astype(w.dtype) * self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        if self.rms_rate is not None:
            update = update * jnp.sqrt(max(w.shape[0], w.shape[1])) * self.rms_rate
        return w - update, m

    def _adamw_step(self, g, w, m, v, lr, step):
        w, m, v, _ = adam_step(
            g, w, m, v, lr, step, self.adam_beta_1, self.adam_beta_2, self.epsilon
        )
        return w, m, v

    def zeropower_via_newtonschulz5(self, x: Any, steps: int) -> Any:
        """An approximately orthogonal matrix with ``x``'s singular vectors (quintic
        Newton-Schulz on the last two axes)."""
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(
                f"Muon {self.name!r}: the Newton-Schulz iteration needs at least 2 dimensions; "
                f"received shape={x.shape}."
            )
        tall = x.shape[-2] > x.shape[-1]
        if tall:  # iterate on the wide form: the Gram matrix is the smaller one
            x = _swap_last(x)
        x = x / (jnp.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        for _ in range(steps):
            gram = x @ _swap_last(x)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return _swap_last(x) if tall else x
