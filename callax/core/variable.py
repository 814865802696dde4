"""Variables: named, mutable handles to ``jax.Array`` values.

Weights, BatchNorm statistics, seed-generator state, metric and optimizer state
are all variables: one kind of state, one set of tools (``stateless_call``,
saving, the training step).

Example:
    >>> import numpy as np
    >>> from callax import Variable
    >>> v = Variable(np.ones((2, 2)), name="w")
    >>> v.shape, v.dtype, v.path
    ((2, 2), dtype('float32'), 'w')
    >>> v.assign(v * 3)
    >>> float(v.numpy().sum())
    12.0

JAX functions (``jnp.*``) need the array itself: pass ``v.value`` (Python
operators such as ``x @ v`` or ``v * 2`` work on the variable directly).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import call_context, config
from callax.core import placement as _placement
from callax.core import stateless_scope as _scope_mod
from callax.core.local_scope import ThreadLocalScope

_scope_local = _scope_mod._local
_abstract = threading.local()
_autocast = threading.local()
_budget = threading.local()


class autocast_scope:
    """Within this block, floating variables with ``autocast=True`` read as
    ``dtype`` (how a ``mixed_*`` policy computes in half precision while
    storing float32 weights)."""

    # Not a ThreadLocalScope: every layer call under a mixed policy enters this
    # block, and the generic scope's looked-up store and field would add to each.

    def __init__(self, dtype):
        self.dtype = jnp.dtype(dtype)

    def __enter__(self):
        self._saved = getattr(_autocast, "dtype", None)
        _autocast.dtype = self.dtype

    def __exit__(self, *exc):
        _autocast.dtype = self._saved


class variable_budget(ThreadLocalScope):
    """Within this block, creating variables of more than ``max_bytes`` in all
    raises ``ValueError`` before the one over the limit is allocated: loading a
    file refuses a config that asks for huge layers instead of exhausting memory.
    ``what`` names the source in the message."""

    _store, _field = _budget, "scope"

    def __init__(self, max_bytes: int, what: str):
        self.max_bytes = int(max_bytes)
        self.what = what
        self.used = 0

    def spend(self, path: str, shape: tuple, dtype: Any) -> None:
        size = int(np.prod(shape, dtype=object)) * jnp.dtype(dtype).itemsize
        self.used += size
        if self.used > self.max_bytes:
            raise ValueError(
                f"{self.what} asks for variables of more than {self.max_bytes} bytes in all "
                f"(variable {path!r} of shape {tuple(shape)} and dtype {jnp.dtype(dtype).name} "
                f"brings them to {self.used} bytes); refusing to allocate them."
            )


class abstract_variables(ThreadLocalScope):
    """Within this block new variables are created without computing their
    initial value; reading one gives a zero array of the right shape, which under
    ``jax.eval_shape`` costs nothing. Values are computed on first real read."""

    _store, _field, _default = _abstract, "on", False

    def _entered_value(self) -> bool:
        return True


def _standardize_shape(shape) -> tuple[int, ...]:
    if shape is None:
        raise ValueError("A variable needs a shape: received None.")
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError as e:
        raise ValueError(
            f"A variable's shape must be fully known (ints); received {shape!r}."
        ) from e
    if any(d < 0 for d in shape):
        raise ValueError(f"A variable's shape cannot have negative dimensions: {shape}.")
    return shape


class Variable:
    """A named, mutable handle to an array.

    Args:
        initializer: an array-like initial value, or a callable
            ``initializer(shape, dtype)`` (then ``shape`` is required).
        shape: the shape, when ``initializer`` is a callable.
        dtype: storage dtype (default: the initializer value's float dtype or floatx).
        trainable: whether optimizers update it.
        name: the short name (``kernel``); ``path`` prefixes the names of the
            layers whose call or build created it (``model/dense/kernel``).
        regularizer, constraint: optional callables (``regularizer(value) -> loss``,
            ``constraint(value) -> projected value``).
        aggregation, synchronization: accepted for Keras compatibility.
    """

    __array_priority__ = 100  # so numpy defers `ndarray + Variable` to us
    _is_variable = True  # how stateless_scope.py (which variable.py imports) tells one

    def __init__(
        self,
        initializer: Any,
        shape: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
        regularizer: Callable | None = None,
        constraint: Callable | None = None,
        aggregation: str = "none",
        synchronization: str = "auto",
        autocast: bool = True,
    ):
        self.name = name or "variable"
        parent = call_context.current_path()
        self.path = f"{parent}/{self.name}" if parent else self.name
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint
        self.aggregation = aggregation
        self.synchronization = synchronization
        self.autocast = autocast
        self._initializer = None
        self._layout = None  # a NamedSharding under a callax.distribution, set below
        if callable(initializer) and not hasattr(initializer, "shape"):
            self._shape = _standardize_shape(shape)
            self._dtype = jnp.dtype(dtype or config.floatx())
            budget = getattr(_budget, "scope", None)
            if budget is not None:
                budget.spend(self.path, self._shape, self._dtype)
            self._initializer = initializer
            self._value = None
            self._layout = _placement.variable_sharding(self)
            if not getattr(_abstract, "on", False):
                self._materialize()
        else:
            value = initializer
            if dtype is None:
                dtype = getattr(value, "dtype", None)
                if dtype is None:
                    dtype = np.asarray(value).dtype
                if jnp.issubdtype(dtype, jnp.floating):
                    dtype = config.floatx()
            if _scope_mod.get_stateless_scope() is None and isinstance(value, jax.core.Tracer):
                raise ValueError(
                    f"Variable {self.path!r} cannot be created from a traced value "
                    "(inside jax.jit/grad) outside a stateless scope; create variables "
                    "in __init__ or build(), not in a jitted function."
                )
            value = jnp.asarray(value, dtype=dtype)
            if shape is not None and tuple(value.shape) != _standardize_shape(shape):
                raise ValueError(
                    f"Variable {self.path!r}: initial value has shape {tuple(value.shape)}, "
                    f"but shape={tuple(shape)} was given."
                )
            self._shape = tuple(value.shape)
            self._dtype = value.dtype
            self._value = value
            self._layout = _placement.variable_sharding(self)
            if self._layout is not None and not isinstance(value, jax.core.Tracer):
                self._value = _placement.place(value, self._layout, self.path)

    # ------------------------------------------------------------------ value
    def _materialize(self) -> jax.Array:
        value = self._initializer(self._shape, self._dtype)
        if self._layout is not None:  # host value: each device receives only its shard
            if not isinstance(value, jax.Array):
                value = np.asarray(value, dtype=self._dtype)
            value = _placement.place(value, self._layout, self.path)
        self._value = jnp.asarray(value, dtype=self._dtype)
        self._initializer = None
        return self._value

    @property
    def value(self) -> jax.Array:
        """The current value (the stateless scope's value inside one)."""
        scope = getattr(_scope_local, "scope", None)
        value = None if scope is None else scope.get_current_value(self)
        if value is None:
            value = self._value
            if value is None:
                if getattr(_abstract, "on", False):
                    value = jnp.zeros(self._shape, self._dtype)
                else:
                    value = self._materialize()
        cast = getattr(_autocast, "dtype", None)
        if cast is not None and self.autocast and value.dtype != cast and value.dtype.kind == "f":
            return value.astype(cast)
        return value

    def assign(self, value: Any) -> None:
        """Sets a new value (recorded in the stateless scope inside one)."""
        value = jnp.asarray(value, dtype=self._dtype)
        if tuple(value.shape) != self._shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"{self.path!r} of shape {self._shape}."
            )
        scope = getattr(_scope_local, "scope", None)
        if scope is not None:
            scope.add_update(self, value)
            return
        if isinstance(value, jax.core.Tracer):
            raise ValueError(
                f"Assigning a traced value to variable {self.path!r} outside a stateless "
                "scope would leak a tracer. Inside jax.jit/grad use "
                "layer.stateless_call(...) or callax.jit(model), which thread state "
                "through a StatelessScope."
            )
        self._store(value)

    def _store(self, value: Any) -> None:
        """``assign``'s last step: stores a checked array, keeping the variable's
        layout. Compiled calls write their state updates back through it directly
        (``core/pure_call.write_back``): ``assign`` checked those values' shape and
        dtype when the call was traced."""
        layout = getattr(self, "_layout", None)
        if layout is not None:  # keep the variable's layout (set_weights, fit's write-back)
            value = _placement.place(value, layout, self.path)
        self._value = value
        self._initializer = None

    def _set_layout(self, sharding: Any) -> None:
        """Lays the variable out as ``sharding`` from now on (its value moves now;
        every later ``assign`` keeps it), e.g. an optimizer slot like its variable."""
        self._layout = sharding
        value = self._value
        if value is not None and not isinstance(value, jax.core.Tracer):
            self._value = _placement.place(value, sharding, self.path)

    def assign_add(self, value: Any) -> None:
        self.assign(self.value + value)

    def assign_sub(self, value: Any) -> None:
        self.assign(self.value - value)

    def numpy(self) -> np.ndarray:
        """The value as a numpy array. In a job of several processes a value
        sharded over devices of several processes is gathered: a collective, so
        every process must call it (as ``np.asarray(variable)``)."""
        return _placement.host_value(self.value)

    # -------------------------------------------------------------- metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    def __len__(self) -> int:
        return self._shape[0]

    def __repr__(self) -> str:
        if self._value is None:
            return f"<Variable path={self.path}, shape={self._shape}, dtype={self._dtype.name}, uninitialized>"
        return (
            f"<Variable path={self.path}, shape={self._shape}, dtype={self._dtype.name}, "
            f"value={np.asarray(self.value)!r}>"
        )

    # -------------------------------------------------------- array protocol
    def __array__(self, dtype=None, copy=None):
        # Gathers a value spanning several processes (a collective), as numpy().
        return _placement.host_value(self.value, dtype)

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __getitem__(self, idx):
        return self.value[idx]

    def __iter__(self):
        return iter(self.value)

    def astype(self, dtype):
        return self.value.astype(dtype)

    @property
    def T(self):
        return self.value.T

    # Elementwise operators delegate to the value.
    def __neg__(self):
        return -self.value

    def __pos__(self):
        return self.value

    def __abs__(self):
        return abs(self.value)

    def __invert__(self):
        return ~self.value

    def __eq__(self, other):  # type: ignore[override]
        return self.value == _unwrap(other)

    def __ne__(self, other):  # type: ignore[override]
        return self.value != _unwrap(other)

    def __lt__(self, other):
        return self.value < _unwrap(other)

    def __le__(self, other):
        return self.value <= _unwrap(other)

    def __gt__(self, other):
        return self.value > _unwrap(other)

    def __ge__(self, other):
        return self.value >= _unwrap(other)


def _unwrap(x: Any) -> Any:
    return x.value if isinstance(x, Variable) else x


def _binary(name: str):
    def forward(self, other):
        return getattr(self.value, name)(_unwrap(other))

    forward.__name__ = name
    return forward


for _op in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
    "and", "or", "xor", "lshift", "rshift", "divmod",
):  # fmt: skip
    for _fmt in ("__{}__", "__r{}__"):
        _name = _fmt.format(_op)
        setattr(Variable, _name, _binary(_name))


def unwrap(x: Any) -> Any:
    """``x.value`` for a :class:`Variable`, else ``x`` unchanged."""
    return x.value if isinstance(x, Variable) else x
