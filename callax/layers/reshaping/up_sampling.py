"""Up-sampling layers: UpSampling1D/2D/3D repeat (or interpolate) the spatial axes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.layers.reshaping.base_spatial import _Spatial

_RESIZE = {"bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3",
           "lanczos5": "lanczos5"}  # fmt: skip


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
