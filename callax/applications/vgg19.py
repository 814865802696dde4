"""VGG19 (``keras.applications.vgg19``): VGG16 with four convolutions in blocks 3-5."""

from __future__ import annotations

from typing import Any

from callax.applications.vgg16 import build_vgg, decode_predictions, preprocess_input

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
)
_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")
_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(  # noqa: N802 — Keras's public name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg19",
) -> Any:
    """Builds the VGG19 Functional model (arguments as ``VGG16``).

    >>> model = VGG19(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
    >>> model.output_shape
    (None, 512)
    """
    return build_vgg(
        "VGG19", _BLOCKS, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), _HASHES, include_top, weights,
        input_tensor, input_shape, pooling, classes, classifier_activation, name,
    )  # fmt: skip
