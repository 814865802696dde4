"""Shape layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D,
Permute, RepeatVector.

Example:
    >>> import callax
    >>> x = callax.ops.ones((2, 4, 4, 3))
    >>> callax.layers.ZeroPadding2D(1)(x).shape
    (2, 6, 6, 3)
    >>> callax.layers.UpSampling2D(2)(x).shape
    (2, 8, 8, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.conv import SpatialLayer

_RESIZE = {"bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3",
           "lanczos5": "lanczos5"}  # fmt: skip


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


class ZeroPadding(_Spatial):
    """Pads the spatial axes with zeros.

    Args:
        padding: ``n`` (all sides), one int per axis (both sides), or one
            ``(low, high)`` pair per axis (for 1-D, ``(left, right)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self._rank, "padding", self._label())
        self._pad_width = self._full(self.padding)

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return jnp.pad(inputs, self._pad_width)

    def compute_output_shape(self, input_shape):
        return tuple(
            None if n is None else n + lo + hi for n, (lo, hi) in zip(input_shape, self._pad_width)
        )

    def get_config(self):
        padding = self.padding[0] if self._rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(ZeroPadding):
    """Zero-pads the steps of ``(batch, steps, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding1D((1, 2))(callax.ops.ones((1, 2, 1)))[0, :, 0].tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    _rank = 1


class ZeroPadding2D(ZeroPadding):
    """Zero-pads rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding2D(((1, 0), (2, 3)))(callax.ops.ones((1, 2, 2, 1))).shape
        (1, 3, 7, 1)
    """

    _rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(ZeroPadding):
    """Zero-pads depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.ZeroPadding3D()(callax.ops.ones((1, 2, 2, 2, 1))).shape
        (1, 4, 4, 4, 1)
    """

    _rank = 3

    def __init__(
        self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs
    ):
        super().__init__(padding, data_format, **kwargs)


class Cropping(_Spatial):
    """Removes rows/columns from the start and end of the spatial axes.

    Args:
        cropping: as ``ZeroPadding``'s ``padding``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, cropping: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self._rank, "cropping", self._label())

    def _check_size(self, shape: tuple) -> None:
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            n = shape[axis]
            if n is not None and lo + hi >= n:
                raise ValueError(
                    f"{self._label()}: cropping {self.cropping} removes all of axis {axis} "
                    f"(length {n}); received input with shape {tuple(shape)}."
                )

    def call(self, inputs):
        shape = tuple(inputs.shape)
        self._check_rank(shape)
        self._check_size(shape)
        index = [slice(None)] * inputs.ndim
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            index[axis] = slice(lo, shape[axis] - hi)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        self._check_size(tuple(input_shape))
        out = list(input_shape)
        for axis, (lo, hi) in zip(self._spatial_axes, self.cropping):
            out[axis] = None if out[axis] is None else out[axis] - lo - hi
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        if self._rank == 1:
            return {**config, "cropping": self.cropping[0]}
        return {**config, "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(Cropping):
    """Crops the steps of ``(batch, steps, channels)`` (no ``data_format``, as in Keras).

    Example:
        >>> import callax
        >>> x = callax.ops.arange(5.0).reshape(1, 5, 1)
        >>> callax.layers.Cropping1D((1, 2))(x)[0, :, 0].tolist()
        [1.0, 2.0]
    """

    _rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        # Always axis 1, whatever the global image_data_format (as in Keras).
        super().__init__(cropping, "channels_last", **kwargs)


class Cropping2D(Cropping):
    """Crops rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.Cropping2D(((1, 1), (0, 2)))(callax.ops.ones((1, 4, 4, 1))).shape
        (1, 2, 2, 1)
    """

    _rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format=None, **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(Cropping):
    """Crops depth, rows and columns.

    Example:
        >>> import callax
        >>> callax.layers.Cropping3D()(callax.ops.ones((1, 4, 4, 4, 1))).shape
        (1, 2, 2, 2, 1)
    """

    _rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class UpSampling(_Spatial):
    """Repeats each spatial position ``size`` times along each spatial axis."""

    def __init__(self, size: Any = 2, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.size = _sizes(size, self._rank, self._label())

    def _nearest(self, inputs):
        # One broadcast into a new axis after each spatial axis, then one reshape:
        # XLA fuses this into a single copy (jnp.repeat per axis would copy per axis).
        shape = tuple(inputs.shape)
        expanded, target = [], []
        for axis, n in enumerate(shape):
            expanded.append(n)
            target.append(n)
            if axis in self._spatial_axes:
                s = self.size[self._spatial_axes.index(axis)]
                expanded.append(1)
                target[-1] = n * s
        x = jnp.reshape(inputs, expanded)
        full = list(expanded)
        for i, axis in enumerate(self._spatial_axes):
            full[axis + i + 1] = self.size[i]
        return jnp.reshape(jnp.broadcast_to(x, full), target)

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return self._nearest(inputs)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, s in zip(self._spatial_axes, self.size):
            out[axis] = None if out[axis] is None else out[axis] * s
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


def _sizes(value: Any, rank: int, label: str) -> tuple[int, ...]:
    if isinstance(value, (int, jnp.integer)) and not isinstance(value, bool):
        value = (int(value),) * rank
    if (
        not isinstance(value, (list, tuple))
        or len(value) != rank
        or not all(
            isinstance(v, (int, jnp.integer)) and not isinstance(v, bool) and v > 0 for v in value
        )
    ):
        raise ValueError(
            f"{label}: `size` must be a positive int or a tuple of {rank} positive ints; "
            f"received size={value!r}."
        )
    return tuple(int(v) for v in value)


class UpSampling1D(UpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, c) -> (batch, steps * size, c)``.

    Example:
        >>> import callax
        >>> x = callax.ops.arange(2.0).reshape(1, 2, 1)
        >>> callax.layers.UpSampling1D(3)(x)[0, :, 0].tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """

    _rank = 1

    def __init__(self, size: int = 2, **kwargs: Any):
        # Always axis 1, whatever the global image_data_format (as in Keras).
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return {**config, "size": self.size[0]}


class UpSampling2D(UpSampling):
    """Upsamples rows and columns by ``size``.

    Args:
        size: int or ``(rows, cols)`` factors.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat), ``"bilinear"``, ``"bicubic"``,
            ``"lanczos3"`` or ``"lanczos5"`` (``jax.image.resize``, half-pixel centres).

    Example:
        >>> import callax
        >>> x = callax.ops.array([[0.0, 1.0]]).reshape(1, 1, 2, 1)
        >>> callax.layers.UpSampling2D((1, 2), interpolation="bilinear")(x)[0, 0, :, 0].tolist()
        [0.0, 0.25, 0.75, 1.0]
    """

    _rank = 2

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ):
        super().__init__(size, data_format, **kwargs)
        if interpolation != "nearest" and interpolation not in _RESIZE:
            raise ValueError(
                f"{self._label()}: `interpolation` must be one of "
                f"{['nearest', *_RESIZE]}; received interpolation={interpolation!r}."
            )
        self.interpolation = interpolation

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        if self.interpolation == "nearest":
            return self._nearest(inputs)
        shape = list(inputs.shape)
        for axis, s in zip(self._spatial_axes, self.size):
            shape[axis] *= s
        return jax.image.resize(inputs, shape, method=_RESIZE[self.interpolation])

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(UpSampling):
    """Upsamples depth, rows and columns by ``size`` (nearest).

    Example:
        >>> import callax
        >>> callax.layers.UpSampling3D()(callax.ops.ones((1, 2, 2, 2, 3))).shape
        (1, 4, 4, 4, 3)
    """

    _rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any):
        super().__init__(size, data_format, **kwargs)


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..rank-1``.

    Example:
        >>> import callax
        >>> callax.layers.Permute((2, 1))(callax.ops.ones((4, 3, 5))).shape
        (4, 5, 3)
    """

    _kernel_call = True

    def __init__(self, dims: tuple[int, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Permute '{self.name}': `dims` must be a permutation of 1..{len(self.dims)} "
                f"(axis 0, the batch, stays); received dims={dims!r}."
            )
        self._perm = (0, *self.dims)
        self.built = True

    def call(self, inputs):
        if inputs.ndim != len(self._perm):
            raise ValueError(
                f"Permute '{self.name}' with dims={self.dims} expects inputs of rank "
                f"{len(self._perm)}; received input with shape {tuple(inputs.shape)}."
            )
        return jnp.transpose(inputs, self._perm)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[a] for a in self._perm)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Example:
        >>> import callax
        >>> callax.layers.RepeatVector(3)(callax.ops.ones((2, 4))).shape
        (2, 3, 4)
    """

    _kernel_call = True

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(
                f"RepeatVector '{self.name}': `n` must be a positive int; received n={n!r}."
            )
        self.n = n
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(
                f"RepeatVector '{self.name}' expects inputs of rank 2 (batch, features); "
                f"received input with shape {tuple(inputs.shape)}."
            )
        return jnp.broadcast_to(inputs[:, None, :], (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
