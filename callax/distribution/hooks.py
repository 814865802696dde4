"""Where the rest of callax meets the current distribution (small hooks).

What core needs (a new variable's sharding, placing values, laying out a
layer's outputs as ``"<layer path>/output"`` says) lives in
``callax/core/placement.py``, which reads the distribution ``set_distribution``
stores there; this module holds the hooks of the floors above:

- ``set_variable_layout``: an optimizer slot laid out like its variable;
- ``distribute_batch``: ``fit``/``evaluate``/``predict`` put each batch on the
  devices split along the batch axis;
- ``jit_step``: the compiled steps keep every state array's sharding, so the
  state written back after a step is laid out as the variables were (XLA would
  otherwise be free to, say, shard a replicated optimizer slot like its gradient).

With no distribution set each hook does what a single device needs, and costs one
global read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from callax.core.placement import (  # noqa: F401 — the core side, re-exported
    canonical,
    layout_outputs,
    place,
    variable_sharding,
)
from callax.distribution.distributions import distribution
from callax.distribution.multihost import check_same_shapes


def set_variable_layout(variable: Any, layout: Any) -> None:
    """Lays ``variable`` out as ``layout`` (a ``TensorLayout`` or a jax sharding)
    from now on, e.g. an optimizer slot like the variable it belongs to."""
    variable._set_layout(canonical(getattr(layout, "backend_layout", layout)))


def distribute_batch(batch: Any, steps: int = 1, global_batch: bool = False) -> Any:
    """``batch`` (a pytree of arrays) on the devices, split along the batch axis.

    ``steps > 1``: the arrays hold ``steps`` stacked batches (one
    ``steps_per_execution`` dispatch), so the batch dimension is the second.

    Several processes (``jax.distributed``): with ``global_batch`` every process
    holds the same whole batch (arrays given to ``fit``) and each puts only the
    rows of its own devices; otherwise each process holds its own local batch (a
    generator, a PyDataset, a foreign loader), and the global batch is the local
    ones in process order. The first batch of each shape is compared across the
    processes (``ValueError`` naming the shapes when they differ).
    """
    dist = distribution()
    shards = dist.num_batch_shards
    multi_process = jax.process_count() > 1
    if multi_process and not global_batch:
        shards = _local_batch_shards(dist)  # a local batch is split over this process's
    cache = dist.__dict__.setdefault("_callax_data_shardings", {})

    def put(a):  # the array and its sharding, checked
        a = a if isinstance(a, jax.Array) else np.asarray(a)
        lead = 1 if steps > 1 else 0
        shape = a.shape[lead:]
        if shape and shape[0] % shards:
            where = "" if shards == dist.num_batch_shards else " local to this process"
            raise ValueError(
                f"{type(dist).__name__}: the batch size must be divisible by the number "
                f"of devices{where} on the {dist.batch_dim_name!r} mesh axis ({shards}), so each "
                f"gets an equal slice; pick a batch_size (and a sample count) that divide "
                f"by {shards}. Received a batch of {shape[0]} samples."
            )
        key = (shape, lead)
        sharding = cache.get(key)
        if sharding is None:  # one NamedSharding per batch shape, reused every step
            sharding = dist.get_data_layout(shape).backend_layout
            if lead:
                spec = jax.sharding.PartitionSpec(None, *sharding.spec)
                sharding = jax.sharding.NamedSharding(sharding.mesh, spec)
            cache[key] = sharding
        return a, sharding

    leaves, treedef = jax.tree_util.tree_flatten(batch)
    if multi_process:  # a new batch signature: the other processes must feed it too
        signature = tuple(tuple(np.shape(a)) for a in leaves)
        checked = dist.__dict__.setdefault("_callax_checked_signatures", set())
        if signature not in checked:
            check_same_shapes(list(signature), type(dist).__name__)
            checked.add(signature)
    placed = [put(a) for a in leaves]
    if multi_process:

        def make(a, s):
            if isinstance(a, jax.Array) and len(a.sharding.device_set) > 1:
                return a  # already laid out over the mesh
            a = np.asarray(a)
            # global_shape == the data's shape: "every process holds the whole batch".
            return jax.make_array_from_process_local_data(s, a, a.shape if global_batch else None)

        arrays = [make(a, s) for a, s in placed]
    else:  # one device_put for all leaves: it costs per call, not per array
        arrays = jax.device_put([a for a, _ in placed], [s for _, s in placed])
    return jax.tree_util.tree_unflatten(treedef, arrays)


def _local_batch_shards(dist: Any) -> int:
    """How many slices of the batch axis this process's devices hold."""
    mesh = dist.device_mesh.backend_mesh
    axis = mesh.axis_names.index(dist.batch_dim_name)
    devices = np.moveaxis(mesh.devices, axis, 0)
    rows = devices.reshape(devices.shape[0], -1)
    me = jax.process_index()
    return sum(any(d.process_index == me for d in row) for row in rows)


def jit_step(fn: Callable) -> Callable:
    """``jax.jit(fn, donate_argnums=0)`` for ``fn(state, data) -> (out, state)``;
    with a distribution set, the returned state is constrained to the layouts the
    state had on the first call (the variables' layouts; a value not on the mesh,
    e.g. a variable created before the distribution was set, counts as replicated).
    Later calls cost one pytree-structure lookup on top of the jitted call."""
    dist = distribution()
    if dist is None:
        return jax.jit(fn, donate_argnums=0)
    mesh = dist.device_mesh.backend_mesh
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    compiled: dict[Any, Callable] = {}

    def layout_of(a):
        s = getattr(a, "sharding", None)
        if isinstance(s, jax.sharding.NamedSharding) and s.mesh == mesh:
            return canonical(s)
        return replicated

    def on_mesh(a, sharding):
        # Committed to other devices (say, one GPU): move it, so jit sees one device set.
        if getattr(a, "committed", False) and a.sharding.device_set != sharding.device_set:
            return jax.device_put(a, sharding)
        return a

    def make(state):
        shardings = tuple(layout_of(a) for a in jax.tree_util.tree_leaves(state))

        def constrained(state, data):
            out, new_state = fn(state, data)
            new_leaves, new_def = jax.tree_util.tree_flatten(new_state)
            if len(new_leaves) == len(shardings):
                # The step returns the groups it was given, in the same order.
                new_leaves = [jax.lax.with_sharding_constraint(v, s)
                              for v, s in zip(new_leaves, shardings)]  # fmt: skip
            return out, jax.tree_util.tree_unflatten(new_def, new_leaves)

        return shardings, jax.jit(constrained, donate_argnums=0)

    def step(state, data):
        treedef = jax.tree_util.tree_structure(state)
        entry = compiled.get(treedef)
        if entry is None:
            entry = compiled[treedef] = make(state)
            leaves = [on_mesh(a, s) for a, s in zip(jax.tree_util.tree_leaves(state), entry[0])]
            state = jax.tree_util.tree_unflatten(treedef, leaves)
        return entry[1](state, data)

    return step
