"""InceptionV3 (``keras.applications.inception_v3``), Keras's layer names and weights.

Reference: Szegedy et al., "Rethinking the Inception Architecture for Computer
Vision" (CVPR 2016). Inputs are scaled to ``[-1, 1]`` (``preprocess_input``,
the ``"tf"`` mode).

As in Keras, only the eleven module outputs (``mixed0`` .. ``mixed10``, plus
``mixed9_0`` / ``mixed9_1``) and the classifier are named; every other layer
takes its default name (``conv2d_5``, ``batch_normalization_5``, ...), so a
model built first in a fresh session has exactly Keras's layer names.

The builder takes Keras's arguments (as ``xception``'s): ``include_top``,
``weights``, ``input_tensor``, ``input_shape`` (at least 75x75; default
299x299), ``pooling``, ``classes``, ``classifier_activation``, ``name``.

>>> model = InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
>>> model.output_shape
(None, 1, 1, 2048)
>>> model.get_layer("mixed7").output.shape
(None, 3, 3, 768)
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

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
WEIGHTS_PATH = _BASE + "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_PATH_NO_TOP = _BASE + "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
# md5 of (with top, without top) Keras's ImageNet weight files.
_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")
_AXIS = 3  # channels_last


def _cbr(
    x: Any, filters: int, rows: int, cols: int, padding: str = "same", strides: int = 1
) -> Any:
    """Conv2D (no bias) -> BatchNorm (no scale) -> ReLU, all default-named."""
    x = layers.Conv2D(
        filters, (rows, cols), strides=(strides, strides), padding=padding, use_bias=False
    )(x)
    x = layers.BatchNormalization(axis=_AXIS, scale=False)(x)
    return layers.Activation("relu")(x)


def _chain(x: Any, convs: tuple[tuple[int, int, int], ...]) -> Any:
    """``_cbr`` with each ``(filters, rows, cols)`` in turn ("same" padding)."""
    for filters, rows, cols in convs:
        x = _cbr(x, filters, rows, cols)
    return x


def _pool_branch(x: Any, filters: int) -> Any:
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return _cbr(x, filters, 1, 1)


def _mixed_35(x: Any, pool_filters: int, name: str) -> Any:
    """The 35x35 module (``mixed0``-``mixed2``): 1x1, 5x5, double 3x3, pooled."""
    branches = [
        _cbr(x, 64, 1, 1),
        _chain(x, ((48, 1, 1), (64, 5, 5))),
        _chain(x, ((64, 1, 1), (96, 3, 3), (96, 3, 3))),
        _pool_branch(x, pool_filters),
    ]
    return layers.Concatenate(axis=_AXIS, name=name)(branches)


def _reduce_35(x: Any) -> Any:
    """``mixed3``: 35x35 -> 17x17 (strided 3x3, strided double 3x3, max pool)."""
    branch3x3 = _cbr(x, 384, 3, 3, strides=2, padding="valid")
    dbl = _chain(x, ((64, 1, 1), (96, 3, 3)))
    dbl = _cbr(dbl, 96, 3, 3, strides=2, padding="valid")
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=_AXIS, name="mixed3")([branch3x3, dbl, pool])


def _mixed_17(x: Any, c7: int, name: str) -> Any:
    """The 17x17 module (``mixed4``-``mixed7``): 1x1, factorized 7x7, factorized
    double 7x7 (``c7`` inner channels), pooled."""
    branches = [
        _cbr(x, 192, 1, 1),
        _chain(x, ((c7, 1, 1), (c7, 1, 7), (192, 7, 1))),
        _chain(x, ((c7, 1, 1), (c7, 7, 1), (c7, 1, 7), (c7, 7, 1), (192, 1, 7))),
        _pool_branch(x, 192),
    ]
    return layers.Concatenate(axis=_AXIS, name=name)(branches)


def _reduce_17(x: Any) -> Any:
    """``mixed8``: 17x17 -> 8x8."""
    branch3x3 = _cbr(_cbr(x, 192, 1, 1), 320, 3, 3, strides=2, padding="valid")
    branch7x7x3 = _chain(x, ((192, 1, 1), (192, 1, 7), (192, 7, 1)))
    branch7x7x3 = _cbr(branch7x7x3, 192, 3, 3, strides=2, padding="valid")
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=_AXIS, name="mixed8")([branch3x3, branch7x7x3, pool])


def _mixed_8(x: Any, i: int) -> Any:
    """The 8x8 module (``mixed9``, ``mixed10``): its 3x3 branches split into
    parallel 1x3 and 3x1 convolutions."""
    branch1x1 = _cbr(x, 320, 1, 1)
    branch3x3 = _cbr(x, 384, 1, 1)
    branch3x3 = layers.Concatenate(axis=_AXIS, name=f"mixed9_{i}")(
        [_cbr(branch3x3, 384, 1, 3), _cbr(branch3x3, 384, 3, 1)]
    )
    dbl = _chain(x, ((448, 1, 1), (384, 3, 3)))
    dbl = layers.Concatenate(axis=_AXIS)([_cbr(dbl, 384, 1, 3), _cbr(dbl, 384, 3, 1)])
    branches = [branch1x1, branch3x3, dbl, _pool_branch(x, 192)]
    return layers.Concatenate(axis=_AXIS, name=f"mixed{9 + i}")(branches)


def _features(img_input: Any) -> Any:
    x = _cbr(img_input, 32, 3, 3, strides=2, padding="valid")
    x = _cbr(x, 32, 3, 3, padding="valid")
    x = _cbr(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _cbr(x, 80, 1, 1, padding="valid")
    x = _cbr(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _mixed_35(x, pool_filters, f"mixed{i}")
    x = _reduce_35(x)
    for i, c7 in enumerate((128, 160, 160, 192)):
        x = _mixed_17(x, c7, f"mixed{4 + i}")
    x = _reduce_17(x)
    for i in range(2):
        x = _mixed_8(x, i)
    return x


def _build(args: ApplicationArgs) -> Any:
    paths = (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP)
    return build_classifier(args, "InceptionV3", 299, 75, _features, paths, _HASHES)


InceptionV3 = keras_builder(
    _build, "InceptionV3", "inception_v3",
    "Builds the InceptionV3 Functional model (inputs in ``[-1, 1]``: see "
    "``inception_v3.preprocess_input``; arguments: see the module).", __name__,
)  # fmt: skip
