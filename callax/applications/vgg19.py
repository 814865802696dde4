"""VGG19 (``keras.applications.vgg19``): VGG16 with four convolutions in blocks 3-5.

>>> model = VGG19(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
>>> model.output_shape
(None, 512)
"""

from __future__ import annotations

from typing import Any

from callax.applications._common import ApplicationArgs, keras_builder
from callax.applications.vgg16 import (
    build_vgg,
    decode_predictions,
    preprocess_input,
    weights_paths,
)

WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP = weights_paths("vgg19")
_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")
_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def _build(args: ApplicationArgs) -> Any:
    return build_vgg("VGG19", _BLOCKS, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), _HASHES, args)


VGG19 = keras_builder(
    _build, "VGG19", "vgg19", "Builds the VGG19 Functional model (arguments as ``VGG16``).",
    __name__,
)  # fmt: skip
