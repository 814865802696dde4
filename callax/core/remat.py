"""Rematerialization scopes (Keras 3's ``RematScope``): layers created inside a
scope recompute their forward pass in the backward pass (``jax.checkpoint``)
instead of storing its intermediate values, trading compute for memory.

As in Keras, the mode is taken when the layer is created and applies to every
later call (``fit`` included). Modes:

- ``"full"``: the layer's whole ``call`` is checkpointed;
- ``"activations"``: only the layer's ``activation`` (Dense(..., activation=...));
- ``"larger_than"``: layers whose output has more than ``output_size_threshold``
  elements;
- ``"list_of_layers"``: layers whose names are in ``layer_names``;
- ``None``: none (disables an enclosing scope).

Layers holding non-trainable state (BatchNormalization, Dropout's seed) run
without rematerialization in ``"full"``/``"larger_than"`` modes: state written
inside a checkpointed function could not be returned.

Example:
    >>> import jax, callax
    >>> with callax.RematScope(mode="full"):
    ...     layer = callax.layers.Dense(4, activation="relu")
    >>> x = callax.ops.ones((2, 3))
    >>> "remat" in str(jax.make_jaxpr(lambda x: layer(x))(x))
    True
"""

from __future__ import annotations

import math
import threading
from typing import Any, NamedTuple

import jax

_MODES = (None, "full", "activations", "larger_than", "list_of_layers")
_local = threading.local()


class RematMode(NamedTuple):
    mode: str | None
    output_size_threshold: int
    layer_names: tuple


class RematScope:
    """Rematerialization for the layers created inside (see the module docs).

    Args:
        mode: ``"full"``, ``"activations"``, ``"larger_than"``,
            ``"list_of_layers"`` or ``None``.
        output_size_threshold: for ``"larger_than"``.
        layer_names: for ``"list_of_layers"``.
    """

    def __init__(
        self,
        mode: str | None = "full",
        output_size_threshold: int = 1024,
        layer_names: Any = None,
    ):
        if mode not in _MODES:
            raise ValueError(
                f"RematScope: mode must be one of {list(_MODES)}; received mode={mode!r}."
            )
        if mode == "list_of_layers" and not layer_names:
            raise ValueError(
                "RematScope: mode='list_of_layers' needs layer_names; received "
                f"layer_names={layer_names!r}."
            )
        self.mode = mode
        self.output_size_threshold = int(output_size_threshold)
        self.layer_names = tuple(layer_names or ())

    def __enter__(self) -> RematScope:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(RematMode(self.mode, self.output_size_threshold, self.layer_names))
        return self

    def __exit__(self, *exc: Any) -> None:
        _local.stack.pop()


def get_current_remat_mode() -> RematMode | None:
    """The innermost scope's settings, or ``None`` outside any (or in a
    ``mode=None`` scope)."""
    stack = getattr(_local, "stack", None)
    if not stack or stack[-1].mode is None:
        return None
    return stack[-1]


def _size(tree: Any) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree))


def wrap(layer: Any, mode: RematMode, args: tuple, kwargs: dict) -> Any:
    """The callable a layer created under ``mode`` runs instead of ``layer.call``."""
    call = layer.call
    if mode.mode == "list_of_layers" and layer.name not in mode.layer_names:
        return call
    if mode.mode != "activations" and layer.non_trainable_variables:
        # State written during the call (BatchNorm statistics, seed state) cannot
        # leave a checkpointed function: such layers run as they are.
        return call
    if mode.mode == "activations":
        activation = getattr(layer, "activation", None)
        if not callable(activation):
            return call

        def with_remat_activation(*a: Any, **k: Any) -> Any:
            d = layer.__dict__
            d["activation"] = jax.checkpoint(activation)  # no restamp: restored below
            try:
                return call(*a, **k)
            finally:
                d["activation"] = activation

        return with_remat_activation

    def checkpointed(*a: Any, **k: Any) -> Any:
        # Arrays are the checkpoint's arguments; everything else (flags, None, mask
        # choices) is closed over as a constant.
        leaves, treedef = jax.tree_util.tree_flatten((a, k))
        arrays = [i for i, v in enumerate(leaves) if isinstance(v, jax.Array)]

        def pure(*values: Any) -> Any:
            filled = list(leaves)
            for i, v in zip(arrays, values):
                filled[i] = v
            a2, k2 = jax.tree_util.tree_unflatten(treedef, filled)
            return call(*a2, **k2)

        if mode.mode == "larger_than":
            out = jax.eval_shape(pure, *[leaves[i] for i in arrays])
            if _size(out) <= mode.output_size_threshold:
                return pure(*[leaves[i] for i in arrays])
        return jax.checkpoint(pure)(*[leaves[i] for i in arrays])

    return checkpointed
