"""MobileNetV3Small/Large (``keras.applications.mobilenet_v3``), Keras's names and weights.

Reference: Howard et al., "Searching for MobileNetV3" (ICCV 2019). The models
take raw ``[0, 255]`` RGB images (``include_preprocessing=True`` rescales them
to ``[-1, 1]`` inside the model), so ``preprocess_input`` is the identity.

As in Keras, the activations (``re_lu_3``, ``activation_2``, the ReLU6 inside
each squeeze-excite hard sigmoid) and the classifier's pooling, dropout and
flatten layers take default names; built first in a fresh session, a model has
exactly Keras's layer names.

>>> model = MobileNetV3Small(input_shape=(32, 32, 3), weights=None, include_top=False)
>>> model.output_shape
(None, 1, 1, 576)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from callax import layers
from callax.applications._common import (
    build_model,
    check_arguments,
    load_requested_weights,
)
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.mobilenet_v2 import _correct_pad, _make_divisible
from callax.core.keras_tensor import is_keras_tensor

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
# md5 of (with top, without top) Keras's ImageNet weight files, per variant.
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": (
        "675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973",
    ),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": (
        "99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4",
    ),
}  # fmt: skip
# Inverted residual blocks: (expansion, filters, kernel ("k": the variant's 5 or,
# minimalistic, 3), stride, squeeze-excite, activation ("hs": the variant's
# hard swish or, minimalistic, ReLU)).
_SMALL = (
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
    (88 / 24, 24, 3, 1, False, "relu"), (4, 40, "k", 2, True, "hs"), (6, 40, "k", 1, True, "hs"),
    (6, 40, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"),
    (6, 96, "k", 2, True, "hs"), (6, 96, "k", 1, True, "hs"), (6, 96, "k", 1, True, "hs"),
)  # fmt: skip
_LARGE = (
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
    (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
    (6, 80, 3, 2, False, "hs"), (2.5, 80, 3, 1, False, "hs"), (2.3, 80, 3, 1, False, "hs"),
    (2.3, 80, 3, 1, False, "hs"), (6, 112, 3, 1, True, "hs"), (6, 112, 3, 1, True, "hs"),
    (6, 160, "k", 2, True, "hs"), (6, 160, "k", 1, True, "hs"), (6, 160, "k", 1, True, "hs"),
)  # fmt: skip
_SE_RATIO = 0.25


def _bn(name: str) -> Any:
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _relu(x: Any) -> Any:
    return layers.ReLU()(x)


def _hard_swish(x: Any) -> Any:
    return layers.Activation("hard_swish")(x)


def _hard_sigmoid(x: Any) -> Any:
    # relu6(x + 3) / 6, written as Keras does (a ReLU layer between two symbolic ops).
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _squeeze_excite(inputs: Any, filters: int, prefix: str) -> Any:
    x = layers.GlobalAveragePooling2D(keepdims=True, name=prefix + "squeeze_excite_avg_pool")(
        inputs
    )
    x = layers.Conv2D(
        _make_divisible(filters * _SE_RATIO, 8), 1, padding="same",
        name=prefix + "squeeze_excite_conv",
    )(x)  # fmt: skip
    x = layers.ReLU(name=prefix + "squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=prefix + "squeeze_excite_conv_1")(x)
    return layers.Multiply(name=prefix + "squeeze_excite_mul")([inputs, _hard_sigmoid(x)])


def _inverted_res_block(
    x: Any,
    expansion: float,
    filters: int,
    kernel: int,
    stride: int,
    se: bool,
    activation: Callable[[Any], Any],
    block_id: int,
) -> Any:
    shortcut, in_filters = x, x.shape[-1]
    expanded = _make_divisible(in_filters * expansion, 8)
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(expanded, 1, padding="same", use_bias=False, name=prefix + "expand")(x)
        x = activation(_bn(prefix + "expand_bn")(x))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, kernel), name=prefix + "depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
        name=prefix + "depthwise",
    )(x)  # fmt: skip
    x = activation(_bn(prefix + "depthwise_bn")(x))
    if se:
        x = _squeeze_excite(x, expanded, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _bn(prefix + "project_bn")(x)
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=prefix + "add")([shortcut, x])
    return x


def _input(input_tensor: Any, input_shape: Any, title: str) -> tuple[Any, Any, tuple]:
    """Keras's MobileNetV3 input rules: any size of at least 32x32 (default
    ``(None, None, 3)``, with or without the top); an ``input_shape`` given with
    a Keras tensor must agree with it."""
    if input_tensor is not None and is_keras_tensor(input_tensor):
        tensor_shape = tuple(input_tensor.shape)[1:]
        if input_shape is not None and tensor_shape[1] != input_shape[1]:
            raise ValueError(
                f"{title}: input_shape[1] must equal input_tensor.shape[2]; received "
                f"input_shape={input_shape} and input_tensor.shape={input_tensor.shape}."
            )
        input_shape = input_shape if input_shape is not None else tensor_shape
    shape = tuple(input_shape) if input_shape is not None else (None, None, 3)
    rows, cols = shape[0], shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(
            f"{title}: input size must be at least 32x32; received input_shape={shape}."
        )
    if input_tensor is None:
        return layers.Input(shape=shape), None, shape
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=shape), None, shape
    return input_tensor, input_tensor, shape


def _mobilenet_v3(
    model_type: str,
    blocks: tuple,
    last_point_ch: int,
    input_shape: Any,
    alpha: float,
    minimalistic: bool,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    classes: int,
    pooling: str | None,
    dropout_rate: float,
    classifier_activation: Any,
    include_preprocessing: bool,
    name: str,
) -> Any:
    title = f"MobileNetV3{model_type.capitalize()}"
    check_arguments(weights, include_top, classes, classifier_activation, title)
    img_input, source, shape = _input(input_tensor, input_shape, title)
    if weights == "imagenet":
        if (alpha not in (0.75, 1.0)) if not minimalistic else alpha != 1.0:
            raise ValueError(
                f"{title}: with weights='imagenet', alpha must be 0.75 or 1.0 (1.0 when "
                f"minimalistic); received alpha={alpha}, minimalistic={minimalistic}."
            )
        if shape[0] != shape[1] or shape[0] != 224:
            warnings.warn(
                f"{title}: input_shape is undefined or non-square, or rows is not 224; "
                "loading the weights for input shape (224, 224).",
                stacklevel=3,
            )
    kernel, activation, se = (3, _relu, False) if minimalistic else (5, _hard_swish, True)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = activation(_bn("conv_bn")(x))
    for block_id, (expansion, filters, k, stride, block_se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x, expansion, _make_divisible(filters * alpha, 8), kernel if k == "k" else k, stride,
            block_se and se, activation if act == "hs" else _relu, block_id,
        )  # fmt: skip
    last_conv_ch = _make_divisible(x.shape[-1] * 6, 8)
    if alpha > 1.0:
        last_point_ch = _make_divisible(last_point_ch * alpha, 8)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(_bn("conv_1_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = activation(layers.Conv2D(last_point_ch, 1, padding="same", name="conv_2")(x))
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = build_model(img_input, source, x, name)

    variant = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    fname = f"weights_mobilenet_v3_{variant}" + (".h5" if include_top else "_no_top_v2.h5")
    file_hash = WEIGHTS_HASHES.get(variant, (None, None))[0 if include_top else 1]
    load_requested_weights(model, weights, title, fname, BASE_WEIGHT_PATH + fname, file_hash)
    return model


def MobileNetV3Small(  # noqa: N802 — Keras's public name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> Any:
    """Builds the MobileNetV3Small Functional model (raw ``[0, 255]`` RGB inputs).

    Args:
        input_shape: ``(rows, cols, 3)``, at least 32x32 (default any size). The
            ImageNet weights are for 224x224.
        alpha: width multiplier (ImageNet weights: 0.75 or 1.0; 1.0 if minimalistic).
        minimalistic: 3x3 kernels, ReLU and no squeeze-excite (for edge devices).
        include_top: with the 1x1-conv classifier (``conv_2``, ``logits``).
        weights: ``"imagenet"``, ``None`` (random) or a weights file path.
        input_tensor: a Keras tensor to build on.
        classes: classifier size (1000 with ImageNet weights and the top).
        pooling: without the top, ``None``, ``"avg"`` or ``"max"`` global pooling.
        dropout_rate: dropout before the ``logits`` layer.
        classifier_activation: the ``predictions`` activation.
        include_preprocessing: rescale ``[0, 255]`` inputs to ``[-1, 1]`` in the model.
        name: the model name.

    >>> MobileNetV3Small(input_shape=(32, 32, 3), weights=None, classes=4).output_shape
    (None, 4)
    """
    return _mobilenet_v3(
        "small", _SMALL, 1024, input_shape, alpha, minimalistic, include_top, weights,
        input_tensor, classes, pooling, dropout_rate, classifier_activation,
        include_preprocessing, name,
    )  # fmt: skip


def MobileNetV3Large(  # noqa: N802 — Keras's public name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> Any:
    """Builds the MobileNetV3Large Functional model (arguments as :func:`MobileNetV3Small`).

    >>> model = MobileNetV3Large(input_shape=(32, 32, 3), weights=None, include_top=False)
    >>> model.output_shape
    (None, 1, 1, 960)
    """
    return _mobilenet_v3(
        "large", _LARGE, 1280, input_shape, alpha, minimalistic, include_top, weights,
        input_tensor, classes, pooling, dropout_rate, classifier_activation,
        include_preprocessing, name,
    )  # fmt: skip


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """The identity: MobileNetV3 models rescale their inputs themselves.

    >>> preprocess_input([0, 255])
    [0, 255]
    """
    return x
