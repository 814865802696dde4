"""The optimizer shell: Keras 3's ``Optimizer`` API around one pure update function.

Everything an optimizer does to its state happens in one pure function of values,
:meth:`Optimizer.stateless_apply`. The training step calls it inside its own
``jax.jit``; :meth:`Optimizer.apply` (the stateful API) reads the variables'
values, runs the same function (compiled, cached per optimizer) and assigns the
results back. One update, in Keras's order:

1. unscale the gradients (``loss_scale_factor``), skip ``None`` gradients;
2. gradient accumulation: add to the accumulators; only every
   ``gradient_accumulation_steps``-th call updates, with their mean;
3. clip (``clipnorm`` per tensor, ``global_clipnorm``, or ``clipvalue``);
4. decoupled weight decay: ``w -= w * weight_decay * lr``;
5. the optimizer's own step (:meth:`Optimizer._update_step`, on optax
   transforms where they compute exactly what Keras computes);
6. EMA of the weights (``use_ema``), overwriting them every
   ``ema_overwrite_frequency`` steps; then ``variable.constraint``;
7. ``iterations += 1``.

State is variables (non-trainable :class:`~callax.Variable` objects), in Keras 3's
order so checkpoints line up index by index (``optimizer/vars/0..n``): ``iteration``,
``learning_rate`` (only when it is a float, not a schedule), the EMA ``average`` and
``gradient_accumulator`` variables when enabled, then the optimizer's slots
(``adam/kernel_momentum``, ``adam/kernel_velocity``, ``adam/bias_momentum``...).
``iteration`` is int32, as Keras 3 on JAX creates it (also with x64 enabled).

Example:
    >>> import numpy as np
    >>> from callax import Variable, optimizers
    >>> w = Variable(np.array([1.0, 2.0]), name="w")
    >>> opt = optimizers.SGD(learning_rate=0.5)
    >>> opt.apply([np.array([1.0, 1.0])], [w])
    >>> w.numpy(), int(opt.iterations)
    (array([0.5, 1.5], dtype=float32), 1)
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from callax import initializers
from callax.core import config
from callax.core.names import to_snake_case, unique_name
from callax.core.pure_call import snapshot, write_back
from callax.core.stateless_scope import StatelessScope, in_stateless_scope
from callax.core.variable import Variable, unwrap
from callax.distribution.hooks import set_variable_layout
from callax.optimizers.declared_arguments import declared_init, with_forwarded_arguments
from callax.optimizers.schedules import LearningRateSchedule
from callax.optimizers.schedules import deserialize as _deserialize_schedule
from callax.optimizers.schedules import serialize as _serialize_schedule


def _is_number(x: Any) -> bool:
    return (
        not isinstance(x, (bool, np.bool_))
        and not callable(x)
        and np.ndim(x) == 0
        and np.issubdtype(np.asarray(x).dtype, np.number)
    )


def _warn_missing(grads: Sequence[Any], variables: Sequence[Variable]) -> None:
    missing = [v.path for g, v in zip(grads, variables) if g is None]
    if missing and len(missing) < len(variables):
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the loss. "
            "If using `model.compile()`, did you forget to provide a `loss` argument?",
            stacklevel=3,
        )


class Optimizer:
    """Base class of optimizers (Keras 3 ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float, a :class:`~callax.optimizers.schedules.LearningRateSchedule`
            (called with the iteration count), or a no-argument callable.
        weight_decay: decoupled weight decay factor (``w -= w * weight_decay * lr``).
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: ``average = ema_momentum * average + (1 - ema_momentum) * w``.
        ema_overwrite_frequency: every this many steps, replace the weights by their
            average (``None``: only at ``finalize_variable_values``, which ``fit`` calls).
        loss_scale_factor: ``scale_loss`` multiplies the loss by it; gradients are
            divided by it before the update.
        gradient_accumulation_steps: update every N calls with the mean gradient.
        name: default derived from the class name (``adam``, ``adam_1``...).

    Subclasses take these base arguments through ``**kwargs`` and forward them to
    ``super().__init__``; :meth:`__init_subclass__` adds them (keyword-only) to the
    subclass's ``inspect.signature``, so ``Adam(learning_rate=..., weight_decay=...)``
    reads as in Keras and signature-driven tools (keras-tuner, config editors) see
    every argument.

    Extending (Keras 3's public path, see ``docs/extending.md``): subclass, take
    your hyperparameters in ``__init__`` (forwarding ``**kwargs``), create per-variable
    state in ``build(variables)`` with :meth:`add_variable_from_reference` (after
    ``super().build(variables)``), write ``update_step(gradient, variable,
    learning_rate)`` with :meth:`assign` / :meth:`assign_add` / :meth:`assign_sub`,
    and add your hyperparameters to :meth:`get_config`. The update runs inside the
    same pure, jit-compiled function as the built-ins (clipping, weight decay,
    gradient accumulation and EMA included). The built-in optimizers instead
    implement the vectorised pure ``_update_step`` (all variables at once, state as
    arrays) and declare their hyperparameters once (``_Hyperparameters``, see
    :mod:`callax.optimizers.declared_arguments`); both hooks are internal.

    Example:
        >>> import inspect
        >>> class Scaled(Optimizer):
        ...     def __init__(self, learning_rate=0.1, factor=2.0, **kwargs):
        ...         super().__init__(learning_rate=learning_rate, **kwargs)
        ...         self.factor = factor
        ...     def update_step(self, gradient, variable, learning_rate):
        ...         self.assign_sub(variable, self.factor * learning_rate * gradient)
        >>> list(inspect.signature(Scaled).parameters)[:4]
        ['learning_rate', 'factor', 'weight_decay', 'clipnorm']
        >>> w = Variable(np.array([1.0]))
        >>> Scaled(0.1).apply([np.array([1.0])], [w])
        >>> w.numpy()
        array([0.8], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["_variables"] = []  # everything below is tracked in creation order
        d["name"] = name or unique_name(to_snake_case(type(self).__name__))
        who = f"{type(self).__name__} {d['name']!r}"
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                f"{who}: argument `decay` is no longer supported and is ignored.", stacklevel=3
            )
        if kwargs:
            raise ValueError(
                f"{who}: argument(s) not recognized; expected the Keras optimizer arguments, "
                f"received {kwargs}."
            )
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                f"{who}: `gradient_accumulation_steps` must be an integer >= 2; received "
                f"gradient_accumulation_steps={gradient_accumulation_steps!r}."
            )
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(
                    f"{who}: `ema_momentum` must be in [0, 1]; received "
                    f"ema_momentum={ema_momentum!r}."
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    f"{who}: `ema_overwrite_frequency` must be an integer >= 1 or None; "
                    f"received ema_overwrite_frequency={ema_overwrite_frequency!r}."
                )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(
                f"{who}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set; "
                f"received {clips}."
            )
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._trainable_variables: list[Variable] = []
        self._trainable_variables_indices: dict[int, int] = {}
        self._slots: dict[str, list[Variable]] = {}  # built-ins: slot name -> one per variable
        self._scalars: dict[str, Variable] = {}  # built-ins: scalar state (Nadam's u_product)
        self._model_variables_moving_average: list[Variable] = []
        self._accumulated_gradients: list[Variable] = []
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._jit_cache: tuple[Any, Callable] | None = None
        self._iterations = self.add_variable((), "zeros", dtype="int32", name="iteration")
        self._learning_rate = self._make_learning_rate(learning_rate)

    #: Whether a subclass's ``**kwargs`` are the base arguments (its signature then
    #: lists them). Wrappers that fix the learning rate themselves say ``False``.
    _forwards_base_arguments = True

    #: The hyperparameters :meth:`get_config` adds after the base arguments: a built-in's
    #: declared ones (``_Hyperparameters``) unless the class lists them in another order.
    _config_attrs: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "_Hyperparameters" in cls.__dict__:  # a built-in: its arguments declared once
            base = [p.name for p in _BASE_ARGUMENTS]
            cls.__init__ = declared_init(
                cls, cls._Hyperparameters, Optimizer, forwarded=base, var_keyword=True
            )
            if "_config_attrs" not in cls.__dict__:  # unless the class orders them itself
                declared = list(inspect.signature(cls.__init__).parameters)[1:-1]
                cls._config_attrs = tuple(n for n in declared if n not in base)
        init = cls.__dict__.get("__init__")
        if init is not None and cls._forwards_base_arguments:
            try:  # annotations as objects, like the base arguments'
                own = inspect.signature(init, eval_str=True)
            except Exception:  # a name only a type checker sees: keep them as strings
                own = inspect.signature(init)
            signature = with_forwarded_arguments(own, _BASE_ARGUMENTS)
            if signature is not None:
                init.__signature__ = signature

    def _post_init(self) -> None:
        """Built-ins declaring ``_Hyperparameters``: their checks and derived values,
        run by the declared ``__init__`` once the hyperparameters are set."""

    def __setattr__(self, name: str, value: Any) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"In optimizer {type(self).__name__!r}, call `super().__init__(...)` first in "
                f"`__init__`, before setting attributes; received an assignment to {name!r} "
                "before it."
            )
        if isinstance(value, Variable):
            self._track(value)  # as Keras: variables set as attributes are state
        object.__setattr__(self, name, value)

    def _track(self, variable: Variable) -> None:
        if not any(v is variable for v in self._variables):
            self._variables.append(variable)

    def _make_learning_rate(self, learning_rate: Any) -> Any:
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            return learning_rate
        if not _is_number(learning_rate):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `learning_rate` must be a float, a "
                "LearningRateSchedule, or a callable returning the learning rate; received "
                f"learning_rate={learning_rate!r}."
            )
        return self.add_variable((), self._checked_rate(learning_rate), name="learning_rate")

    def _checked_rate(self, learning_rate: Any) -> float:
        """A constant learning rate as a float; a negative one would climb the loss
        and NaN poisons every weight, so both are refused where they are given."""
        value = float(learning_rate)
        if not value >= 0.0:  # also catches NaN
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `learning_rate` must be a non-negative "
                f"number (or a schedule); received learning_rate={learning_rate!r}."
            )
        return value

    # ------------------------------------------------------------ properties
    @property
    def variables(self) -> list[Variable]:
        """The optimizer's state, in Keras 3's order (``iteration`` first)."""
        return self._variables[:]

    @property
    def iterations(self) -> Any:
        """Update steps taken: the ``iteration`` variable; with gradient
        accumulation, the number of real updates (``iteration // steps``), as Keras."""
        if self.gradient_accumulation_steps:
            return self._iterations.value // self.gradient_accumulation_steps
        return self._iterations

    @property
    def learning_rate(self) -> Any:
        """The ``learning_rate`` variable, or the schedule's value at the current step.

        Setting a float assigns the variable (a callback can do it between steps
        without recompiling); setting a schedule or callable replaces it.
        """
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations.value)
        if isinstance(lr, Variable):
            return lr
        return lr()

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        old = self._learning_rate
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            if isinstance(old, Variable):  # Keras drops the variable from the state
                self._variables.remove(old)
            object.__setattr__(self, "_learning_rate", learning_rate)
            return
        if not isinstance(old, Variable):
            raise TypeError(
                f"{type(self).__name__} {self.name!r} was created with a learning-rate "
                f"{'schedule' if isinstance(old, LearningRateSchedule) else 'callable'}, so its "
                "learning rate cannot be set to a number; create the optimizer with a float "
                f"`learning_rate` to make it settable. Received learning_rate={learning_rate!r}."
            )
        old.assign(self._checked_rate(unwrap(learning_rate)))

    # -------------------------------------------------------------- state
    def add_variable(
        self,
        shape: Any,
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "none",
        layout: Any = None,
        name: str | None = None,
    ) -> Variable:
        """A non-trainable state variable with path ``<optimizer name>/<name>``."""
        if _is_number(initializer):
            initializer = initializers.Constant(float(initializer))
        variable = Variable(
            initializers.get(initializer), shape=shape, dtype=jnp.dtype(dtype or config.floatx()),
            trainable=False, name=name, aggregation=aggregation, autocast=False,
        )  # fmt: skip
        variable.path = f"{self.name}/{variable.name}"
        if layout is not None:  # callax.distribution: e.g. a slot laid out like its variable
            set_variable_layout(variable, layout)
        self._track(variable)
        return variable

    def add_variable_from_reference(
        self, reference_variable: Variable, name: str | None = None, initializer: Any = "zeros"
    ) -> Variable:
        """A state variable shaped like ``reference_variable``, named as Keras names it:
        ``<reference path with / as _>_<name>`` (``dense_kernel_momentum``)."""
        base = getattr(reference_variable, "path", None) or str(reference_variable.name)
        base = base.replace("/", "_").replace(":", "_")
        return self.add_variable(
            reference_variable.shape, initializer, dtype=reference_variable.dtype,
            layout=getattr(reference_variable, "_layout", None), name=f"{base}_{name or 'var'}",
        )  # fmt: skip

    def add_optimizer_variables(
        self, trainable_variables: Sequence[Variable], name: Any, initializer: Any = "zeros"
    ) -> Any:
        """One variable per trainable variable for each name in ``name`` (a string or a
        list), interleaved per variable as Keras creates them. Returns a list, or a tuple
        of lists for a list of names."""
        names = [name] if isinstance(name, str) else list(name)
        inits = (
            initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        )
        if len(inits) != len(names):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: add_optimizer_variables expected one "
                f"initializer per name ({len(names)}); received {len(inits)}."
            )
        out: tuple[list, ...] = tuple([] for _ in names)
        for variable in trainable_variables:
            for lst, n, init in zip(out, names, inits):
                lst.append(self.add_variable_from_reference(variable, n, init))
        return out[0] if isinstance(name, str) else out

    def _add_slots(self, variables: Sequence[Variable], *names: str, initializer: Any = "zeros"):
        """Built-ins: create slots ``names`` (interleaved per variable) in ``self._slots``."""
        lists = self.add_optimizer_variables(variables, list(names), initializer)
        self._slots.update(zip(names, lists))

    def build(self, variables: Sequence[Variable]) -> None:
        """Creates the state for ``variables`` (the model's trainable variables): the
        base's (EMA averages, gradient accumulators), then the built-ins' slots
        (:meth:`_build_slots`). Building twice does nothing. A Keras-style subclass
        calls ``super().build(variables)`` and then adds its own state."""
        if self.built:
            return
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(
                variables, "gradient_accumulator"
            )
        self._trainable_variables = variables
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self._build_slots(variables)
        self.built = True

    def _build_slots(self, variables: list[Variable]) -> None:
        """Built-ins: create the state their vectorised :meth:`_update_step` reads
        (``self._add_slots``), after the base's, in Keras's order."""

    def _get_variable_index(self, variable: Variable) -> int:
        return self._trainable_variables_indices[id(variable)]

    # Keras's subclassing API writes state through these.
    def assign(self, variable: Variable, value: Any) -> None:
        variable.assign(value)

    def assign_add(self, variable: Variable, value: Any) -> None:
        variable.assign(variable.value + value)

    def assign_sub(self, variable: Variable, value: Any) -> None:
        variable.assign(variable.value - value)

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        """Keras-style per-variable update for subclasses (assign through ``self.assign``)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `update_step(gradient, variable, "
            "learning_rate)` (Keras style) or `_update_step(grads, params, state, lr, step)`."
        )

    # ------------------------------------------------------ weight decay
    def exclude_from_weight_decay(
        self, var_list: Sequence[Variable] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Exempts variables (by object, or by a substring of their name) from weight decay."""
        if self.built:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: exclude_from_weight_decay() must be "
                "called before the optimizer is built; it is already built."
            )
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable: Variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(variable.name) is None

    # ----------------------------------------------------- the pure update
    def _check_built_for_stateless_apply(self) -> None:
        """``stateless_apply`` takes the optimizer's state as values, so the state
        (built by ``build``) must exist; the wrappers' overrides check it too."""
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} must be built before stateless_apply: call "
                "`optimizer.build(trainable_variables)` first; it has no state yet."
            )

    def stateless_apply(
        self,
        optimizer_variables: Sequence[Any],
        grads: Sequence[Any],
        trainable_variables: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        """One update as a pure function of values (jit-able; nothing is assigned).

        Args:
            optimizer_variables: values of ``optimizer.variables``, in order.
            grads: one gradient (or ``None``: left unchanged) per built-with variable.
            trainable_variables: values of the variables the optimizer was built with.

        Returns:
            ``(new_trainable_values, new_optimizer_values)``, lists in the same orders.
        """
        self._check_built_for_stateless_apply()
        who = f"{type(self).__name__} {self.name!r}"
        if len(optimizer_variables) != len(self._variables):
            raise ValueError(
                f"{who}: stateless_apply expected `optimizer_variables` to hold one value per "
                f"optimizer.variables ({len(self._variables)}); received "
                f"{len(optimizer_variables)}."
            )
        n = len(self._trainable_variables)
        if len(trainable_variables) != n or len(grads) != n:
            raise ValueError(
                f"{who}: stateless_apply expected {n} `trainable_variables` and {n} `grads` "
                f"(the variables it was built with); received {len(trainable_variables)} "
                f"and {len(grads)}."
            )
        _warn_missing(grads, self._trainable_variables)
        return self._apply_values(
            [unwrap(x) for x in optimizer_variables], list(grads),
            [unwrap(x) for x in trainable_variables],
        )  # fmt: skip

    def _current_learning_rate(self, values: list, index: dict, iterations: Any) -> Any:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return jnp.asarray(lr(iterations))  # schedules see every real call
        if isinstance(lr, Variable):
            return values[index[id(lr)]]
        return jnp.asarray(unwrap(lr()))

    def _apply_values(self, values: list, grads: list, params: list) -> tuple[list, list]:
        values, params = list(values), list(params)
        index = {id(v): i for i, v in enumerate(self._variables)}
        raw_step = values[index[id(self._iterations)]]
        accum = self.gradient_accumulation_steps
        step = raw_step // accum if accum else raw_step  # what Keras's update_step sees
        lr = self._current_learning_rate(values, index, raw_step)

        if not params:  # a model without trainable weights (only add_loss): a step, no update
            values[index[id(self._iterations)]] = raw_step + 1
            return params, values
        active = [i for i, g in enumerate(grads) if g is not None]
        if not active:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: no gradients provided for any variable "
                "(every gradient is None)."
            )
        g = [jnp.asarray(grads[i]) for i in active]
        if self.loss_scale_factor is not None:
            g = [x / self.loss_scale_factor for x in g]
        old_params = [params[i] for i in active]
        old_values = list(values)

        if accum:
            is_update = (raw_step + 1) % accum == 0
            acc_index = [index[id(self._accumulated_gradients[i])] for i in active]
            summed = [x + values[j] for x, j in zip(g, acc_index)]
            g = [jnp.where(is_update, s / accum, x) for s, x in zip(summed, g)]
            new_acc = [jnp.where(is_update, jnp.zeros_like(s), s) for s in summed]

        g = self._clip_gradients(g)
        p = self._apply_weight_decay(old_params, active, lr)
        new_p, values = self._run_update(g, p, active, values, index, lr, step)

        if accum:  # only every `accum`-th call moves the weights and the slots
            new_p = [jnp.where(is_update, a, b) for a, b in zip(new_p, old_params)]
            values = [
                v if v is o else jnp.where(is_update, v, o) for v, o in zip(values, old_values)
            ]
            for j, a in zip(acc_index, new_acc):
                values[j] = a.astype(old_values[j].dtype)
        for i, x in zip(active, new_p):
            params[i] = x.astype(params[i].dtype)

        if self.use_ema:
            params = self._update_ema(params, values, index, step)
        for i in active:  # constraints project after the update, as in Keras
            constraint = getattr(self._trainable_variables[i], "constraint", None)
            if constraint is not None:
                params[i] = jnp.asarray(constraint(params[i])).astype(params[i].dtype)
        values[index[id(self._iterations)]] = raw_step + 1
        return params, values

    def _clip_gradients(self, grads: list) -> list:
        if self.clipnorm and self.clipnorm > 0:
            c = self.clipnorm
            return [x * c / jnp.maximum(jnp.sqrt(jnp.sum(jnp.square(x))), c) for x in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return optax.clip_by_global_norm(self.global_clipnorm).update(grads, None)[0]
        if self.clipvalue and self.clipvalue > 0:
            return optax.clip(self.clipvalue).update(grads, None)[0]
        return grads

    def _apply_weight_decay(self, params: list, active: list, lr: Any) -> list:
        if self.weight_decay is None:
            return params
        out = []
        for p, i in zip(params, active):
            if self._use_weight_decay(self._trainable_variables[i]):
                wd = jnp.asarray(self.weight_decay, p.dtype)
                p = p - p * wd * lr.astype(p.dtype)
            out.append(p)
        return out

    def _run_update(self, grads, params, active, values, index, lr, step):
        """Runs the optimizer's own step on the active variables; returns new params
        and the full list of optimizer values."""
        if type(self).update_step is Optimizer.update_step:
            state = {name: [values[index[id(slots[i])]] for i in active]
                     for name, slots in self._slots.items()}  # fmt: skip
            state.update({name: values[index[id(v)]] for name, v in self._scalars.items()})
            new_params, new_state = self._update_step(grads, params, state, lr, step)
            for name, slots in self._slots.items():
                for i, x in zip(active, new_state[name]):
                    j = index[id(slots[i])]
                    values[j] = x.astype(values[j].dtype)
            for name, v in self._scalars.items():
                j = index[id(v)]
                values[j] = new_state[name].astype(values[j].dtype)
            return list(new_params), values
        return self._run_keras_update_step(grads, params, active, values, lr)

    def _update_step(self, grads: list, params: list, state: dict, lr: Any, step: Any):
        """Built-ins: the vectorised pure step. ``state`` maps slot names to lists
        aligned with ``params`` (and scalar state names to values); returns
        ``(new_params, new_state)``. ``step`` counts updates before this one."""
        raise NotImplementedError(f"{type(self).__name__} does not define `_update_step`.")

    def _run_keras_update_step(self, grads, params, active, values, lr):
        # A Keras-style subclass reads and assigns variables: run it in a stateless scope.
        variables = [self._trainable_variables[i] for i in active]
        mapping = list(zip(self._variables, values)) + list(zip(variables, params))
        with StatelessScope(mapping) as scope:
            for g, v in zip(grads, variables):
                self.update_step(g, v, lr)
        new_params = [scope.get_current_value(v) for v in variables]
        return new_params, [scope.get_current_value(v) for v in self._variables]

    def _update_ema(self, params: list, values: list, index: dict, step: Any) -> list:
        freq = self.ema_overwrite_frequency
        for i, average in enumerate(self._model_variables_moving_average):
            j = index[id(average)]
            w = params[i]
            # The first step copies the weights; later steps average.
            momentum = (step != 0).astype(w.dtype) * self.ema_momentum
            values[j] = momentum * values[j] + (1 - momentum) * w
            if freq:
                params[i] = jnp.where((step + 1) % freq == 0, values[j], w)
        return params

    # ------------------------------------------------------ stateful API
    def _variable_index(self, variable: Any) -> int:
        """The index of ``variable`` among those the optimizer was built with."""
        i = self._trainable_variables_indices.get(id(variable))
        if i is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} can only update the variables it was "
                "built with; recreate an optimizer for new variables. Received unknown "
                f"variable {variable.path!r}."
            )
        return i

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None):
        """Updates ``trainable_variables`` (default: those it was built with) in place,
        building the optimizer on the first call."""
        grads = list(grads)
        if not grads:
            return
        who = f"{type(self).__name__} {self.name!r}"
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{who}: to apply gradients without variables, build the optimizer first "
                    "with `optimizer.build(trainable_variables)`; it is not built."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{who}: expected one gradient per variable ({len(trainable_variables)}); "
                f"received {len(grads)} gradients."
            )
        if not self.built:
            self.build(trainable_variables)
        _warn_missing(grads, trainable_variables)
        full: list[Any] = [None] * len(self._trainable_variables)
        for g, v in zip(grads, trainable_variables):
            full[self._variable_index(v)] = g
        fn = self._compiled_update(full)
        if fn is None:  # inside a trace or a stateless scope: inline, through assign
            new_params, new_values = self._apply_values(
                [v.value for v in self._variables], full,
                [v.value for v in self._trainable_variables],
            )  # fmt: skip
            for v, x in zip(self._trainable_variables, new_params):
                v.assign(x)
            for v, x in zip(self._variables, new_values):
                v.assign(x)
            return
        # Eager: one consistent read, the compiled update, one write-back (core/pure_call).
        values = snapshot(self._variables)
        params = snapshot(self._trainable_variables)
        new_params, new_values = fn(values, full, params)
        write_back([*self._trainable_variables, *self._variables], [*new_params, *new_values])

    def apply_gradients(self, grads_and_vars: Any) -> Variable:
        """``apply`` for a list of ``(gradient, variable)`` pairs; returns ``iterations``."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self.apply(grads, variables)
        return self._iterations

    def _compiled_update(self, grads: list) -> Callable | None:
        """``_apply_values`` compiled once per configuration; ``None`` where the update
        runs inline instead: inside a trace or a stateless scope (the caller compiles),
        or with a plain-callable learning rate (re-evaluated every call, as in Keras)."""
        lr = self._learning_rate
        if (
            in_stateless_scope()
            or (callable(lr) and not isinstance(lr, (LearningRateSchedule, Variable)))
            or any(isinstance(g, jax.core.Tracer) for g in grads)
        ):
            return None
        # Hyperparameters are read at trace time: recompile when one changes.
        key = (
            id(lr), len(self._variables),
            tuple((k, v) for k, v in sorted(self.__dict__.items())
                  if isinstance(v, (int, float, str, type(None)))),
        )  # fmt: skip
        if self._jit_cache is None or self._jit_cache[0] != key:
            # A fresh function: jax.jit would share its cache among equal bound methods.
            def update(values, grads, params):
                return self._apply_values(values, grads, params)

            object.__setattr__(self, "_jit_cache", (key, jax.jit(update)))
        return self._jit_cache[1]

    def scale_loss(self, loss: Any) -> Any:
        """``loss * loss_scale_factor`` (unchanged when there is none)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        """With ``use_ema``, replaces the variables by their moving averages (``fit`` calls
        it after the last epoch)."""
        if self.use_ema:
            for v, average in zip(var_list, self._model_variables_moving_average):
                v.assign(average.value)

    # ------------------------------------------------------------ weights
    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assigns ``optimizer.variables`` from a list of arrays, in order."""
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: call `optimizer.build(trainable_variables)` "
                "before set_weights(); it is not built."
            )
        for v, w in zip(self._variables, weights):
            if tuple(v.shape) != tuple(np.shape(w)):
                raise ValueError(
                    f"Optimizer variable {v.path!r} has shape {v.shape}; received a weight of "
                    f"shape {tuple(np.shape(w))}."
                )
            v.assign(w)

    def save_own_variables(self, store: Any) -> None:
        """Writes ``store["0"], store["1"], ...`` in ``variables`` order (Keras's layout)."""
        for i, v in enumerate(self._variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Reads what :meth:`save_own_variables` wrote (a Keras-saved optimizer too)."""
        if len(store.keys()) != len(self._variables):
            warnings.warn(
                f"Skipping variable loading for optimizer {self.name!r}: it has "
                f"{len(self._variables)} variables, the saved optimizer has {len(store.keys())}"
                + (" (it has not been built yet)." if not self.built else "."),
                stacklevel=2,
            )
            return
        for i, v in enumerate(self._variables):
            v.assign(np.asarray(store[str(i)]))

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        """The Keras config: ``learning_rate`` as a float or a schedule's config dict."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = _serialize_schedule(lr)
        elif isinstance(lr, Variable):
            lr = float(lr.numpy())
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        config.update({attr: getattr(self, attr) for attr in self._config_attrs})
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _deserialize_schedule(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


# The base arguments (``learning_rate`` ... ``name``) as ``Optimizer.__init__`` declares them.
_BASE_ARGUMENTS = [
    p for p in inspect.signature(Optimizer.__init__, eval_str=True).parameters.values()
    if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"
]  # fmt: skip


def map_tensors(fn: Callable, *lists: list) -> tuple[list, ...]:
    """Applies ``fn`` tensor by tensor over aligned lists; returns one list per output.

    >>> map_tensors(lambda a, b: (a + b, a * b), [1, 2], [3, 4])
    ([4, 6], [3, 8])
    """
    outs = [fn(*args) for args in zip(*lists)]
    return tuple(list(col) for col in zip(*outs))
