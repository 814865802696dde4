"""Symbolic tensors: what ``callax.Input`` returns and Functional models are built from.

A ``KerasTensor`` has a shape (``None`` for unknown dimensions), a dtype, and a
history: the layer call that produced it. Calling a layer on KerasTensors
records a node instead of computing; ``callax.Model(inputs, outputs)`` walks
those nodes back from ``outputs`` into a graph.
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
        history: ``(node, tensor_index)`` or ``None`` for an ``Input``.
    """

    def __init__(self, shape, dtype=None, sparse=False, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = jnp.dtype(dtype or config.floatx()).name
        self.sparse = sparse
        self.name = name
        self.history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *a, **k):
        raise TypeError(
            "A symbolic KerasTensor (from callax.Input or a layer called on one) has no "
            "values: it stands for data a Functional model will receive. Call the model "
            "on real arrays to compute, or use callax ops / layers to build the graph."
        )

    def __bool__(self):
        raise TypeError(
            "A symbolic KerasTensor cannot be used as a Python bool (its value is unknown "
            "while the Functional graph is built)."
        )


def any_symbolic(structure: Any) -> bool:
    """True if a (nested list/tuple/dict) structure holds a KerasTensor."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(any_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(any_symbolic(s) for s in structure.values())
    return False
