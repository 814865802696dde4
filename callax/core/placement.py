"""Where variables and layer outputs live on the devices: the current distribution,
as core sees it.

``callax.distribution`` (a floor above core) defines the distributions
(``DataParallel``, ``ModelParallel``) and stores the one set with
``set_distribution`` here, through :func:`set_current_distribution`; core reads
it without importing that package. What core asks of a distribution is duck
typed: ``get_variable_layout(variable)`` and ``get_tensor_layout(path)``, each
returning ``None`` or an object whose ``backend_layout`` is a jax sharding.

- :func:`variable_sharding`: a new variable's ``NamedSharding`` (``Variable``
  places its value with it and keeps it on every ``assign``);
- :func:`place`: a value laid out as a sharding (a no-op when it already is);
- :func:`layout_outputs`: ``Layer.__call__`` lays out a layer's outputs as the
  distribution's tensor layout for ``"<layer path>/output"`` says, as in Keras;
- :func:`to_host` / :func:`host_value`: numpy values of arrays, gathered with
  JAX's ``multihost_utils.process_allgather`` when they are sharded over devices
  of several processes (``jax.distributed``): then a collective, which every
  process must call in the same order (``Variable.numpy``, ``Layer.get_weights``
  and ``Model.get_weights`` read through them).

With no distribution set each costs one global read.

Example:
    >>> from callax.core import placement
    >>> placement.current_distribution() is None
    True
    >>> import callax
    >>> placement.variable_sharding(callax.Variable(1.0)) is None
    True
    >>> placement.host_value(callax.Variable([1.0, 2.0]).value)
    array([1., 2.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from callax.core.call_context import current_path

# The global distribution, as in Keras (not per thread); a one-item list so that
# readers share one object.
_current: list[Any] = [None]


def current_distribution() -> Any:
    """The distribution ``callax.distribution.set_distribution`` set, or ``None``."""
    return _current[0]


def set_current_distribution(distribution: Any) -> None:
    """Stores the current distribution (``callax.distribution`` validates it)."""
    _current[0] = distribution


def variable_sharding(variable: Any) -> Any:
    """The ``NamedSharding`` for ``variable`` under the current distribution, or
    ``None`` when there is none."""
    dist = _current[0]
    if dist is None:
        return None
    return canonical(dist.get_variable_layout(variable).backend_layout)


def canonical(sharding: Any) -> Any:
    """``sharding`` without trailing ``None``s in its spec, as XLA returns it, so
    a state array keeps one sharding key before and after a step (one compile)."""
    if not isinstance(sharding, jax.sharding.NamedSharding):
        return sharding
    spec = tuple(sharding.spec)
    while spec and spec[-1] is None:
        spec = spec[:-1]
    if spec == tuple(sharding.spec):
        return sharding
    return jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec(*spec))


def place(value: jax.Array, sharding: Any, path: str) -> jax.Array:
    """``value`` (a variable's, ``path`` names it in errors) laid out as
    ``sharding`` (a no-op when it already is)."""
    current = getattr(value, "sharding", None)
    # Only a NamedSharding counts as placed: on a one-device mesh a SingleDeviceSharding
    # is "equivalent", but the variable should still report its layout's spec.
    if isinstance(current, jax.sharding.NamedSharding) and current.is_equivalent_to(
        sharding, value.ndim
    ):
        return value
    try:
        return jax.device_put(value, sharding)
    except ValueError as e:
        raise ValueError(
            f"Variable {path!r} of shape {tuple(value.shape)} cannot be laid out as "
            f"{sharding.spec} on mesh {dict(sharding.mesh.shape)}: each sharded dimension "
            f"must divide by its mesh axis size. Received: {e}"
        ) from e


def lay_out(tensor: Any, sharding: Any) -> jax.Array:
    """``tensor`` laid out as ``sharding``: placed with ``jax.device_put``, or,
    inside a jitted function, constrained with ``jax.lax.with_sharding_constraint``."""
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    if not isinstance(tensor, jax.Array):
        tensor = np.asarray(tensor)
    return jax.device_put(tensor, sharding)


def layout_outputs(outputs: Any) -> Any:
    """A layer's outputs laid out as the current distribution's tensor layout for
    ``"<layer path>/output"`` says (``ModelParallel``: a ``LayoutMap`` key such as
    ``".*dense.*output"``), else unchanged. Call only with a distribution set."""
    layout = _current[0].get_tensor_layout(f"{current_path()}/output")
    if layout is None:
        return outputs
    sharding = layout.backend_layout

    def put(t):
        if not isinstance(t, (jax.Array, np.ndarray)) or np.ndim(t) != len(layout.axes):
            return t  # e.g. a state tuple of another rank: only matching tensors move
        return lay_out(t, sharding)

    return jax.tree_util.tree_map(put, outputs)


def spans_processes(a: Any) -> bool:
    """Whether ``a`` is a (concrete) array sharded over devices of several
    processes, which ``np.asarray`` cannot read (a replicated one it can)."""
    return (
        isinstance(a, jax.Array)
        and not isinstance(a, jax.core.Tracer)
        and not a.is_fully_addressable
        and not a.is_fully_replicated
    )


def _allgather(arrays: list) -> list:
    from jax.experimental import multihost_utils  # jax's own multi-host collectives

    return multihost_utils.process_allgather(arrays, tiled=True)


def to_host(tree: Any) -> Any:
    """``tree`` with every array as a numpy array holding its full (global) value.

    Arrays sharded over devices of several processes are gathered with
    ``multihost_utils.process_allgather`` (one collective for the whole tree):
    every process must call this with the same structure. Other arrays are read
    locally; with one process this is ``np.asarray`` of each leaf.
    """
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    if jax.process_count() > 1 and any(spans_processes(a) for a in leaves):
        positions = [i for i, a in enumerate(leaves) if spans_processes(a)]
        gathered = _allgather([leaves[i] for i in positions])
        leaves = list(leaves)
        for i, value in zip(positions, gathered):
            leaves[i] = value
    return jax.tree_util.tree_unflatten(treedef, [np.asarray(a) for a in leaves])


def host_value(a: Any, dtype: Any = None) -> np.ndarray:
    """``np.asarray(a, dtype)``, except that an array sharded over devices of
    several processes is gathered (a collective, as :func:`to_host`: every
    process must call it; the array's sharding is the same on each, so all of
    them take the same path). The one-process path is ``np.asarray``."""
    try:
        return np.asarray(a, dtype=dtype)
    except RuntimeError:  # JAX: "spans non-addressable devices" (no cost when it reads)
        if not (jax.process_count() > 1 and spans_processes(a)):
            raise
    return np.asarray(_allgather([a])[0], dtype=dtype)
