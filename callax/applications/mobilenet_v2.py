"""MobileNetV2 (``keras.applications.mobilenet_v2``), Keras's layer names and weights.

Reference: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks" (CVPR 2018).
"""

from __future__ import annotations

from typing import Any

from callax import layers
from callax.applications._common import (
    build_model,
    check_arguments,
    load_requested_weights,
    pooled_head,
    square_sized_input,
    weights_size,
)
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
_ROWS = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of the 17 inverted residual blocks, block_id = position.
_BLOCKS = (
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
    (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
    (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6),
)  # fmt: skip


def MobileNetV2(  # noqa: N802 — Keras's public name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Any:
    """Builds the MobileNetV2 Functional model (inputs in ``[-1, 1]``: see ``preprocess_input``).

    Args:
        input_shape: ``(rows, cols, 3)``; at least 32x32. ImageNet weights exist for
            square inputs of 96, 128, 160, 192 or 224 pixels.
        alpha: width multiplier (ImageNet weights: 0.35, 0.5, 0.75, 1.0, 1.3, 1.4).
        include_top: with the global pooling + ``Dense(classes)`` classifier.
        weights: ``"imagenet"``, ``None`` (random) or a weights file path.
        input_tensor: a Keras tensor to build on.
        pooling: without the top, ``None``, ``"avg"`` or ``"max"`` global pooling.
        classes: classifier size (1000 with ImageNet weights and the top).
        classifier_activation: the top layer's activation.
        name: the model name (default ``mobilenetv2_{alpha:0.2f}_{rows}``).

    >>> model = MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4)
    >>> model.output_shape
    (None, 4)
    """
    check_arguments(weights, include_top, classes, classifier_activation, "MobileNetV2")
    shape = input_shape
    if shape is None and input_tensor is not None and hasattr(input_tensor, "shape"):
        shape = tuple(input_tensor.shape)[1:]
    img_input, source = square_sized_input(
        input_tensor, input_shape, shape, _ROWS, include_top, weights, "MobileNetV2"
    )
    rows = img_input.shape[1]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError(
                f"MobileNetV2: with weights='imagenet', alpha must be one of {_ALPHAS}; "
                f"received alpha={alpha}."
            )
        rows = weights_size(img_input, _ROWS, "MobileNetV2")
    x = _body(img_input, alpha)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled_head(x, pooling)
    model = build_model(img_input, source, x, name or f"mobilenetv2_{alpha:0.2f}_{rows}")

    fname = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
    fname += ".h5" if include_top else "_no_top.h5"
    load_requested_weights(model, weights, "MobileNetV2", fname, BASE_WEIGHT_PATH + fname, None)
    return model


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    # Channel counts rounded to a multiple of 8, never more than 10% below the target.
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _correct_pad(x: Any, kernel_size: int) -> tuple:
    # Pads so a stride-2 "valid" conv sees the same windows as TF's "same" padding.
    rows, cols = x.shape[1], x.shape[2]
    adjust = (1, 1) if rows is None else (1 - rows % 2, 1 - cols % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def _bn(name: str) -> Any:
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _body(img_input: Any, alpha: float) -> Any:
    first_filters = _make_divisible(32 * alpha, 8)
    x = layers.Conv2D(
        first_filters, 3, strides=(2, 2), padding="same", use_bias=False, name="Conv1"
    )(img_input)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters, alpha, stride, expansion, block_id)
    last_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_filters, 1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    return layers.ReLU(6.0, name="out_relu")(x)


def _inverted_res_block(
    inputs: Any, filters: int, alpha: float, stride: int, expansion: int, block_id: int
) -> Any:
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(
            expansion * in_channels, 1, padding="same", use_bias=False, name=prefix + "expand"
        )(x)
        x = _bn(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=prefix + "depthwise",
    )(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(
        pointwise_filters, 1, padding="same", use_bias=False, name=prefix + "project"
    )(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x
