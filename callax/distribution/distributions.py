"""``DataParallel`` and ``ModelParallel``: how a model is spread over a mesh.

A distribution decides the layout of every variable (when it is created) and of
every batch (when ``fit``/``evaluate``/``predict`` moves it to the devices). Set
one globally with ``set_distribution`` or for a block with ``dist.scope()``;
``jax.jit`` then runs the compiled steps as SPMD programs over the mesh, and XLA
inserts the collectives (the gradient all-reduce of data parallelism included).

Example:
    >>> from callax import distribution
    >>> dist = distribution.DataParallel()
    >>> with dist.scope():
    ...     distribution.distribution() is dist
    True
    >>> distribution.distribution() is None
    True
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from callax.core import placement
from callax.distribution.devices import list_devices
from callax.distribution.layout import DeviceMesh, LayoutMap, TensorLayout, replicated

DEFAULT_BATCH_DIM_NAME = "batch"


class Distribution:
    """The base class: a device mesh and the name of its batch axis.

    Subclasses say where variables go (``get_variable_layout``); batches are split
    along ``batch_dim_name`` and replicated over the other mesh axes.
    """

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True):  # fmt: skip
        if not isinstance(device_mesh, DeviceMesh):
            raise ValueError(
                f"{type(self).__name__}: device_mesh must be a DeviceMesh; received "
                f"{device_mesh!r}."
            )
        batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(
                f"{type(self).__name__}: batch_dim_name must be an axis of the mesh "
                f"{device_mesh.axis_names}; received {batch_dim_name!r}."
            )
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str:
        return self._batch_dim_name

    @property
    def num_batch_shards(self) -> int:
        """How many pieces a batch is split into (the batch axis's size)."""
        return self._device_mesh.shape[self._device_mesh.axis_names.index(self._batch_dim_name)]

    def get_data_layout(self, data_shape: Any) -> TensorLayout:
        """The layout of a batch of shape ``data_shape``: split along its first
        dimension over the batch axis, replicated over the others."""
        rank = len(data_shape)
        if rank == 0:
            return replicated(self._device_mesh, 0)
        return TensorLayout((self._batch_dim_name,) + (None,) * (rank - 1), self._device_mesh)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """The layout of ``variable`` (replicated unless a subclass says otherwise)."""
        return replicated(self._device_mesh, len(variable.shape))

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        """The layout for an intermediate tensor at ``path`` (``None``: let XLA choose)."""
        return None

    def distribute_dataset(self, dataset: Any) -> Any:
        """The part of ``dataset`` (batched with the **global** batch size) that this
        process loads, as in Keras 3.

        With one process, or ``auto_shard_dataset=False`` (the dataset is already
        sharded: each process yields its local batches), the dataset is returned
        as it is. With several processes a ``tf.data.Dataset`` is rebatched to the
        local batch size and sharded over the processes (``dataset.rebatch(...)
        .shard(n, i)``), so that the global batch is the processes' local batches
        in process order; ``fit``/``evaluate``/``predict`` do this themselves
        for a ``tf.data.Dataset``. Other sources must be sharded by hand (see
        docs/scaling.md).

        Raises:
            ValueError: several processes and auto-sharding, but ``dataset`` is not
                a ``tf.data.Dataset``, is not batched, or its batch size does not
                divide by the number of data shards.
        """
        if jax.process_count() == 1 or not self.auto_shard_dataset:
            return dataset
        if not (type(dataset).__module__.startswith("tensorflow.") and hasattr(dataset, "rebatch")):
            raise ValueError(
                f"{type(self).__name__}.distribute_dataset: with several processes and "
                "auto_shard_dataset=True only a tf.data.Dataset can be sharded automatically; "
                f"received {type(dataset).__name__}. Shard it yourself (each process loads "
                "its local batches, e.g. by jax.process_index()) and set "
                "auto_shard_dataset=False."
            )
        num_shards, index = self._data_shard()
        if num_shards == 1:  # every process holds every batch row: all feed the global batch
            return dataset
        batch_size = _tf_dataset_batch_size(dataset)
        if batch_size is None or batch_size % num_shards:
            raise ValueError(
                f"{type(self).__name__}.distribute_dataset: the dataset's batch size must be "
                f"known (batch it with dataset.batch(global_batch_size)) and divide by the "
                f"number of data shards ({num_shards}: the processes' parts of the "
                f"{self._batch_dim_name!r} mesh axis); received batch size {batch_size}."
            )
        return dataset.rebatch(batch_size // num_shards).shard(num_shards, index)

    def _data_shard(self) -> tuple[int, int]:
        """``(number of data shards, this process's shard)``: each process loads the
        rows of the batch axis its devices hold (a contiguous block; processes that
        hold the same block, say along a ``model`` axis spanning them, share a shard)."""
        mesh = self._device_mesh.backend_mesh
        axis = mesh.axis_names.index(self._batch_dim_name)
        rows = np.moveaxis(mesh.devices, axis, 0)
        rows = rows.reshape(rows.shape[0], -1)
        me = jax.process_index()
        mine = [i for i, row in enumerate(rows) if any(d.process_index == me for d in row)]
        k = len(mine)
        if mine != list(range(mine[0], mine[0] + k)) or len(rows) % k or mine[0] % k:
            raise ValueError(
                f"{type(self).__name__}.distribute_dataset: process {me} holds the rows "
                f"{mine} of the {self._batch_dim_name!r} mesh axis ({len(rows)} rows), not one "
                "aligned contiguous block, so its part of a batch is not one slice; order the "
                "mesh's devices by process, or shard the dataset yourself and set "
                "auto_shard_dataset=False."
            )
        return len(rows) // k, mine[0] // k

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Makes this the current distribution within the block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} device_mesh={self._device_mesh}, "
                f"batch_dim_name={self._batch_dim_name!r}>")  # fmt: skip

    def __str__(self) -> str:
        return self.__repr__()


class DataParallel(Distribution):
    """Data parallelism: every device holds all variables, each gets a slice of
    the batch; gradients are averaged over the devices (an all-reduce XLA adds).

    Args:
        device_mesh: a mesh whose first axis is the batch axis. Default: a 1-D
            mesh named ``"batch"`` over ``devices``.
        devices: the devices, default all of them.
    """

    def __init__(self, device_mesh: DeviceMesh | None = None, devices: Any = None,
                 auto_shard_dataset: bool = True):  # fmt: skip
        if device_mesh is None:
            if devices is None:
                devices = list_devices()
            devices = list(devices)
            if not devices:
                raise ValueError("DataParallel: devices cannot be empty; received [].")
            device_mesh = DeviceMesh((len(devices),), [DEFAULT_BATCH_DIM_NAME], devices)
        elif not isinstance(device_mesh, DeviceMesh):
            raise ValueError(
                f"DataParallel: device_mesh must be a DeviceMesh; received {device_mesh!r}."
            )
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """Model (and data) parallelism: variables are laid out by a ``LayoutMap``
    (path regular expressions to layouts, replicated when nothing matches), and
    batches are split along ``batch_dim_name``.

    Args:
        layout_map: the ``LayoutMap``; its device mesh is the distribution's.
        batch_dim_name: the mesh axis batches are split along (default its first).

    Example:
        >>> from callax import distribution
        >>> mesh = distribution.DeviceMesh((1, len(distribution.list_devices())),
        ...                                ["batch", "model"])
        >>> layout_map = distribution.LayoutMap(mesh)
        >>> layout_map[".*dense.*kernel"] = (None, "model")
        >>> dist = distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
        >>> dist.batch_dim_name
        'batch'
    """

    def __init__(self, *, layout_map: LayoutMap | None = None, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True, **kwargs: Any):  # fmt: skip
        device_mesh = kwargs.pop("device_mesh", None)  # the Keras 3.0 signature
        if kwargs:
            raise TypeError(f"ModelParallel got unexpected arguments: {sorted(kwargs)}.")
        if layout_map is None:
            if device_mesh is None:
                raise ValueError("ModelParallel: pass a layout_map (a LayoutMap); received "
                                 "layout_map=None.")  # fmt: skip
            layout_map = LayoutMap(device_mesh)
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"ModelParallel: layout_map must be a LayoutMap; received "
                             f"{layout_map!r}.")  # fmt: skip
        super().__init__(layout_map.device_mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def layout_map(self) -> LayoutMap:
        return self._layout_map

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        layout = self._layout_map[variable.path]
        if layout is None:
            return replicated(self._device_mesh, len(variable.shape))
        if len(layout.axes) != len(variable.shape):
            raise ValueError(
                f"ModelParallel: the layout for variable {variable.path!r} must have one "
                f"axis per dimension of its shape {tuple(variable.shape)}; received "
                f"axes {layout.axes}."
            )
        return layout

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return self._layout_map[path]


def set_distribution(value: Distribution | None) -> None:
    """Sets the global distribution (``None`` turns distribution off)."""
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(
            f"set_distribution: expected a Distribution (DataParallel, ModelParallel) or "
            f"None; received {value!r}."
        )
    # Stored in core, which places variables and layer outputs by it without
    # importing this package (global, as in Keras: not per thread).
    placement.set_current_distribution(value)


def distribution() -> Distribution | None:
    """The current distribution (``None`` when none is set)."""
    return placement.current_distribution()


def _sharding(layout: Any) -> Any:
    if isinstance(layout, TensorLayout):
        return layout.backend_layout
    if isinstance(layout, jax.sharding.Sharding):
        return layout
    raise ValueError(f"distribute_tensor: layout must be a TensorLayout or a jax Sharding; "
                     f"received {layout!r}.")  # fmt: skip


def _tf_dataset_batch_size(dataset: Any) -> int | None:
    """The (global) batch size of a batched ``tf.data.Dataset``, as Keras reads it
    (TensorFlow's ``compute_batch_size``, loaded with tf.data: nothing is imported
    here), or ``None`` when it is unknown."""
    distribute = sys.modules.get("tensorflow.python.data.experimental.ops.distribute")
    if distribute is not None:
        size = int(distribute.compute_batch_size(dataset).numpy())
        return size if size > 0 else None
    shapes = [getattr(s, "shape", None) for s in jax.tree_util.tree_leaves(dataset.element_spec)]
    firsts = {s[0] for s in shapes if s is not None and s.rank}  # static when drop_remainder
    return firsts.pop() if len(firsts) == 1 and None not in firsts else None


def distribute_tensor(tensor: Any, layout: Any) -> jax.Array:
    """``tensor`` laid out as ``layout`` says: placed with ``jax.device_put``, or,
    inside a jitted function, constrained with ``jax.lax.with_sharding_constraint``.

    Example:
        >>> import numpy as np
        >>> from callax import distribution
        >>> mesh = distribution.DeviceMesh((len(distribution.list_devices()),), ["batch"])
        >>> x = distribution.distribute_tensor(np.zeros((8, 2)),
        ...                                    distribution.TensorLayout(("batch", None), mesh))
        >>> tuple(x.sharding.spec)
        ('batch', None)
    """
    return placement.lay_out(tensor, _sharding(layout))


def distribute_variable(value: Any, layout: Any) -> jax.Array:
    """The initial value of a variable, placed as ``layout`` says."""
    return distribute_tensor(value, layout)
