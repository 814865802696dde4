"""``Input`` and ``InputLayer``: where a Functional (or Sequential) model's data enters.

``callax.Input(shape)`` returns a symbolic tensor of shape ``(batch_size,) + shape``
produced by an ``InputLayer``; layers called on it record a graph that
``callax.Model(inputs, outputs)`` turns into a model.

Example:
    >>> import callax
    >>> x = callax.Input(shape=(784,), name="pixels")
    >>> x.shape, x.dtype
    ((None, 784), 'float32')
    >>> x.node.layer
    <InputLayer name=pixels, batch_shape=(None, 784)>
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core import config
from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.core.symbolic import Node


def _batch_shape(owner: str, shape: Any, batch_size: Any, batch_shape: Any) -> tuple:
    if batch_shape is not None:
        if shape is not None:
            raise ValueError(
                f"{owner}: give either `shape` or `batch_shape`, not both; received "
                f"shape={shape} and batch_shape={batch_shape}."
            )
        dims = batch_shape
    elif shape is not None:
        if isinstance(shape, int):
            shape = (shape,)
        dims = (batch_size,) + tuple(shape)
    else:
        raise ValueError(
            f"{owner} needs a `shape` (e.g. `Input(shape=(784,))`, the batch axis left "
            "out) or a `batch_shape`; received neither."
        )
    out = []
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0):
            try:
                d = int(d)
            except (TypeError, ValueError):
                d = -1
            if d < 0:
                raise ValueError(
                    f"{owner}: shape entries must be non-negative ints or None; received "
                    f"{tuple(dims)}."
                )
        out.append(d)
    return tuple(out)


class InputLayer(Layer):
    """The layer behind ``Input``: it holds the input's batch shape and dtype and
    produces the symbolic tensor ``self.output``.

    Args:
        shape: the shape without the batch axis (``None`` for unknown entries).
        batch_size: optional fixed batch size.
        dtype: the input's dtype (default floatx); integer inputs are kept as is.
        sparse: accepted for Keras compatibility (inputs are dense arrays).
        batch_shape: the full shape, batch axis included (instead of ``shape``).
        input_tensor: an existing symbolic tensor to use as this layer's output.
        optional: whether the model may receive ``None`` for this input.
        name: default ``input_layer``, ``input_layer_1``, ...

    Example:
        >>> import callax
        >>> layer = callax.layers.InputLayer(shape=(3,), dtype="int32", name="ids")
        >>> layer.output
        <KerasTensor shape=(None, 3), dtype=int32, name=ids>
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        sparse: bool | None = None,
        batch_shape: Any = None,
        input_tensor: KerasTensor | None = None,
        optional: bool = False,
        name: str | None = None,
        ragged: bool | None = None,
        **kwargs: Any,
    ):
        # Keras 2 configs name the shape `batch_input_shape` / `input_shape`.
        if "batch_input_shape" in kwargs and batch_shape is None and shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        if "input_shape" in kwargs and batch_shape is None and shape is None:
            shape = kwargs.pop("input_shape")
        if isinstance(dtype, dict):  # a serialized DTypePolicy
            dtype = dtype.get("config", {}).get("name")
        kwargs.pop("trainable", None)
        # Default names `input_layer`, `input_layer_1`, ... as in Keras.
        super().__init__(name=name, **kwargs)
        if ragged:
            raise ValueError(
                f"InputLayer '{self.name}': ragged inputs are not supported by callax."
            )
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(
                    f"InputLayer '{self.name}': `input_tensor` must be a symbolic KerasTensor "
                    f"(e.g. from callax.Input); received {type(input_tensor).__name__}."
                )
            if input_tensor.history is not None:
                raise ValueError(
                    f"InputLayer '{self.name}': `input_tensor` already comes from layer "
                    f"'{input_tensor.node.layer.name}'; pass that tensor to the model directly."
                )
            if shape is None and batch_shape is None:
                batch_shape = input_tensor.shape
            dtype = dtype or input_tensor.dtype
        self.batch_shape = _batch_shape(f"InputLayer '{self.name}'", shape, batch_size, batch_shape)
        try:
            self._input_dtype = (  # "string": host-side text inputs for the text layers
                "string" if dtype == "string" else jnp.dtype(dtype or config.floatx()).name
            )
        except TypeError:
            raise TypeError(
                f"InputLayer '{self.name}': `dtype` must be a numeric dtype name (e.g. "
                f"'float32', 'int32') or 'string'; received dtype={dtype!r}."
            ) from None
        self.sparse = bool(sparse)
        self.optional = bool(optional)
        self.built = True
        if input_tensor is None:
            input_tensor = KerasTensor(
                self.batch_shape, dtype=self._input_dtype, sparse=self.sparse, name=self.name
            )
        else:
            input_tensor.shape, input_tensor.dtype = self.batch_shape, self._input_dtype
            input_tensor.name = input_tensor.name or self.name
        Node(self, (), {}, input_tensor)
        self.__dict__["output"] = input_tensor

    @property
    def dtype(self) -> str:
        return self._input_dtype

    @property
    def batch_size(self) -> int | None:
        return self.batch_shape[0] if self.batch_shape else None

    def call(self, inputs: Any) -> Any:
        return inputs

    def get_config(self) -> dict:
        return {
            "batch_shape": self.batch_shape,
            "dtype": self._input_dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    def __repr__(self) -> str:
        return f"<InputLayer name={self.name}, batch_shape={self.batch_shape}>"


def Input(  # noqa: N802 — Keras's public name
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    batch_shape: Any = None,
    name: str | None = None,
    tensor: KerasTensor | None = None,
    optional: bool = False,
    ragged: bool | None = None,
) -> KerasTensor:
    """A symbolic input tensor of shape ``(batch_size,) + shape`` for a Functional model.

    Args: as :class:`InputLayer` (``tensor`` is its ``input_tensor``).

    Example:
        >>> import callax
        >>> inputs = callax.Input(shape=(4,))
        >>> outputs = callax.layers.Dense(2)(inputs)
        >>> model = callax.Model(inputs, outputs)
        >>> model(callax.ops.ones((3, 4))).shape
        (3, 2)
    """
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
        input_tensor=tensor, optional=optional, name=name, ragged=ragged,
    )  # fmt: skip
    return layer.output
