"""ResNet50V2/101V2/152V2 (``keras.applications.resnet_v2``), Keras's names and weights.

Reference: He et al., "Identity Mappings in Deep Residual Networks" (ECCV 2016):
pre-activation blocks (BatchNorm + ReLU before each convolution). Inputs in
``[-1, 1]`` (see ``preprocess_input``).
"""

from __future__ import annotations

from typing import Any

from callax.applications import imagenet_utils
from callax.applications._common import (
    build_model,
    check_arguments,
    fetch_weights,
    load_application_weights,
    make_input,
)
from callax.applications.imagenet_utils import decode_predictions as _decode_predictions
from callax.applications.resnet import BASE_WEIGHTS_PATH

# md5 of (with top, without top) Keras's ImageNet weight files.
WEIGHTS_HASHES = {
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
_DEPTHS = {"resnet50v2": (3, 4, 6, 3), "resnet101v2": (3, 4, 23, 3), "resnet152v2": (3, 8, 36, 3)}
_TITLES = {"resnet50v2": "ResNet50V2", "resnet101v2": "ResNet101V2", "resnet152v2": "ResNet152V2"}


def _bn(name: str) -> Any:
    from callax import layers

    return layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name)


def _block(x: Any, filters: int, stride: int, conv_shortcut: bool, name: str) -> Any:
    """Pre-activation bottleneck; the stride sits on the 3x3 conv of a stage's last block."""
    from callax import layers

    preact = _bn(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = _bn(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def _stack(x: Any, filters: int, blocks: int, stride1: int, name: str) -> Any:
    x = _block(x, filters, 1, True, f"{name}_block1")
    for i in range(2, blocks):
        x = _block(x, filters, 1, False, f"{name}_block{i}")
    return _block(x, filters, stride1, False, f"{name}_block{blocks}")


def _resnet_v2(
    key: str,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
) -> Any:
    from callax import layers

    title = _TITLES[key]
    check_arguments(weights, include_top, classes, classifier_activation, title)
    img_input, source = make_input(input_tensor, input_shape, 224, 32, include_top, weights, title)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), _DEPTHS[key])):
        x = _stack(x, filters, blocks, stride1=1 if stage == 3 else 2, name=f"conv{stage + 2}")
    x = _bn("post_bn")(x)
    x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = build_model(img_input, source, x, name)

    if weights == "imagenet":
        suffix = "" if include_top else "_notop"
        fname = f"{key}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        file_hash = WEIGHTS_HASHES[key][0 if include_top else 1]
        path = fetch_weights(title, fname, BASE_WEIGHTS_PATH + fname, file_hash)
        load_application_weights(model, path)
    elif weights is not None:
        load_application_weights(model, weights)
    return model


def ResNet50V2(  # noqa: N802 — Keras's public name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50v2",
) -> Any:
    """Builds ResNet50V2 (arguments as ``ResNet50``; inputs: ``resnet_v2.preprocess_input``).

    >>> model = ResNet50V2(weights=None, input_shape=(32, 32, 3), classes=3)
    >>> model.output_shape
    (None, 3)
    """
    return _resnet_v2(
        "resnet50v2", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def ResNet101V2(  # noqa: N802 — Keras's public name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101v2",
) -> Any:
    """Builds ResNet101V2 (as :func:`ResNet50V2`, with 23 blocks in stage 4)."""
    return _resnet_v2(
        "resnet101v2", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def ResNet152V2(  # noqa: N802 — Keras's public name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152v2",
) -> Any:
    """Builds ResNet152V2 (as :func:`ResNet50V2`, with 8 and 36 blocks in stages 3 and 4)."""
    return _resnet_v2(
        "resnet152v2", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scales RGB images from ``[0, 255]`` to ``[-1, 1]`` (the ``"tf"`` mode).

    >>> import numpy as np
    >>> preprocess_input(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list:
    """ImageNet ``(class_id, name, score)`` lists (see ``imagenet_utils.decode_predictions``)."""
    return _decode_predictions(preds, top=top)
