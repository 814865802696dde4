"""DenseNet121/169/201 (``keras.applications.densenet``), Keras's names and weights.

Reference: Huang et al., "Densely Connected Convolutional Networks" (CVPR 2017).
Inputs are scaled to ``[0, 1]`` and normalized with the ImageNet channel mean
and std (``preprocess_input``, the ``"torch"`` mode).

Builders take Keras's arguments (as ``resnet``'s): ``include_top``, ``weights``,
``input_tensor``, ``input_shape`` (at least 32x32; default 224x224),
``pooling`` (``avg_pool`` / ``max_pool`` without the top), ``classes``,
``classifier_activation``, ``name``.

>>> model = DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="max")
>>> model.output_shape, model.layers[-1].name
((None, 1024), 'max_pool')
"""

from __future__ import annotations

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
from callax.applications.imagenet_utils import preprocess_input as _imagenet

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# Building blocks of the four dense blocks, and the md5 of (with top, without top)
# Keras's ImageNet weight files, per model.
_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
WEIGHTS_HASHES = {
    121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_GROWTH_RATE = 32
_REDUCTION = 0.5  # channel compression of each transition


def _bn(name: str) -> Any:
    return layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name)


def _conv_block(x: Any, name: str) -> Any:
    """BN-ReLU-1x1 conv (4 x growth) -> BN-ReLU-3x3 conv (growth), concatenated
    to the input."""
    y = _bn(name + "_0_bn")(x)
    y = layers.Activation("relu", name=name + "_0_relu")(y)
    y = layers.Conv2D(4 * _GROWTH_RATE, 1, use_bias=False, name=name + "_1_conv")(y)
    y = _bn(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = layers.Conv2D(_GROWTH_RATE, 3, padding="same", use_bias=False, name=name + "_2_conv")(y)
    return layers.Concatenate(axis=3, name=name + "_concat")([x, y])


def _transition(x: Any, name: str) -> Any:
    """BN-ReLU-1x1 conv halving the channels, then 2x2 average pooling."""
    x = _bn(name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * _REDUCTION), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def _features(img_input: Any, blocks: tuple[int, ...]) -> Any:
    # Keras leaves the two stem paddings unnamed (zero_padding2d, zero_padding2d_1).
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, start=2):
        for i in range(1, n + 1):
            x = _conv_block(x, f"conv{stage}_block{i}")
        if stage < 5:
            x = _transition(x, f"pool{stage}")
    x = _bn("bn")(x)
    return layers.Activation("relu", name="relu")(x)


def _builder(depth: int) -> Any:
    title = f"DenseNet{depth}"

    def build(args: ApplicationArgs) -> Any:
        img_input, source = start_model(args, title, 224)
        x = classifier_head(_features(img_input, _BLOCKS[depth]), args)
        model = build_model(img_input, source, x, args.name)
        suffix = "" if args.include_top else "_notop"
        fname = f"densenet{depth}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        file_hash = WEIGHTS_HASHES[depth][0 if args.include_top else 1]
        load_requested_weights(
            model, args.weights, title, fname, BASE_WEIGHTS_PATH + fname, file_hash
        )
        return model

    blocks = ", ".join(str(n) for n in _BLOCKS[depth])
    doc = (
        f"Builds the {title} Functional model (dense blocks of {blocks} layers; inputs: "
        "see ``densenet.preprocess_input``; arguments: see the module)."
    )
    return keras_builder(build, title, f"densenet{depth}", doc, __name__)


DenseNet121 = _builder(121)
DenseNet169 = _builder(169)
DenseNet201 = _builder(201)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scales RGB images from ``[0, 255]`` to ``[0, 1]``, then normalizes each
    channel with the ImageNet mean and std (the ``"torch"`` mode).

    >>> import numpy as np
    >>> preprocess_input(np.array([[255.0 * 0.485, 255.0 * 0.456, 0.0]])).round(3).tolist()
    [[0.0, 0.0, -1.804]]
    """
    return _imagenet(x, data_format=data_format, mode="torch")
