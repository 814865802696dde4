"""The ``Metric`` base class: state in ``callax.Variable``s, a stateful API and
a stateless one for compiled steps.

Subclass it, create state with ``add_variable`` in ``__init__``, and write
``update_state`` and ``result``. The stateless methods come for free: they run
your ``update_state``/``result``/``reset_state`` inside a ``StatelessScope``, so
the same code works eagerly and inside ``jax.jit``.

Example:
    >>> import jax, numpy as np
    >>> from callax import metrics
    >>> class CountPositives(metrics.Metric):
    ...     def __init__(self, name="count_positives", dtype=None):
    ...         super().__init__(name=name, dtype=dtype)
    ...         self.count = self.add_variable((), "zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign(self.count + (y_pred > 0).sum())
    ...     def result(self):
    ...         return self.count.value
    >>> m = CountPositives()
    >>> m.update_state(None, np.array([1.0, -1.0, 2.0]))
    >>> float(m.result())
    2.0
    >>> state = m.stateless_reset_state()
    >>> state = jax.jit(lambda s, p: m.stateless_update_state(s, None, p))(state, np.ones(5))
    >>> float(m.stateless_result(state)), float(m.result())  # the object is untouched
    (5.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from callax import initializers
from callax.core.names import to_snake_case, unique_name
from callax.core.stateless_scope import StatelessScope
from callax.core.variable import Variable
from callax.losses.loss import _compute_dtype


class Metric:
    """Base class of metrics.

    Args:
        dtype: the dtype of the state and result (default floatx).
        name: the metric's name (default: the class name in snake case, made unique).

    Subclasses implement ``update_state(*args, **kwargs)`` and ``result()``; the
    default ``reset_state()`` sets every variable to zeros. Metrics assigned as
    attributes are tracked: their variables are part of ``variables``.
    """

    def __init__(self, dtype: Any = None, name: str | None = None):
        object.__setattr__(self, "_variables", [])
        object.__setattr__(self, "_metrics", [])
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = _compute_dtype(dtype)
        self.built = True

    def __setattr__(self, key: str, value: Any) -> None:
        # Track sub-metrics so their state is part of this metric's state.
        if isinstance(value, Metric) and key != "__dict__":
            metrics = self.__dict__.get("_metrics")
            if metrics is None:
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() before assigning "
                    f"attributes; received an assignment to {key!r} first."
                )
            if not any(m is value for m in metrics):
                metrics.append(value)
        object.__setattr__(self, key, value)

    # ---------------------------------------------------------------- state
    @property
    def dtype(self) -> str:
        return self._dtype

    def add_variable(
        self, shape: Any, initializer: Any, dtype: Any = None, aggregation: str = "sum",
        name: str | None = None,
    ) -> Variable:  # fmt: skip
        """Creates a non-trainable state variable (path ``<metric name>/<name>``)."""
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before add_variable(); "
                f"received add_variable(name={name!r}) first."
            )
        shape = () if shape is None else tuple(shape) if not isinstance(shape, int) else (shape,)
        dtype = jnp.dtype(dtype or self._dtype)
        init = initializers.get(initializer if initializer is not None else "zeros")
        variable = Variable(
            init, shape=shape, dtype=dtype, trainable=False, name=name, aggregation=aggregation
        )
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, shape: Any = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None, aggregation: str = "sum") -> Variable:  # fmt: skip
        """Alias of :meth:`add_variable` (Keras 2 spelling)."""
        return self.add_variable(
            shape, initializer, dtype=dtype, aggregation=aggregation, name=name
        )

    @property
    def variables(self) -> list[Variable]:
        """This metric's state variables, then those of tracked sub-metrics."""
        out = list(self._variables)
        for metric in self._metrics:
            out.extend(metric.variables)
        return out

    @property
    def weights(self) -> list[Variable]:
        return self.variables

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.variables

    @property
    def trainable_variables(self) -> list[Variable]:
        return []

    def build(self, y_true_shape: Any = None, y_pred_shape: Any = None) -> None:
        """Creates state whose shape depends on the data (``F1Score``, ``R2Score``).

        Most metrics create their state in ``__init__`` and need nothing here. Call
        it before using the stateless API of a metric whose ``built`` is False.
        """
        self.built = True

    # ------------------------------------------------------------ stateful
    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} {self.name!r} must implement update_state(...)."
        )

    def result(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} {self.name!r} must implement result().")

    def reset_state(self) -> None:
        """Sets every state variable back to zeros."""
        for v in self.variables:
            v.assign(jnp.zeros(v.shape, v.dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Updates the state with one batch and returns the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    # ----------------------------------------------------------- stateless
    def _check_state(self, metric_variables: Sequence[Any], method: str) -> list[Variable]:
        variables = self.variables
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} creates its state from the first batch's "
                f"shapes and is not built yet: call metric.build(y_true_shape, y_pred_shape) (or "
                f"update_state once) before {method}(); received {len(metric_variables)} values."
            )
        if len(metric_variables) != len(variables):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}.{method}: expected {len(variables)} "
                f"metric variable values ({[v.name for v in variables]}); received "
                f"{len(metric_variables)}."
            )
        return variables

    def stateless_update_state(
        self, metric_variables: Sequence[Any], *args: Any, **kwargs: Any
    ) -> list[jax.Array]:
        """``update_state`` as a pure function: old state values in, new ones out."""
        variables = self._check_state(metric_variables, "stateless_update_state")
        with StatelessScope(zip(variables, metric_variables)) as scope:
            self.update_state(*args, **kwargs)
        return [_current(scope, v, old) for v, old in zip(variables, metric_variables)]

    def stateless_result(self, metric_variables: Sequence[Any]) -> Any:
        """``result()`` computed from the given state values."""
        variables = self._check_state(metric_variables, "stateless_result")
        with StatelessScope(zip(variables, metric_variables)):
            return self.result()

    def stateless_reset_state(self) -> list[jax.Array]:
        """The state values ``reset_state()`` would set, without changing the metric."""
        variables = self.variables
        with StatelessScope() as scope:
            self.reset_state()
        return [_current(scope, v, None) for v in variables]

    # -------------------------------------------------------------- config
    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _current(scope: StatelessScope, variable: Variable, fallback: Any) -> Any:
    value = scope.get_current_value(variable)
    if value is not None:
        return value
    return variable.value if fallback is None else fallback
