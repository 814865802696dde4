"""SGD with optional (Nesterov) momentum, as Keras 3 computes it.

Keras keeps the velocity already scaled by the learning rate
(``m = momentum * m - lr * g``; ``w += m``, or ``w += momentum * m - lr * g``
with Nesterov), which optax's ``trace`` does not (it stores the unscaled sum), so
the two differ as soon as the learning rate changes. The state must mean what
Keras's means for checkpoints to move between them: written out here.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0]))
    >>> opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.apply([np.array([1.0])], [w])
    >>> print(w.numpy())   # 1 - 0.1 - (0.9 * 0.1 + 0.1)
    [0.71]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.optimizers.base_optimizer import Optimizer, map_tensors


class SGD(Optimizer):
    """Gradient descent (with momentum, optionally Nesterov).

    Args:
        learning_rate: float, schedule or callable (default 0.01).
        momentum: float in ``[0, 1]``; ``0`` keeps no state.
        nesterov: use Nesterov momentum.
        **kwargs: the base arguments of :class:`~callax.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``use_ema``, ``name``...).
    """

    class _Hyperparameters:
        learning_rate: Any = 0.01
        momentum: float = 0.0
        nesterov: bool = False

    def _post_init(self):
        momentum = self.momentum
        if isinstance(momentum, bool) or not np.isscalar(momentum) or not 0 <= momentum <= 1:
            raise ValueError(
                f"SGD {self.name!r}: `momentum` must be a float in [0, 1]; received "
                f"momentum={momentum!r}."
            )

    def _build_slots(self, variables):
        if self.momentum != 0:
            self._add_slots(variables, "momentum")

    def _update_step(self, grads, params, state, lr, step):
        mu = self.momentum
        if mu == 0:
            return [p - g.astype(p.dtype) * lr.astype(p.dtype) for g, p in zip(grads, params)], {}

        def one(g, p, m):
            scaled = g.astype(p.dtype) * lr.astype(p.dtype)
            m = m * mu - scaled
            return (p + (m * mu - scaled if self.nesterov else m)), m

        new_params, m = map_tensors(one, grads, params, state["momentum"])
        return new_params, {"momentum": m}
