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
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __truediv__(self, other):
        return _ops().true_divide(self, other)

    def __rtruediv__(self, other):
        return _ops().true_divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().absolute(self)

    def __invert__(self):
        return _ops().logical_not(self)

    # No __eq__: tensors stay hashable and comparable by identity (as in Keras).
    def __ne__(self, other):
        return _ops().not_equal(self, other)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __and__(self, other):
        return _ops().logical_and(self, other)

    def __rand__(self, other):
        return _ops().logical_and(other, self)

    def __or__(self, other):
        return _ops().logical_or(self, other)

    def __ror__(self, other):
        return _ops().logical_or(other, self)

    def __xor__(self, other):
        return _ops().logical_xor(self, other)

    def __rxor__(self, other):
        return _ops().logical_xor(other, self)

    def __round__(self, ndigits=None):
        return _ops().round(self, 0 if ndigits is None else ndigits)

    def __getitem__(self, key):
        from callax.models.symbolic import get_item

        return get_item(self, key)

    def reshape(self, newshape):
        return _ops().reshape(self, newshape)

    def squeeze(self, axis=None):
        return _ops().squeeze(self, axis=axis)

    def astype(self, dtype):
        return _ops().cast(self, dtype)

    @property
    def T(self):  # noqa: N802 — numpy's name
        return _ops().transpose(self)


def _ops():
    from callax import ops

    return ops


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
