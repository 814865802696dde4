"""Symbolic tensors: what ``callax.Input`` returns and Functional models are built from.

A ``KerasTensor`` has a shape (``None`` for unknown dimensions), a dtype, and a
history: the layer call (node) that produced it. Calling a layer on KerasTensors
records a node instead of computing; so does any ``callax.ops`` function and the
Python operators below (``a + 1``, ``x[:, 0]``, ``a @ b``). ``callax.Model(inputs,
outputs)`` walks those nodes back from ``outputs`` into a graph.

Example:
    >>> import callax
    >>> x = callax.Input((4,), name="x")
    >>> x
    <KerasTensor shape=(None, 4), dtype=float32, name=x>
    >>> y = (x * 2)[:, :3]
    >>> y.shape
    (None, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp

from callax.core import config


class KerasTensor:
    """A placeholder with a shape and dtype, produced by ``Input`` or a layer call.

    Attributes:
        shape: a tuple whose entries are ints or ``None`` (unknown, e.g. batch).
        dtype: a dtype name such as ``"float32"``.
        name: an optional name (``Input(name=...)``).
        history: ``(node, tensor_index)``: the node (layer or op call) that produced
            this tensor and its position among the node's flat outputs; ``None`` for
            a tensor no layer produced yet.
    """

    # numpy defers `ndarray + KerasTensor` to our reflected operators
    __array_priority__ = 200

    def __init__(self, shape, dtype=None, sparse=False, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        # "string": host-side text (TextVectorization, StringLookup), no JAX dtype
        self.dtype = "string" if dtype == "string" else jnp.dtype(dtype or config.floatx()).name
        self.sparse = bool(sparse)
        self.name = name
        self.history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> Any:
        """The node that produced this tensor (``None`` if none did)."""
        return None if self.history is None else self.history[0]

    @property
    def _keras_history(self) -> tuple:
        """``(layer, node_index, tensor_index)`` as in Keras."""
        if self.history is None:
            return (None, 0, 0)
        node, index = self.history
        return (node.layer, node.layer._inbound_nodes.index(node), index)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # ---------------------------------------------------------- no values here
    def _no_value(self, what: str) -> TypeError:
        return TypeError(
            f"A symbolic KerasTensor ({self.name or 'a layer output'}, shape {self.shape}) "
            f"cannot be used as {what}: it stands for data a Functional model will receive "
            "and has no values while the graph is built. Use callax.ops functions or "
            "layers on it (they add nodes to the graph), or wrap the code in a layer "
            "(`callax.layers.Lambda` or a Layer subclass) whose `call` gets real arrays."
        )

    def __array__(self, *a, **k):
        raise self._no_value("a numpy array")

    def __jax_array__(self):
        raise self._no_value("a JAX array (jax.numpy functions need real arrays)")

    def __bool__(self):
        raise self._no_value("a Python bool")

    def __int__(self):
        raise self._no_value("a Python int")

    def __float__(self):
        raise self._no_value("a Python float")

    def __iter__(self):
        raise self._no_value("an iterable (unpack it with callax.ops.unstack or slicing)")

    # ------------------------------------------------- operators build nodes
    def __add__(self, other):
        return _OPERATORS["add"](self, other)

    def __radd__(self, other):
        return _OPERATORS["add"](other, self)

    def __sub__(self, other):
        return _OPERATORS["subtract"](self, other)

    def __rsub__(self, other):
        return _OPERATORS["subtract"](other, self)

    def __mul__(self, other):
        return _OPERATORS["multiply"](self, other)

    def __rmul__(self, other):
        return _OPERATORS["multiply"](other, self)

    def __matmul__(self, other):
        return _OPERATORS["matmul"](self, other)

    def __rmatmul__(self, other):
        return _OPERATORS["matmul"](other, self)

    def __truediv__(self, other):
        return _OPERATORS["true_divide"](self, other)

    def __rtruediv__(self, other):
        return _OPERATORS["true_divide"](other, self)

    def __floordiv__(self, other):
        return _OPERATORS["floor_divide"](self, other)

    def __rfloordiv__(self, other):
        return _OPERATORS["floor_divide"](other, self)

    def __mod__(self, other):
        return _OPERATORS["mod"](self, other)

    def __rmod__(self, other):
        return _OPERATORS["mod"](other, self)

    def __pow__(self, other):
        return _OPERATORS["power"](self, other)

    def __rpow__(self, other):
        return _OPERATORS["power"](other, self)

    def __neg__(self):
        return _OPERATORS["negative"](self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _OPERATORS["absolute"](self)

    def __invert__(self):
        return _OPERATORS["logical_not"](self)

    # No __eq__: tensors stay hashable and comparable by identity (as in Keras).
    def __ne__(self, other):
        return _OPERATORS["not_equal"](self, other)

    def __lt__(self, other):
        return _OPERATORS["less"](self, other)

    def __le__(self, other):
        return _OPERATORS["less_equal"](self, other)

    def __gt__(self, other):
        return _OPERATORS["greater"](self, other)

    def __ge__(self, other):
        return _OPERATORS["greater_equal"](self, other)

    def __and__(self, other):
        return _OPERATORS["logical_and"](self, other)

    def __rand__(self, other):
        return _OPERATORS["logical_and"](other, self)

    def __or__(self, other):
        return _OPERATORS["logical_or"](self, other)

    def __ror__(self, other):
        return _OPERATORS["logical_or"](other, self)

    def __xor__(self, other):
        return _OPERATORS["logical_xor"](self, other)

    def __rxor__(self, other):
        return _OPERATORS["logical_xor"](other, self)

    def __round__(self, ndigits=None):
        return _OPERATORS["round"](self, 0 if ndigits is None else ndigits)

    def __getitem__(self, key):
        return _OPERATORS["get_item"](self, key)

    def reshape(self, newshape):
        return _OPERATORS["reshape"](self, newshape)

    def squeeze(self, axis=None):
        return _OPERATORS["squeeze"](self, axis=axis)

    def astype(self, dtype):
        return _OPERATORS["cast"](self, dtype)

    @property
    def T(self):  # noqa: N802 — numpy's name
        return _OPERATORS["transpose"](self)


class _Operators(dict):
    """The ops KerasTensor operators record, by ``callax.ops`` name. ``callax.ops``
    (a floor above core) fills it at import (:func:`register_operators`); reading
    a missing entry says so instead of a bare ``KeyError``."""

    def __missing__(self, name: str) -> Any:
        raise RuntimeError(
            f"KerasTensor operators need callax.ops, which registers {name!r} and the other "
            "operator ops when it is imported: `import callax` (or `import callax.ops`) "
            "before building a graph."
        )


_OPERATORS: dict[str, Callable] = _Operators()

# The callax.ops functions the operators above use (what register_operators expects).
OPERATOR_OPS = (
    "absolute", "add", "cast", "floor_divide", "get_item", "greater", "greater_equal",
    "less", "less_equal", "logical_and", "logical_not", "logical_or", "logical_xor",
    "matmul", "mod", "multiply", "negative", "not_equal", "power", "reshape", "round",
    "squeeze", "subtract", "transpose", "true_divide",
)  # fmt: skip


def register_operators(ops: Mapping[str, Callable]) -> None:
    """Gives KerasTensor's Python operators (``+``, ``x[i]``, ``@``, ``.T``...)
    the ops they record: ``ops`` maps each name in ``OPERATOR_OPS`` to the
    ``callax.ops`` function of that name. ``callax.ops`` calls it at import.

    Raises:
        KeyError: naming the operator ops missing from ``ops``.

    Example:
        >>> import callax
        >>> x = callax.Input((4,))
        >>> (x + 1).node.layer.op_name      # recorded by callax.ops.add
        'add'
    """
    missing = [name for name in OPERATOR_OPS if name not in ops]
    if missing:
        raise KeyError(
            f"register_operators: every KerasTensor operator op must be given; missing "
            f"{missing}, received {sorted(ops)}."
        )
    _OPERATORS.update({name: ops[name] for name in OPERATOR_OPS})


def any_symbolic(structure: Any) -> bool:
    """True if a (nested list/tuple/dict) structure holds a KerasTensor."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(any_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(any_symbolic(s) for s in structure.values())
    return False


def is_keras_tensor(x: Any) -> bool:
    """True for a symbolic tensor (``callax.Input`` or a layer output on one)."""
    return isinstance(x, KerasTensor)
