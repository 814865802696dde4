"""MobileNet (v1, ``keras.applications.mobilenet``), Keras's layer names and weights.

Reference: Howard et al., "MobileNets: Efficient Convolutional Neural Networks
for Mobile Vision Applications" (2017). Inputs in ``[-1, 1]``.
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

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_ALPHA_TEXT = {0.25: "2_5", 0.5: "5_0", 0.75: "7_5", 1.0: "1_0"}
_ROWS = (128, 160, 192, 224)
# (pointwise filters, stride) of the 13 depthwise-separable blocks (block_id = position + 1).
_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
    (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip


def MobileNet(  # noqa: N802 — Keras's public name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Any:
    """Builds the MobileNet Functional model (inputs: see ``mobilenet.preprocess_input``).

    Args:
        input_shape: ``(rows, cols, 3)``, at least 32x32; ImageNet weights exist for
            square inputs of 128, 160, 192 or 224 pixels.
        alpha: width multiplier (ImageNet weights: 0.25, 0.5, 0.75, 1.0).
        depth_multiplier: depthwise channel multiplier (1 with ImageNet weights).
        dropout: dropout rate before the classifier.
        include_top, weights, input_tensor, pooling, classes, classifier_activation:
            as for ``MobileNetV2``.
        name: the model name (default ``mobilenet_{alpha:0.2f}_{rows}``).

    >>> model = MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=4)
    >>> model.output_shape
    (None, 4)
    """
    check_arguments(weights, include_top, classes, classifier_activation, "MobileNet")
    img_input, source = square_sized_input(
        input_tensor, input_shape, input_shape, _ROWS, include_top, weights, "MobileNet"
    )
    rows = img_input.shape[1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(
                "MobileNet: with weights='imagenet', depth_multiplier must be 1; received "
                f"depth_multiplier={depth_multiplier}."
            )
        if alpha not in _ALPHA_TEXT:
            raise ValueError(
                f"MobileNet: with weights='imagenet', alpha must be one of "
                f"{tuple(_ALPHA_TEXT)}; received alpha={alpha}."
            )
        rows = weights_size(img_input, _ROWS, "MobileNet")

    x = layers.Conv2D(
        int(32 * alpha), 3, padding="same", use_bias=False, strides=(2, 2), name="conv1"
    )(img_input)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_block(x, int(filters * alpha), depth_multiplier, stride, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled_head(x, pooling)
    model = build_model(img_input, source, x, name or f"mobilenet_{alpha:0.2f}_{rows}")

    fname = f"mobilenet_{_ALPHA_TEXT.get(alpha)}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    load_requested_weights(model, weights, "MobileNet", fname, BASE_WEIGHT_PATH + fname, None)
    return model


def _depthwise_block(x: Any, filters: int, depth_multiplier: int, stride: int, i: int) -> Any:
    if stride != 1:
        # Pads bottom/right only, as TF's "same" does for a stride-2 3x3 on even sizes.
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{i}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if stride == 1 else "valid",
        depth_multiplier=depth_multiplier,
        strides=(stride, stride),
        use_bias=False,
        name=f"conv_dw_{i}",
    )(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{i}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{i}_relu")(x)
    x = layers.Conv2D(
        filters, (1, 1), padding="same", use_bias=False, strides=(1, 1), name=f"conv_pw_{i}"
    )(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{i}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{i}_relu")(x)
