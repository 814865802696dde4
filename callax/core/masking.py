"""Masks that travel with tensors between layers (Keras's ``_keras_mask``).

A layer that produces a mask (``Embedding(mask_zero=True)``, ``Masking``)
attaches it to its output; the next layer whose ``call`` has a ``mask``
argument receives it automatically, and layers that ``supports_masking`` pass
it on (``compute_mask``). Concrete arrays carry the mask as an attribute, so it
survives between separate eager calls. Traced values (inside ``jit``, ``fit``,
``stateless_call``) cannot hold attributes, so there the mask lives in a table on
the outermost call's frame for the duration of that call.

Until the first mask is attached anywhere, the call protocol skips all of this.

Example:
    >>> import numpy as np, callax
    >>> emb = callax.layers.Embedding(10, 4, mask_zero=True)
    >>> x = emb(np.array([[3, 1, 0, 0]]))
    >>> callax.core.masking.get_mask(x).tolist()
    [[True, True, False, False]]
"""

from __future__ import annotations

from typing import Any

from callax.core import call_context as _ctx

# Flipped to True by the first `set_mask`: the protocol's cheap "is masking in use" test.
in_use = [False]


def _root_table() -> dict | None:
    frame = _ctx.current_frame()
    if frame is None:
        return None
    while frame.parent is not None:
        frame = frame.parent
    if frame.record is None:
        frame.record = {}
    return frame.record.setdefault("masks", {})


def set_mask(x: Any, mask: Any) -> None:
    """Attaches ``mask`` to tensor ``x`` (no-op for ``None`` or non-tensors)."""
    if mask is None or not hasattr(x, "shape"):
        return
    in_use[0] = True
    try:
        x._keras_mask = mask
    except AttributeError:  # a tracer: keep it for the rest of the outermost call
        table = _root_table()
        if table is not None:
            table[id(x)] = (x, mask)


def get_mask(x: Any) -> Any:
    """The mask attached to ``x``, or ``None``."""
    mask = getattr(x, "_keras_mask", None)
    if mask is not None or not in_use[0]:
        return mask
    frame = _ctx.current_frame()
    while frame is not None and frame.parent is not None:
        frame = frame.parent
    if frame is None or not isinstance(frame.record, dict):
        return None
    entry = frame.record.get("masks", {}).get(id(x))
    return entry[1] if entry is not None and entry[0] is x else None


def mask_structure(x: Any) -> Any:
    """Masks of a tensor or a list/tuple of tensors (``None`` where absent)."""
    if isinstance(x, (list, tuple)):
        masks = [get_mask(v) for v in x]
        return None if all(m is None for m in masks) else masks
    return get_mask(x)


def attach_structure(outputs: Any, masks: Any) -> None:
    if isinstance(outputs, (list, tuple)):
        if isinstance(masks, (list, tuple)):
            for o, m in zip(outputs, masks):
                set_mask(o, m)
        else:
            for o in outputs:
                set_mask(o, masks)
    else:
        set_mask(outputs, masks)
