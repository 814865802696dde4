"""What the spatial shape layers (padding, cropping, up-sampling) share."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.layers.spatial_layer import SpatialLayer


def _pairs(value: Any, rank: int, name: str, label: str) -> tuple[tuple[int, int], ...]:
    """Keras' padding/cropping forms: ``n``; one ``(low, high)`` pair (1-D) or one
    int per axis; or one ``(low, high)`` pair per axis."""

    def bad() -> ValueError:
        return ValueError(
            f"{label}: `{name}` must be an int, a tuple of {rank} ints, or a tuple of {rank} "
            f"(low, high) pairs of non-negative ints; received {name}={value!r}."
        )

    def as_int(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, jnp.integer)) or v < 0:
            raise bad()
        return int(v)

    if isinstance(value, (int, jnp.integer)) and not isinstance(value, bool):
        n = as_int(value)
        return ((n, n),) * rank
    if not isinstance(value, (list, tuple)):
        raise bad()
    if rank == 1 and len(value) == 2 and all(not isinstance(v, (list, tuple)) for v in value):
        return ((as_int(value[0]), as_int(value[1])),)
    if len(value) != rank:
        raise bad()
    out = []
    for v in value:
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise bad()
            out.append((as_int(v[0]), as_int(v[1])))
        else:
            out.append((as_int(v), as_int(v)))
    return tuple(out)


class _Spatial(SpatialLayer):
    """Shape layers over the spatial axes of a ``data_format`` layout."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        first = 2 if self._channels_first else 1
        self._spatial_axes = tuple(range(first, first + self._rank))
        self.built = True

    def _full(self, pairs: tuple) -> list[tuple[int, int]]:
        """One pair per input axis: zeros on batch and channels."""
        full = [(0, 0)] * (self._rank + 2)
        for axis, pair in zip(self._spatial_axes, pairs):
            full[axis] = pair
        return full
