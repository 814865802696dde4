"""Structure stamps: how a compiled-call cache knows that ITS layer tree changed.

Every layer carries ``_structure``, a number drawn from one global counter when
the layer is created and again whenever its own structure changes in a way a
compiled call may have baked in: a sublayer, variable or seed generator (or a
container of them) assigned, a weight added, ``trainable`` flipped, a built-in
layer's setting changed after building, a forward hook added or removed.

A cache (``core/kernels.py``, ``callax.jit`` in ``core/compiled_call.py``)
compares the stamps of its own tree (:func:`structure_stamps`), so creating or
changing an unrelated layer never re-traces it; ``structure_version[0]`` (the
counter) tells it cheaply whether anything changed anywhere since it last
looked, so the walk over the tree runs only then.

This module also names the concrete JAX array class (``ArrayImpl``), which the
caches test with ``type(x) is ArrayImpl`` on their hot paths.

Example:
    >>> import callax
    >>> from callax.core.structure import structure_stamps
    >>> dense = callax.layers.Dense(2)
    >>> before = structure_stamps(dense)
    >>> _ = callax.layers.Dense(3)       # an unrelated layer: this tree is unchanged
    >>> structure_stamps(dense) == before
    True
    >>> dense.build((None, 4))           # a new weight: this tree changed
    >>> structure_stamps(dense) == before
    False
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

try:  # the concrete array class, without starting the backend at import time
    from jax._src.array import ArrayImpl
except ImportError:  # pragma: no cover - a JAX that moved it
    ArrayImpl = type(jnp.zeros(()))

# The global counter (a one-item list, so importers share and mutate one object).
structure_version = [0]


def restamp(layer: Any) -> None:
    """Gives ``layer`` a new stamp: its structure changed (a compiled call that
    baked in the old one must re-trace)."""
    structure_version[0] += 1
    layer.__dict__["_structure"] = structure_version[0]


def structure_stamps(layer: Any) -> tuple:
    """The stamps of ``layer`` and its sublayers, in walk order: changes when
    (and only when) this tree's structure changed."""
    return tuple(sub.__dict__.get("_structure", 0) for sub in layer._flatten_layers())
