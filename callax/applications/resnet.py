"""ResNet50/101/152 (``keras.applications.resnet``), Keras's layer names and weights.

Reference: He et al., "Deep Residual Learning for Image Recognition" (CVPR 2015).
Inputs are preprocessed in Caffe style (BGR, ImageNet means subtracted).
:func:`build_resnet` builds both this family and ``resnet_v2``'s (which differ
in their residual block and where BatchNorm + ReLU sit).

Builders take Keras's arguments:

- ``include_top``: with the ``avg_pool`` + ``Dense(classes)`` classifier.
- ``weights``: ``"imagenet"``, ``None`` (random) or a weights file path.
- ``input_tensor``: a Keras tensor to build on.
- ``input_shape``: ``(rows, cols, 3)``, at least 32x32 (default 224x224, or any
  size without the top).
- ``pooling``: without the top, ``None``, ``"avg"`` or ``"max"`` global pooling.
- ``classes``: classifier size (1000 with ImageNet weights and the top).
- ``classifier_activation``: the top layer's activation.
- ``name``: the model name.

>>> model = ResNet50(weights=None, input_shape=(32, 32, 3), classes=3)
>>> model.output_shape
(None, 3)
"""

from __future__ import annotations

from collections.abc import Callable
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
from callax.applications.imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["ResNet50", "ResNet101", "ResNet152", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# md5 of (with top, without top) Keras's ImageNet weight files.
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
}
# Residual blocks per stage (conv2 .. conv5), by depth; V2 models have the same.
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def batch_norm(name: str) -> Any:
    """Keras ResNet's BatchNormalization (channels last, epsilon 1.001e-5)."""
    return layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name)


def build_resnet(
    key: str,
    title: str,
    depth: int,
    stack: Callable[..., Any],
    preact: bool,
    weights_hash: tuple[str, str],
    args: ApplicationArgs,
) -> Any:
    """A ResNet: the 7x7 stem, four stages of ``stack(x, filters, blocks, stage,
    name)``, the head, and Keras's weights file ``<key>_weights_tf_dim_ordering_
    tf_kernels[_notop].h5``. ``preact`` (V2): no BatchNorm + ReLU after the stem,
    one after the last stage (``post_bn``)."""
    img_input, source = start_model(args, title, 224)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    if not preact:
        x = batch_norm("conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), DEPTHS[depth])):
        x = stack(x, filters, blocks, stage, name=f"conv{stage + 2}")
    if preact:
        x = batch_norm("post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = classifier_head(x, args)
    model = build_model(img_input, source, x, args.name)
    suffix = "" if args.include_top else "_notop"
    fname = f"{key}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    file_hash = weights_hash[0 if args.include_top else 1]
    load_requested_weights(model, args.weights, title, fname, BASE_WEIGHTS_PATH + fname, file_hash)
    return model


def _block(x: Any, filters: int, stride: int, conv_shortcut: bool, name: str) -> Any:
    """The bottleneck block: 1x1 (stride) -> 3x3 -> 1x1 (4x filters), plus the shortcut."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = batch_norm(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = batch_norm(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
    x = batch_norm(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = batch_norm(name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def _stack(x: Any, filters: int, blocks: int, stage: int, name: str) -> Any:
    """A stage: its first block strides by 2 (except the first stage's) and
    projects the shortcut."""
    x = _block(x, filters, 1 if stage == 0 else 2, True, f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block(x, filters, 1, False, f"{name}_block{i}")
    return x


def resnet_builder(
    depth: int,
    version: str,
    stack: Callable[..., Any],
    preact: bool,
    hashes: dict[str, tuple[str, str]],
    doc: str,
    module: str,
) -> Any:
    """The public builder ``ResNet<depth><version>`` (model name and weights key
    ``resnet<depth><version>``) of ``module``: :func:`build_resnet` with ``stack``."""
    key, title = f"resnet{depth}{version.lower()}", f"ResNet{depth}{version}"

    def build(args: ApplicationArgs) -> Any:
        return build_resnet(key, title, depth, stack, preact, hashes[key], args)

    return keras_builder(build, title, key, doc, module)


def _builder(depth: int, doc: str) -> Any:
    return resnet_builder(depth, "", _stack, False, WEIGHTS_HASHES, doc, __name__)


ResNet50 = _builder(50, "Builds the ResNet50 Functional model (inputs: see "
                        "``resnet50.preprocess_input``; arguments: see the module).")  # fmt: skip
ResNet101 = _builder(101, "Builds ResNet101 (as :func:`ResNet50`, with 23 blocks in stage 4).")
ResNet152 = _builder(
    152, "Builds ResNet152 (as :func:`ResNet50`, with 8 and 36 blocks in stages 3 and 4)."
)
