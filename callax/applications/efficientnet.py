"""EfficientNetB0-B7 (``keras.applications.efficientnet``), Keras's names and weights.

Reference: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks" (ICML 2019). The models take raw ``[0, 255]`` RGB images: the
rescaling and ImageNet normalization are layers of the model, so
``preprocess_input`` is the identity.
"""

from __future__ import annotations

import math
from typing import Any

from callax import layers
from callax.applications._common import (
    ApplicationArgs,
    build_model,
    classifier_head,
    keras_builder,
    load_requested_weights,
    start_model,
)
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.mobilenet_v2 import _correct_pad

__all__ = [
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "decode_predictions",
    "preprocess_input",
]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
# md5 of (with top, without top) Keras's ImageNet weight files.
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
# (width, depth, resolution, top dropout) per variant.
_SCALING = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}  # fmt: skip
# (kernel, repeats, filters_in, filters_out, expand_ratio, strides) of the 7 stages.
_STAGES = (
    (3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1),
)  # fmt: skip
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)
_DROP_CONNECT_RATE = 0.2
_SE_RATIO = 0.25


def _round_filters(filters: float, width: float, divisor: int = 8) -> int:
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:  # never round down by more than 10%
        new += divisor
    return int(new)


def _block(
    inputs: Any,
    drop_rate: float,
    name: str,
    filters_in: int,
    filters_out: int,
    kernel: int,
    strides: int,
    expand_ratio: int,
) -> Any:
    """Mobile inverted bottleneck with squeeze-and-excitation (swish activations)."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=name + "expand_conv")(x)
        x = layers.BatchNormalization(axis=3, name=name + "expand_bn")(x)
        x = layers.Activation("swish", name=name + "expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, kernel), name=name + "dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel,
        strides=strides,
        padding="valid" if strides == 2 else "same",
        use_bias=False,
        name=name + "dwconv",
    )(x)
    x = layers.BatchNormalization(axis=3, name=name + "bn")(x)
    x = layers.Activation("swish", name=name + "activation")(x)
    se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=name + "se_reshape")(se)
    se = layers.Conv2D(
        max(1, int(filters_in * _SE_RATIO)), 1, padding="same", activation="swish",
        name=name + "se_reduce",
    )(se)  # fmt: skip
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", name=name + "se_expand")(
        se
    )
    x = layers.Multiply(name=name + "se_excite")([x, se])
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=name + "project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=name + "project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # Stochastic depth: drops the whole residual branch per sample.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = layers.Add(name=name + "add")([x, inputs])
    return x


def _efficientnet(key: str, args: ApplicationArgs) -> Any:
    title = f"EfficientNet{key.upper()}"
    width, depth, resolution, dropout = _SCALING[key]
    img_input, source = start_model(args, title, resolution)
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=3)(x)
    if args.weights == "imagenet":
        # The weights file stores variance = std, so one more 1/sqrt(std) gives x/std.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=_correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        _round_filters(32, width), 3, strides=2, padding="valid", use_bias=False,
        name="stem_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    repeats = [int(math.ceil(depth * stage[1])) for stage in _STAGES]
    total, b = float(sum(repeats)), 0
    for i, ((kernel, _, f_in, f_out, expand, strides), n) in enumerate(zip(_STAGES, repeats)):
        f_in, f_out = _round_filters(f_in, width), _round_filters(f_out, width)
        for j in range(n):
            x = _block(
                x, _DROP_CONNECT_RATE * b / total, f"block{i + 1}{chr(j + 97)}_",
                f_in if j == 0 else f_out, f_out, kernel, strides if j == 0 else 1, expand,
            )  # fmt: skip
            b += 1

    x = layers.Conv2D(
        _round_filters(1280, width), 1, padding="same", use_bias=False, name="top_conv"
    )(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)
    x = classifier_head(x, args, dropout)
    model = build_model(img_input, source, x, args.name)
    # Keras names the file after the model.
    fname = args.name + (".h5" if args.include_top else "_notop.h5")
    file_hash = WEIGHTS_HASHES[key][0 if args.include_top else 1]
    load_requested_weights(model, args.weights, title, fname, BASE_WEIGHTS_PATH + fname, file_hash)
    return model


def _variant(key: str) -> Any:
    def build(args: ApplicationArgs) -> Any:
        return _efficientnet(key, args)

    size = _SCALING[key][2]
    doc = (
        f"Builds EfficientNet{key.upper()} (default input {size}x{size}; arguments as "
        "``ResNet50``; inputs are raw ``[0, 255]`` RGB)."
    )
    return keras_builder(build, f"EfficientNet{key.upper()}", f"efficientnet{key}", doc, __name__)


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """The identity: EfficientNet models rescale and normalize inside the model.

    >>> preprocess_input([1, 2])
    [1, 2]
    """
    return x
