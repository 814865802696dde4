"""``LossScaleOptimizer``: dynamic loss scaling for float16 training.

Small float16 gradients underflow to zero. The trainer multiplies the loss by
``dynamic_scale`` before differentiating (``scale_loss``); this optimizer divides
the gradients by it, and then:

- if every gradient is finite, applies the inner optimizer's update and, after
  ``dynamic_growth_steps`` such steps in a row, doubles the scale;
- otherwise skips the update (weights and inner state unchanged) and halves it.

``compile`` wraps the optimizer in one automatically when the model's dtype
policy is ``mixed_float16`` (``auto_scale_loss=True``, as Keras does).

Example:
    >>> import jax.numpy as jnp, callax
    >>> v = callax.Variable(jnp.ones(2))
    >>> opt = callax.optimizers.LossScaleOptimizer(callax.optimizers.SGD(0.1), initial_scale=8.0)
    >>> opt.build([v])
    >>> opt.apply([jnp.full(2, 8.0)])            # a scaled gradient of 1.0
    >>> v.numpy().tolist(), float(opt.dynamic_scale.value)
    ([0.9, 0.9], 8.0)
    >>> opt.apply([jnp.array([jnp.inf, 1.0])])   # overflow: skipped, scale halved
    >>> v.numpy().tolist(), float(opt.dynamic_scale.value)
    ([0.9, 0.9], 4.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from callax.core import registry
from callax.core.variable import Variable, unwrap
from callax.optimizers.base_optimizer import Optimizer


class LossScaleOptimizer(Optimizer):
    """Wraps ``inner_optimizer`` with dynamic loss scaling.

    Args:
        inner_optimizer: the optimizer that updates the weights.
        initial_scale: the first loss scale (default ``2**15``, as Keras).
        dynamic_growth_steps: finite steps in a row before the scale doubles.
    """

    _forwards_base_arguments = False  # its learning rate is the inner optimizer's

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ):
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError(
                "LossScaleOptimizer wraps a callax optimizer; received "
                f"inner_optimizer={inner_optimizer!r}."
            )
        if not initial_scale > 0 or int(dynamic_growth_steps) < 1:
            raise ValueError(
                "LossScaleOptimizer: initial_scale must be > 0 and dynamic_growth_steps >= 1; "
                f"received initial_scale={initial_scale!r}, "
                f"dynamic_growth_steps={dynamic_growth_steps!r}."
            )
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        # The wrapper's own state, replacing the base's iteration/learning_rate.
        self._variables.clear()
        self.step_counter = self.add_variable((), "zeros", dtype="int32", name="step_counter")
        self.dynamic_scale = self.add_variable((), self.initial_scale, name="dynamic_scale")

    # The inner optimizer's iterations and learning rate are the ones that matter.
    @property
    def iterations(self) -> Any:
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def variables(self) -> list[Variable]:
        """``[step_counter, dynamic_scale]`` then the inner optimizer's state."""
        return self._variables[:] + self.inner_optimizer.variables

    @property
    def use_ema(self) -> bool:
        return self.inner_optimizer.use_ema

    @use_ema.setter
    def use_ema(self, value: bool) -> None:
        pass  # the base class sets it in __init__; the inner optimizer's setting rules

    def build(self, variables: Sequence[Variable]) -> None:
        self.inner_optimizer.build(variables)
        self._trainable_variables = list(variables)
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self.built = True

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def scale_loss(self, loss: Any) -> Any:
        """``loss * dynamic_scale`` (read through the stateless scope inside a step)."""
        return loss * self.dynamic_scale.value.astype(jnp.asarray(loss).dtype)

    def stateless_apply(
        self, optimizer_variables: Sequence[Any], grads: Sequence[Any],
        trainable_variables: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:  # fmt: skip
        self._check_built_for_stateless_apply()
        values = [unwrap(x) for x in optimizer_variables]
        if len(values) != 2 + len(self.inner_optimizer.variables):
            raise ValueError(
                f"LossScaleOptimizer {self.name!r}: expected {2 + len(self.inner_optimizer.variables)}"
                f" optimizer variable values (optimizer.variables); received {len(values)}."
            )
        return self._apply_values(values, list(grads), [unwrap(x) for x in trainable_variables])

    def _apply_values(self, values: list, grads: list, params: list) -> tuple[list, list]:
        counter, scale, inner_values = values[0], values[1], values[2:]
        unscaled = [None if g is None else jnp.asarray(g) / scale.astype(g.dtype) for g in grads]
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in unscaled if g is not None]))
        new_params, new_inner = self.inner_optimizer.stateless_apply(inner_values, unscaled, params)
        new_params = [jnp.where(finite, n, o) for n, o in zip(new_params, params)]
        new_inner = [jnp.where(finite, n, o) for n, o in zip(new_inner, inner_values)]
        counter = jnp.where(finite, counter + 1, 0)
        grow = counter >= self.dynamic_growth_steps
        scale = jnp.where(finite, jnp.where(grow, scale * 2, scale), scale / 2)
        counter = jnp.where(grow, 0, counter).astype(values[0].dtype)
        return new_params, [counter, scale.astype(values[1].dtype), *new_inner]

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None):
        grads = list(grads)
        if trainable_variables is not None and not self.built:
            self.build(list(trainable_variables))
        if not self.built:
            raise ValueError(
                f"LossScaleOptimizer {self.name!r}: build it first with "
                "`optimizer.build(trainable_variables)`; it is not built."
            )
        variables = self.variables
        new_params, new_values = self._apply_values(
            [v.value for v in variables], grads, [v.value for v in self._trainable_variables]
        )
        for v, x in zip(self._trainable_variables, new_params):
            v.assign(x)
        for v, x in zip(variables, new_values):
            v.assign(x)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "inner_optimizer": registry.family("optimizer").serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> LossScaleOptimizer:
        # The optimizers' registry (callax.optimizers declares it; it imports this module).
        optimizers = registry.family("optimizer")
        config = dict(config)
        config["inner_optimizer"] = optimizers.deserialize(
            config["inner_optimizer"], custom_objects
        )
        return cls(**config)
