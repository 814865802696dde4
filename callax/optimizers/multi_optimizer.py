"""``MultiOptimizer``: different optimizers for different variables, chosen by an
``OptimizerMap`` (regular expressions on variable paths, and a default).

Each inner optimizer keeps its own state and updates only its variables; the
``MultiOptimizer``'s ``variables`` are its own (``iteration``, ``learning_rate``)
then every inner optimizer's, in order, as Keras saves them. In compiled
training steps the one pure update routes each gradient to its optimizer.

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> kernel = Variable(np.ones(2), name="kernel")
    >>> kernel.path = "dense/kernel"
    >>> bias = Variable(np.ones(2), name="bias")
    >>> bias.path = "dense/bias"
    >>> mapping = optimizers.OptimizerMap(optimizers.SGD(0.1), {".*bias": optimizers.SGD(0.5)})
    >>> opt = optimizers.MultiOptimizer(mapping)
    >>> opt.apply([np.ones(2), np.ones(2)], [kernel, bias])
    >>> kernel.numpy(), bias.numpy()
    (array([0.9, 0.9], dtype=float32), array([0.5, 0.5], dtype=float32))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callax.core.path_map import PathMap
from callax.core.serialization import deserialize_keras_object, serialize_keras_object
from callax.core.variable import Variable, unwrap
from callax.optimizers.base_optimizer import Optimizer
from callax.optimizers.loss_scale_optimizer import LossScaleOptimizer


def _check_inner(optimizer: Any, owner: str, what: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: {what} must be an Optimizer instance; received {optimizer!r}.")
    if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
        raise ValueError(
            f"{owner}: {what} cannot be a {type(optimizer).__name__} (wrap the MultiOptimizer "
            f"instead); received {optimizer!r}."
        )


class OptimizerMap(PathMap):
    """Maps variable paths to optimizers: an exact key, else the one key that
    ``re.fullmatch``-es the path, else ``default_optimizer``.

    Called on a variable (``optimizer_map(variable)``) it gives that variable's optimizer.

    Example:
        >>> from callax import optimizers
        >>> m = optimizers.OptimizerMap(optimizers.Adam(), {"dense/.*": optimizers.SGD()})
        >>> type(m["dense/kernel"]).__name__, type(m["conv/kernel"]).__name__
        ('SGD', 'Adam')
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "OptimizerMap: default_optimizer must be an Optimizer instance; received "
                f"{default_optimizer!r}."
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(
                f"OptimizerMap: optimizer_map must be a dict; received {optimizer_map!r}."
            )
        self._default_optimizer = default_optimizer
        super().__init__(optimizer_map)

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def _default_value(self) -> Optimizer:
        return self._default_optimizer

    def _several_matches_message(self, key: str, matches: list[str]) -> str:
        return (
            f"OptimizerMap: several patterns match variable {key!r}; expected at most one, "
            f"received matches {matches}."
        )

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: keys must be strings; received {key!r}.")
        if key in self._entries:
            raise ValueError(
                f"OptimizerMap: key {key!r} is already mapped to {self._entries[key]!r}; "
                "keys must be unique."
            )
        _check_inner(optimizer, "OptimizerMap", f"the optimizer for {key!r}")
        self._entries[key] = optimizer

    def __call__(self, variable: Variable) -> Optimizer:
        return self[str(getattr(variable, "path", None) or variable.name)]

    def get_config(self) -> dict:
        return {
            "default_optimizer": serialize_keras_object(self._default_optimizer),
            "optimizer_map": {k: serialize_keras_object(v) for k, v in self._entries.items()},
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        def revive(x):
            return deserialize_keras_object(x, custom_objects=custom_objects)

        default = revive(config["default_optimizer"])
        mapping = {k: revive(v) for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Applies a different optimizer to each group of variables.

    Args:
        optimizer_map: an :class:`OptimizerMap`, or any callable giving each variable's
            optimizer.
        loss_scale_factor: passed on to every inner optimizer.
        name: the optimizer's name.

    ``learning_rate`` belongs to the inner optimizers: reading or setting it here
    raises ``AttributeError``, as in Keras.
    """

    def __init__(
        self, optimizer_map: Any, loss_scale_factor: float | None = None, name: str | None = None
    ):
        self.__dict__["_inner_optimizers"] = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        if not callable(optimizer_map):
            raise TypeError(
                f"MultiOptimizer {self.name!r}: optimizer_map must be an OptimizerMap (or a "
                f"callable variable -> optimizer); received {optimizer_map!r}."
            )
        self._optimizer_map = optimizer_map
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in [*candidates, *([default] if default is not None else [])]:
            self._add_inner(optimizer)
        self._groups: list[list[int]] = []

    def _add_inner(self, optimizer: Optimizer) -> int:
        for i, known in enumerate(self._inner_optimizers):
            if known is optimizer:
                return i
        _check_inner(optimizer, f"MultiOptimizer {self.name!r}", "an inner optimizer")
        optimizer.loss_scale_factor = self.loss_scale_factor
        self._inner_optimizers.append(optimizer)
        return len(self._inner_optimizers) - 1

    # ------------------------------------------------------------ properties
    @property
    def optimizers(self) -> list[Optimizer]:
        return list(self._inner_optimizers)

    @property
    def variables(self) -> list[Variable]:
        out = list(self._variables)
        for optimizer in self._inner_optimizers:
            out.extend(optimizer.variables)
        return out

    @property
    def learning_rate(self) -> Any:
        raise AttributeError(
            f"MultiOptimizer {self.name!r} has no single learning rate; read it on the inner "
            "optimizers (`optimizer.optimizers[i].learning_rate`)."
        )

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        raise AttributeError(
            f"MultiOptimizer {self.name!r} has no single learning rate; set it on the inner "
            f"optimizers (`optimizer.optimizers[i].learning_rate`); received {value!r}."
        )

    @property
    def loss_scale_factor(self) -> float | None:
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self.__dict__["_loss_scale_factor"] = value
        for optimizer in self.__dict__.get("_inner_optimizers", []):
            optimizer.loss_scale_factor = value

    # ----------------------------------------------------------------- build
    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        variables = list(variables)
        owners = [self._add_inner(self._optimizer_map(v)) for v in variables]
        self._groups = [[i for i, o in enumerate(owners) if o == k]
                        for k in range(len(self._inner_optimizers))]  # fmt: skip
        for optimizer, group in zip(self._inner_optimizers, self._groups):
            if group:
                optimizer.build([variables[i] for i in group])
        super().build(variables)

    # --------------------------------------------------------------- updates
    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Routes each gradient to its optimizer's ``stateless_apply``; values in
        ``variables`` order (own, then each inner optimizer's)."""
        self._check_built_for_stateless_apply()
        values = [unwrap(x) for x in optimizer_variables]
        if len(values) != len(self.variables):
            raise ValueError(
                f"MultiOptimizer {self.name!r}: stateless_apply expected one value per "
                f"optimizer.variables ({len(self.variables)}); received {len(values)}."
            )
        params = [unwrap(x) for x in trainable_variables]
        own = len(self._variables)
        new_values, offset = values[:own], own
        for optimizer, group in zip(self._inner_optimizers, self._groups):
            count = len(optimizer.variables)
            inner = values[offset : offset + count]
            offset += count
            if group and any(grads[i] is not None for i in group):
                new_p, inner = optimizer.stateless_apply(
                    inner, [grads[i] for i in group], [params[i] for i in group]
                )
                for i, p in zip(group, new_p):
                    params[i] = p
            new_values.extend(inner)
        at = next(i for i, v in enumerate(self._variables) if v is self._iterations)
        new_values[at] = new_values[at] + 1
        return params, new_values

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None):
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"MultiOptimizer {self.name!r}: to apply gradients without variables, "
                    "build it first with `optimizer.build(trainable_variables)`."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        routed: list[list[tuple[Any, Variable]]] = [[] for _ in self._inner_optimizers]
        for g, v in zip(grads, trainable_variables):
            i = self._variable_index(v)
            owner = next(k for k, group in enumerate(self._groups) if i in group)
            routed[owner].append((g, v))
        for optimizer, pairs in zip(self._inner_optimizers, routed):
            if pairs and any(g is not None for g, _ in pairs):
                optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        self._iterations.assign(self._iterations.value + 1)

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        for optimizer, group in zip(self._inner_optimizers, self._groups):
            if group:
                optimizer.finalize_variable_values([self._trainable_variables[i] for i in group])

    # --------------------------------------------------------------- weights
    def set_weights(self, weights: Sequence[Any]) -> None:
        variables = self.variables
        if not self.built or len(weights) != len(variables):
            raise ValueError(
                f"MultiOptimizer {self.name!r}: set_weights expects the optimizer built and one "
                f"array per variable ({len(variables)}); received {len(weights)} arrays"
                f"{'' if self.built else ' before build()'}."
            )
        for v, w in zip(variables, weights):
            v.assign(w)

    def save_own_variables(self, store: Any) -> None:
        for i, v in enumerate(self.variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store: Any) -> None:
        variables = self.variables
        if len(store.keys()) != len(variables):
            raise ValueError(
                f"MultiOptimizer {self.name!r}: the saved state holds {len(store.keys())} "
                f"variables; expected {len(variables)}."
            )
        for i, v in enumerate(variables):
            v.assign(store[str(i)])

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        return {
            "optimizer_map": serialize_keras_object(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        config = dict(config)
        config["optimizer_map"] = deserialize_keras_object(
            config["optimizer_map"], custom_objects=custom_objects
        )
        return cls(**config)
