"""Xception (``keras.applications.xception``), Keras's layer names and weights.

Reference: Chollet, "Xception: Deep Learning with Depthwise Separable
Convolutions" (CVPR 2017). Inputs are scaled to ``[-1, 1]`` (``preprocess_input``,
the ``"tf"`` mode).

The builder takes Keras's arguments:

- ``include_top``: with the ``avg_pool`` + ``Dense(classes)`` classifier.
- ``weights``: ``"imagenet"``, ``None`` (random) or a weights file path.
- ``input_tensor``: a Keras tensor to build on.
- ``input_shape``: ``(rows, cols, 3)``, at least 71x71 (default 299x299, or any
  size without the top).
- ``pooling``: without the top, ``None``, ``"avg"`` or ``"max"`` global pooling.
- ``classes``: classifier size (1000 with ImageNet weights and the top).
- ``classifier_activation``: the top layer's activation.
- ``name``: the model name.

>>> model = Xception(weights=None, include_top=False, input_shape=(71, 71, 3), pooling="avg")
>>> model.output_shape
(None, 2048)
>>> model.get_layer("block1_conv1").filters
32
"""

from __future__ import annotations

from typing import Any

from callax import layers
from callax.applications._common import (
    ApplicationArgs,
    build_classifier,
    keras_builder,
)
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
WEIGHTS_PATH = _BASE + "xception_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_PATH_NO_TOP = _BASE + "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
# md5 of (with top, without top) Keras's ImageNet weight files.
_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")
_MIDDLE_BLOCKS = 8  # blocks 5..12, 728 channels each


def _sep_bn(x: Any, filters: int, name: str, relu_first: bool = True) -> Any:
    """(ReLU ``<name>_act``) -> SeparableConv2D ``<name>`` -> BatchNorm ``<name>_bn``."""
    if relu_first:
        x = layers.Activation("relu", name=name + "_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=name + "_bn")(x)


def _strided_block(x: Any, filters: tuple[int, int], block: int, relu_first: bool = True) -> Any:
    """Two separable convolutions and a stride-2 max pool, plus a strided 1x1
    projection of the input; Keras leaves the projection's layers unnamed and
    creates them first (which fixes the weight order)."""
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=-1)(residual)
    x = _sep_bn(x, filters[0], f"block{block}_sepconv1", relu_first)
    x = _sep_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.Add()([x, residual])


def _features(img_input: Any) -> Any:
    x = img_input
    for i, (filters, strides) in enumerate(((32, 2), (64, 1)), start=1):
        x = layers.Conv2D(filters, (3, 3), strides=strides, use_bias=False, name=f"block1_conv{i}")(
            x
        )
        x = layers.BatchNormalization(axis=-1, name=f"block1_conv{i}_bn")(x)
        x = layers.Activation("relu", name=f"block1_conv{i}_act")(x)
    # Entry flow: block 2's first separable conv follows the stem's ReLU directly.
    x = _strided_block(x, (128, 128), 2, relu_first=False)
    x = _strided_block(x, (256, 256), 3)
    x = _strided_block(x, (728, 728), 4)
    # Middle flow: identity-shortcut blocks of three separable convolutions.
    for block in range(5, 5 + _MIDDLE_BLOCKS):
        residual = x
        for conv in (1, 2, 3):
            x = _sep_bn(x, 728, f"block{block}_sepconv{conv}")
        x = layers.Add()([x, residual])
    # Exit flow.
    x = _strided_block(x, (728, 1024), 13)
    for conv, filters in ((1, 1536), (2, 2048)):
        x = _sep_bn(x, filters, f"block14_sepconv{conv}", relu_first=False)
        x = layers.Activation("relu", name=f"block14_sepconv{conv}_act")(x)
    return x


def _build(args: ApplicationArgs) -> Any:
    paths = (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP)
    return build_classifier(args, "Xception", 299, 71, _features, paths, _HASHES)


Xception = keras_builder(
    _build, "Xception", "xception",
    "Builds the Xception Functional model (inputs in ``[-1, 1]``: see "
    "``xception.preprocess_input``; arguments: see the module).", __name__,
)  # fmt: skip
