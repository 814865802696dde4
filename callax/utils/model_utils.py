"""Helpers over symbolic tensors and batches under ``keras.utils`` names.

``unpack_x_y_sample_weight`` is the training loop's own (this module sits above
``callax.training``; ``callax.utils`` loads it on first use).

Example:
    >>> import callax
    >>> x = callax.Input((3,))
    >>> y = callax.layers.Dense(2)(x)
    >>> callax.utils.get_source_inputs(y)[0] is x
    True
    >>> callax.utils.pack_x_y_sample_weight(1, 2)
    (1, 2)
"""

from __future__ import annotations

from typing import Any

from callax.core.keras_tensor import KerasTensor, is_keras_tensor
from callax.training.data_adapters import unpack_x_y_sample_weight


def get_source_inputs(tensor: Any) -> list[KerasTensor]:
    """The ``Input`` tensors (graph sources) that ``tensor`` was computed from,
    in first-seen order."""
    if not is_keras_tensor(tensor):
        raise ValueError(
            "get_source_inputs: expected a symbolic KerasTensor (from callax.Input or a "
            f"layer called on one); received {type(tensor).__name__}."
        )
    sources: list[KerasTensor] = []
    seen: set[int] = set()
    stack = [tensor]
    visited: set[int] = set()
    while stack:
        t = stack.pop()
        if id(t) in visited:
            continue
        visited.add(id(t))
        node = t.node
        if node is None or node.is_input or not node.input_tensors:
            if id(t) not in seen:
                seen.add(id(t))
                sources.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return sources


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Packs a batch as Keras does: ``x`` alone stays unwrapped (a tuple/list ``x``
    is wrapped as ``(x,)``), else ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


__all__ = ["get_source_inputs", "is_keras_tensor", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight"]  # fmt: skip
