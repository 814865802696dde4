"""Rectifier activation layers: ReLU, LeakyReLU, ELU and PReLU (a learned slope),
under Keras 3's names and arguments."""

from __future__ import annotations

from typing import Any

import jax

from callax import activations
from callax.core.input_spec import InputSpec
from callax.core.layer import Layer
from callax.layers.weight_args import add_weight_from_args, set_weight_args, weight_args_config


class _Elementwise(Layer):
    """An activation with no weights: built at construction, passes masks on."""

    _kernel_call = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _check_non_negative(layer: Layer, arg: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value < 0:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': {arg} must be a non-negative number"
            f"{' or None' if allow_none else ''}; received {arg}={value!r}."
        )


class ReLU(_Elementwise):
    """Rectified linear unit: ``x`` above ``threshold`` (capped at ``max_value``),
    ``negative_slope * (x - threshold)`` below.

    Args:
        max_value: optional cap on the output (non-negative).
        negative_slope: slope below the threshold (non-negative, default 0).
        threshold: where the unit switches on (non-negative, default 0).

    Example:
        >>> import callax
        >>> callax.layers.ReLU(max_value=1.0)(callax.ops.array([-1.0, 0.5, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        _check_non_negative(self, "max_value", max_value, allow_none=True)
        _check_non_negative(self, "negative_slope", negative_slope)
        _check_non_negative(self, "threshold", threshold)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.built = True  # set last: changing a built layer's settings re-traces

    def call(self, inputs):
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_Elementwise):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (Keras 3 default slope 0.3).

    ``alpha=`` (the Keras 2 name) is accepted with a deprecation warning.

    Example:
        >>> import callax
        >>> callax.layers.LeakyReLU(negative_slope=0.5)(callax.ops.array([-2.0, 2.0])).tolist()
        [-1.0, 2.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        if "alpha" in kwargs:
            import warnings

            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "LeakyReLU: argument `alpha` is deprecated; use `negative_slope`.", stacklevel=2
            )
        super().__init__(**kwargs)
        _check_non_negative(self, "negative_slope", negative_slope)
        self.negative_slope = negative_slope
        self.built = True  # set last: changing a built layer's settings re-traces

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below.

    Example:
        >>> import callax
        >>> round(callax.layers.ELU()(callax.ops.array([-1.0])).tolist()[0], 4)
        -0.6321
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.built = True  # set last: changing a built layer's settings re-traces

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` below, with ``alpha`` a
    learned weight of shape ``input_shape[1:]`` (size 1 on ``shared_axes``).

    Args:
        alpha_initializer: initializer of ``alpha`` (default zeros: a plain ReLU).
        alpha_regularizer, alpha_constraint: penalty and projection for ``alpha``.
        shared_axes: axes (1-based, the batch axis is 0) along which one slope is
            shared, e.g. ``[1, 2]`` for one slope per channel of images.

    Example:
        >>> import callax
        >>> layer = callax.layers.PReLU(alpha_initializer="ones", shared_axes=[1])
        >>> layer(callax.ops.ones((2, 5, 3))).shape, layer.alpha.shape
        ((2, 5, 3), (1, 3))
    """

    _kernel_call = True

    def __init__(
        self,
        alpha_initializer: Any = "Zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        set_weight_args(self, "alpha", alpha_initializer, alpha_regularizer, alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 2:
            raise ValueError(
                f"PReLU '{self.name}' needs inputs with a batch axis and at least one more "
                f"axis; received input shape {input_shape}."
            )
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"PReLU '{self.name}': shared_axes must be between 1 and "
                    f"{len(input_shape) - 1} for inputs of rank {len(input_shape)}; received "
                    f"shared_axes={self.shared_axes}."
                )
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f"PReLU '{self.name}': every non-batch axis that is not shared must have a "
                f"known size; received input shape {input_shape}."
            )
        self.alpha = add_weight_from_args(self, "alpha", shape=tuple(param_shape), name="alpha")
        axes = {
            i: input_shape[i]
            for i in range(1, len(input_shape))
            if i not in (self.shared_axes or [])
        }
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)

    def call(self, inputs):
        return jax.nn.relu(inputs) - self.alpha.value * jax.nn.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            **weight_args_config(self, "alpha"),
            "shared_axes": self.shared_axes,
        }
