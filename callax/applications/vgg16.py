"""VGG16 (``keras.applications.vgg16``), Keras's layer names and weights.

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition" (ICLR 2015). Caffe-style preprocessing.

Builders take Keras's arguments (as ``resnet``'s): ``include_top`` (with the
``flatten``/``fc1``/``fc2``/``predictions`` classifier), ``weights``
(``"imagenet"``, ``None`` or a file), ``input_tensor``, ``input_shape`` (at
least 32x32), ``pooling`` (``None``/``"avg"``/``"max"`` without the top),
``classes``, ``classifier_activation``, ``name``.

>>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
>>> model.output_shape
(None, 1, 1, 512)
"""

from __future__ import annotations

from typing import Any

from callax import layers
from callax.applications._common import (
    ApplicationArgs,
    build_model,
    keras_builder,
    load_requested_weights,
    pooled_head,
    start_model,
)
from callax.applications.imagenet_utils import decode_predictions
from callax.applications.imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]


def weights_paths(name: str) -> tuple[str, str]:
    """The URLs of Keras's ImageNet weights for VGG ``name`` (``"vgg16"``,
    ``"vgg19"``): with the top, without.

    >>> weights_paths("vgg19")[1].rsplit("/", 1)[-1]
    'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    base = (
        f"https://storage.googleapis.com/tensorflow/keras-applications/{name}/"
        f"{name}_weights_tf_dim_ordering_tf_kernels"
    )
    return f"{base}.h5", f"{base}_notop.h5"


WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP = weights_paths("vgg16")
_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")
# (filters, convolutions) of the five blocks.
_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _build(args: ApplicationArgs) -> Any:
    return build_vgg("VGG16", _BLOCKS, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), _HASHES, args)


VGG16 = keras_builder(
    _build, "VGG16", "vgg16",
    "Builds the VGG16 Functional model (inputs: see ``vgg16.preprocess_input``; "
    "arguments: see the module).", __name__,
)  # fmt: skip


def build_vgg(
    title: str,
    blocks: tuple,
    origins: tuple[str, str],
    hashes: tuple[str, str],
    args: ApplicationArgs,
) -> Any:
    """The VGG family: 3x3 conv blocks with max pooling, then three dense layers."""
    img_input, source = start_model(args, title, 224)
    x = img_input
    for b, (filters, convs) in enumerate(blocks, start=1):
        for c in range(1, convs + 1):
            x = layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{c}"
            )(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = pooled_head(x, args.pooling)
    model = build_model(img_input, source, x, args.name)

    origin = origins[0 if args.include_top else 1]
    fname = origin.rsplit("/", 1)[-1]
    load_requested_weights(
        model, args.weights, title, fname, origin, hashes[0 if args.include_top else 1]
    )
    return model
