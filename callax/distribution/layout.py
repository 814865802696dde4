"""``DeviceMesh``, ``TensorLayout`` and ``LayoutMap``: where arrays live.

A ``DeviceMesh`` names the axes of a grid of devices (a ``jax.sharding.Mesh``);
a ``TensorLayout`` says which mesh axis shards each dimension of a tensor (a
``jax.sharding.NamedSharding``); a ``LayoutMap`` maps variable paths, as regular
expressions, to layouts.

Example:
    >>> from callax import distribution
    >>> n = len(distribution.list_devices())
    >>> mesh = distribution.DeviceMesh((1, n), ["batch", "model"])
    >>> layout_map = distribution.LayoutMap(mesh)
    >>> layout_map[".*dense.*kernel"] = (None, "model")
    >>> layout_map["dense/kernel"].axes
    (None, 'model')
    >>> layout_map["dense/bias"] is None
    True
"""

from __future__ import annotations

import collections.abc
from typing import Any

import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from callax.core.path_map import PathMap
from callax.distribution.devices import list_devices, to_jax_device


class DeviceMesh:
    """A grid of devices with named axes (a ``jax.sharding.Mesh``).

    Args:
        shape: the grid's shape, e.g. ``(2, 4)``; its product is the device count.
        axis_names: one name per grid axis, e.g. ``["batch", "model"]``.
        devices: the devices (``jax.Device``s or ``"gpu:0"`` strings), default all.

    Example:
        >>> n = len(list_devices())
        >>> mesh = DeviceMesh((1, n), ["batch", "model"])
        >>> mesh.backend_mesh.shape["model"] == n
        True
    """

    def __init__(self, shape: Any, axis_names: Any, devices: Any = None):
        if not shape or not axis_names:
            raise ValueError(
                f"DeviceMesh: shape and axis_names cannot be empty; received shape={shape!r}, "
                f"axis_names={axis_names!r}."
            )
        shape = tuple(int(d) for d in shape)
        axis_names = [str(a) for a in axis_names]
        if len(shape) != len(axis_names):
            raise ValueError(
                f"DeviceMesh: shape and axis_names must have the same length; received "
                f"shape={shape} and axis_names={axis_names}."
            )
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"DeviceMesh: axis names must be unique; received {axis_names}.")
        if devices is None:
            devices = list_devices()
        devices = np.asarray(devices, dtype=object)
        if int(np.prod(shape)) != devices.size:
            raise ValueError(
                f"DeviceMesh: shape {shape} needs {int(np.prod(shape))} devices; received "
                f"{devices.size} devices."
            )
        self._shape = shape
        self._axis_names = axis_names
        self._devices = devices.reshape(shape)
        jax_devices = np.vectorize(to_jax_device, otypes=[object])(self._devices)
        self._mesh = Mesh(jax_devices, tuple(axis_names))

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def axis_names(self) -> list[str]:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self) -> Mesh:
        """The ``jax.sharding.Mesh``."""
        return self._mesh

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self._shape}, axis_names={self._axis_names}>"

    def __str__(self) -> str:
        return self.__repr__()


class TensorLayout:
    """Which mesh axis shards each dimension of a tensor (``None``: replicated).

    Args:
        axes: one mesh axis name or ``None`` per tensor dimension.
        device_mesh: the ``DeviceMesh``; can be set later (once).

    Example:
        >>> mesh = DeviceMesh((1, len(list_devices())), ["batch", "model"])
        >>> layout = TensorLayout((None, "model"), mesh)
        >>> tuple(layout.backend_layout.spec)
        (None, 'model')
    """

    def __init__(self, axes: Any, device_mesh: DeviceMesh | None = None):
        if isinstance(axes, str) or not isinstance(axes, collections.abc.Iterable):
            raise ValueError(
                f"TensorLayout: axes must be a tuple or list of mesh axis names or None; "
                f"received {axes!r}."
            )
        self._axes = tuple(axes)
        self._device_mesh = None
        self._sharding: NamedSharding | None = None
        if device_mesh is not None:
            self.device_mesh = device_mesh

    @property
    def axes(self) -> tuple:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError(
                f"TensorLayout {self._axes}: the device mesh is already set; received "
                f"another one: {device_mesh}."
            )
        if not isinstance(device_mesh, DeviceMesh):
            raise ValueError(
                f"TensorLayout {self._axes}: device_mesh must be a DeviceMesh; received "
                f"{device_mesh!r}."
            )
        used = [a for axis in self._axes if axis is not None
                for a in (axis if isinstance(axis, tuple) else (axis,))]  # fmt: skip
        unknown = [a for a in used if a not in device_mesh.axis_names]
        if unknown:
            raise ValueError(
                f"TensorLayout {self._axes}: axis names must be in the mesh's "
                f"{device_mesh.axis_names} (or None); received {unknown}."
            )
        if len(set(used)) != len(used):
            raise ValueError(
                f"TensorLayout: a mesh axis can shard only one dimension; received {self._axes}."
            )
        self._device_mesh = device_mesh
        self._sharding = None

    @property
    def backend_layout(self) -> NamedSharding:
        """The ``jax.sharding.NamedSharding``."""
        if self._device_mesh is None:
            raise ValueError(
                f"TensorLayout {self._axes} has no device mesh; pass device_mesh= or put it "
                "in a LayoutMap; received device_mesh=None."
            )
        if self._sharding is None:
            self._sharding = NamedSharding(self._device_mesh.backend_mesh,
                                           PartitionSpec(*self._axes))  # fmt: skip
        return self._sharding

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self._axes}, device_mesh={self._device_mesh}>"

    def __str__(self) -> str:
        return self.__repr__()


class LayoutMap(PathMap):
    """Variable paths (regular expressions) to ``TensorLayout``s, as in Keras.

    Looking up a path returns the layout of the key equal to it, else of the one
    key that matches the whole path (``re.fullmatch``, as Keras 3 does), else
    ``None``; a path matching several keys is an error. Values may be
    ``TensorLayout``s or tuples of axis names (``".*dense.*kernel"`` matches
    ``model/dense_1/kernel``; optimizer slots take their variable's layout).

    Args:
        device_mesh: the ``DeviceMesh`` every layout in the map uses.
    """

    def __init__(self, device_mesh: DeviceMesh):
        if not isinstance(device_mesh, DeviceMesh):
            raise ValueError(f"LayoutMap: device_mesh must be a DeviceMesh; received "
                             f"{device_mesh!r}.")  # fmt: skip
        self._device_mesh = device_mesh
        super().__init__()

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    def _several_matches_message(self, key: str, matches: list[str]) -> str:
        return (
            f"LayoutMap: path {key!r} matches several keys; make the regular "
            f"expressions exclusive. Received matches: {matches}."
        )

    def __setitem__(self, key: str, layout: Any) -> None:
        if key in self._entries:
            raise ValueError(
                f"LayoutMap: {key!r} is already set to {self._entries[key]}; keys must be "
                f"unique. Received another layout: {layout}."
            )
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(layout)
        if not isinstance(layout, TensorLayout):
            raise ValueError(
                f"LayoutMap[{key!r}]: expected a TensorLayout or a tuple of axis names; "
                f"received {layout!r}."
            )
        if layout.device_mesh is None:
            layout.device_mesh = self._device_mesh
        elif layout.device_mesh is not self._device_mesh:
            raise ValueError(
                f"LayoutMap[{key!r}]: the layout's device mesh must be the map's "
                f"{self._device_mesh}; received {layout.device_mesh}."
            )
        self._entries[key] = layout

    def __repr__(self) -> str:
        return f"<LayoutMap {dict((k, v.axes) for k, v in self._entries.items())}>"


def replicated(mesh: DeviceMesh, ndim: int) -> TensorLayout:
    """The layout that keeps a full copy of an ``ndim``-d tensor on every device."""
    return TensorLayout((None,) * ndim, mesh)
