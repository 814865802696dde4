"""Layer names: the unique defaults (``dense``, ``dense_1``...) and the name
scope that gives weights created outside a call their ``layer/...`` path.

Example:
    >>> from callax.core.names import to_snake_case
    >>> to_snake_case("Conv2DTranspose")
    'conv2d_transpose'
"""

from __future__ import annotations

import re

from callax.core import call_context as _ctx

_name_counts: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    """A class name as a default layer name (``Conv2D`` -> ``conv2d``)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Conv2D -> conv2d
    return name.lstrip("_") or "layer"


def unique_name(base: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``, ... (reset by ``clear_session``)."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset_names() -> None:
    """Forgets the names handed out (the next ``Dense`` is ``dense`` again)."""
    _name_counts.clear()


class layer_name_scope:
    """Pushes ``layer`` on the call context so variables made outside a call
    (``build`` called by hand, a symbolic build) still get ``layer/...`` paths.
    Inside the layer's own call or scope already, it changes nothing."""

    def __init__(self, layer: object):
        self.layer = layer

    def __enter__(self):
        self.parent = _ctx.current_frame()
        if self.parent is not None and self.parent.layer is self.layer:
            self.frame = None  # already this layer's scope: "dense/dense/kernel" never
            return
        self.frame = _ctx.Frame(
            self.layer, self.parent, None, 0, {} if self.parent is None else self.parent.counts
        )
        _ctx._local.frame = self.frame

    def __exit__(self, *exc):
        if self.frame is not None:
            _ctx._local.frame = self.parent
