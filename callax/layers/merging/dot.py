"""The ``Dot`` merging layer (batchwise dot products) and its functional form ``dot``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer


def _l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis, keepdims=True), 1e-12))


def batch_dot(x: jax.Array, y: jax.Array, axes: tuple[int, int]) -> jax.Array:
    """Per-sample dot product of ``x`` and ``y`` contracting ``x``'s axis ``axes[0]``
    with ``y``'s ``axes[1]`` (both non-batch). The result has ``x``'s other axes
    then ``y``'s (batch once); a result with only the batch axis gets a trailing 1."""
    xm = jnp.moveaxis(x, axes[0], -1)  # (b, X..., k)
    ym = jnp.moveaxis(y, axes[1], 1)  # (b, k, Y...)
    x_rest, y_rest = xm.shape[1:-1], ym.shape[2:]
    lhs = xm.reshape(xm.shape[0], -1, xm.shape[-1])
    rhs = ym.reshape(ym.shape[0], ym.shape[1], -1)
    result = jnp.matmul(lhs, rhs).reshape((x.shape[0], *x_rest, *y_rest))
    if result.ndim == 1:
        result = result[:, None]
    return result


class Dot(Layer):
    """Dot product of two tensors, sample by sample.

    Args:
        axes: an int (the same axis of both inputs) or a pair ``(axis_of_x, axis_of_y)``;
            the two axes must have the same size, and the batch axis 0 cannot be one.
        normalize: L2-normalize both inputs along those axes first, giving the cosine
            similarity.

    ``Dot(axes=(1, 2))([x, y])`` with ``x: (b, 3, 5)``, ``y: (b, 10, 3)`` is ``(b, 5, 10)``;
    for two ``(b, n)`` inputs and ``axes=1`` the result is ``(b, 1)``.

    Example:
        >>> import callax
        >>> x = callax.ops.ones((2, 3, 5))
        >>> y = callax.ops.ones((2, 10, 3))
        >>> callax.layers.Dot(axes=(1, 2))([x, y]).shape
        (2, 5, 10)
    """

    _kernel_call = True

    def __init__(self, axes: int | tuple[int, int] | list[int], normalize: bool = False,
                 **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    f"Dot '{self.name}': axes must be an int or a list/tuple of 2 ints; "
                    f"received axes={axes!r}."
                )
            if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
                raise ValueError(
                    f"Dot '{self.name}': axes must hold exactly 2 ints; received axes={axes!r}."
                )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _resolve(self, shapes: list[tuple]) -> list[int]:
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        out = []
        for a, shape in zip(pair, shapes):
            rank = len(shape)
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(
                    f"Dot '{self.name}': axes must be non-batch axes of the inputs; received "
                    f"axes={self.axes} for inputs of shapes {shapes[0]} and {shapes[1]}."
                )
            out.append(a % rank)
        return out

    def _check(self, shapes: Any) -> list[int]:
        is_list = isinstance(shapes, (list, tuple)) and all(
            isinstance(s, (list, tuple)) for s in shapes
        )
        if not is_list or len(shapes) != 2:
            got = f"{len(shapes)} inputs" if is_list else "one tensor"
            raise ValueError(f"Dot '{self.name}' must be called on a list of 2 tensors; "
                             f"received {got}.")  # fmt: skip
        shapes = [tuple(s) for s in shapes]
        if any(len(s) < 2 for s in shapes):
            raise ValueError(
                f"Dot '{self.name}' needs inputs with a batch axis and at least one more; "
                f"received shapes {shapes[0]} and {shapes[1]}."
            )
        axes = self._resolve(shapes)
        a, b = shapes[0][axes[0]], shapes[1][axes[1]]
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"Dot '{self.name}': the dot axes must have the same size; axis {axes[0]} of "
                f"the first input has {a} and axis {axes[1]} of the second has {b}; received "
                f"shapes {shapes[0]} and {shapes[1]}."
            )
        return axes

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._check(inputs)
        axes = self._check([tuple(x.shape) for x in inputs])
        x, y = inputs
        if self.normalize:
            x = _l2_normalize(x, axes[0])
            y = _l2_normalize(y, axes[1])
        return batch_dot(x, y, axes)

    def compute_output_shape(self, input_shape):
        axes = self._check(input_shape)
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        s1.pop(axes[0])
        s2.pop(axes[1])
        out = s1 + s2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None  # the dot product mixes positions: no mask survives

    def get_config(self):
        axes = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def dot(inputs: list, axes: int | tuple[int, int] = -1, **kwargs: Any) -> Any:
    """``Dot(axes, **kwargs)(inputs)``: the per-sample dot product of two tensors."""
    return Dot(axes=axes, **kwargs)(inputs)
