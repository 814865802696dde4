"""ResNet50V2/101V2/152V2 (``keras.applications.resnet_v2``), Keras's names and weights.

Reference: He et al., "Identity Mappings in Deep Residual Networks" (ECCV 2016):
pre-activation blocks (BatchNorm + ReLU before each convolution). Inputs in
``[-1, 1]`` (see ``preprocess_input``). Built by ``resnet.build_resnet``;
arguments as in :mod:`callax.applications.resnet`.

>>> model = ResNet50V2(weights=None, input_shape=(32, 32, 3), classes=3)
>>> model.output_shape
(None, 3)
"""

from __future__ import annotations

from typing import Any

from callax import layers
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.imagenet_utils import preprocess_tf as preprocess_input
from callax.applications.resnet import batch_norm, resnet_builder

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "decode_predictions", "preprocess_input"]

# md5 of (with top, without top) Keras's ImageNet weight files.
WEIGHTS_HASHES = {
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}


def _block(x: Any, filters: int, stride: int, conv_shortcut: bool, name: str) -> Any:
    """Pre-activation bottleneck; the stride sits on the 3x3 conv of a stage's last block."""
    preact = batch_norm(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = batch_norm(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = batch_norm(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def _stack(x: Any, filters: int, blocks: int, stage: int, name: str) -> Any:
    """A stage: its last block strides by 2 (except the last stage's)."""
    x = _block(x, filters, 1, True, f"{name}_block1")
    for i in range(2, blocks):
        x = _block(x, filters, 1, False, f"{name}_block{i}")
    return _block(x, filters, 1 if stage == 3 else 2, False, f"{name}_block{blocks}")


def _builder(depth: int, doc: str) -> Any:
    return resnet_builder(depth, "V2", _stack, True, WEIGHTS_HASHES, doc, __name__)


ResNet50V2 = _builder(50, "Builds ResNet50V2 (arguments as ``ResNet50``; inputs: "
                          "``resnet_v2.preprocess_input``).")  # fmt: skip
ResNet101V2 = _builder(
    101, "Builds ResNet101V2 (as :func:`ResNet50V2`, with 23 blocks in stage 4)."
)
ResNet152V2 = _builder(
    152, "Builds ResNet152V2 (as :func:`ResNet50V2`, with 8 and 36 blocks in stages 3 and 4)."
)
