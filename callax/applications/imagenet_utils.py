"""ImageNet helpers shared by the applications (``keras.applications.imagenet_utils``).

``preprocess_input`` in the three Keras modes, ``decode_predictions`` with the
ImageNet class index (downloaded once into ``$KERAS_HOME/models``), and the
argument checks every application model runs before building.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from callax import ops
from callax.backend import image_data_format
from callax.utils.file_utils import get_file

CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

# Cached per index-file path, so a test pointing KERAS_HOME elsewhere sees its own index.
_CLASS_INDEX: dict[str, dict[str, list[str]]] = {}

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR order
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scales a batch of RGB images (0-255) the way an ImageNet model expects.

    Modes: ``"caffe"`` (RGB to BGR, minus the ImageNet channel means),
    ``"tf"`` (scaled to ``[-1, 1]``), ``"torch"`` (scaled to ``[0, 1]``, then
    normalized per channel with the ImageNet mean and std). A float numpy array
    is modified in place and returned, as in Keras; other inputs (int arrays,
    jax arrays, symbolic tensors) give a new array.

    >>> import numpy as np
    >>> preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf").tolist()
    [[-1.0, 0.0, 1.0]]
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(
            "preprocess_input: expected mode to be one of 'caffe', 'tf' or 'torch'; "
            f"received mode={mode!r}."
        )
    if data_format is None:
        data_format = image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "preprocess_input: expected data_format 'channels_first' or 'channels_last'; "
            f"received data_format={data_format!r}."
        )
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype("float32")
        return _preprocess(x, data_format, mode, np)
    x = ops.convert_to_tensor(x) if not hasattr(x, "shape") else x
    if not str(getattr(x, "dtype", "float32")).startswith(("float", "bfloat")):
        x = ops.cast(x, "float32")
    return _preprocess(x, data_format, mode, None)


def _preprocess(x: Any, data_format: str, mode: str, xp: Any) -> Any:
    axis = -3 if data_format == "channels_first" and len(x.shape) >= 3 else -1
    if data_format == "channels_first" and len(x.shape) == 3:
        axis = 0
    if mode == "tf":
        if xp is np:
            x /= 127.5
            x -= 1.0
            return x
        return x / 127.5 - 1.0
    if mode == "torch":
        mean, std = _TORCH_MEAN, _TORCH_STD
        x = x / 255.0 if xp is not np else _inplace_div(x, 255.0)
    else:
        x = _flip_channels(x, axis, xp)
        mean, std = _CAFFE_MEAN, None
    shape = [1] * len(x.shape)
    shape[axis] = 3
    mean_arr = np.asarray(mean, dtype="float32").reshape(shape)
    if xp is np:
        x -= mean_arr.astype(x.dtype)
        if std is not None:
            x /= np.asarray(std, dtype=x.dtype).reshape(shape)
        return x
    x = x - ops.cast(mean_arr, x.dtype)
    if std is not None:
        x = x / ops.cast(np.asarray(std, dtype="float32").reshape(shape), x.dtype)
    return x


def _inplace_div(x: np.ndarray, value: float) -> np.ndarray:
    x /= value
    return x


def _flip_channels(x: Any, axis: int, xp: Any) -> Any:
    if xp is np:
        flipped = np.flip(x, axis=axis).copy()
        x[...] = flipped
        return x
    return ops.flip(x, axis=axis)


def _class_index() -> dict[str, list[str]]:
    path = get_file(
        "imagenet_class_index.json",
        CLASS_INDEX_PATH,
        cache_subdir="models",
        file_hash=CLASS_INDEX_HASH,
    )
    if path not in _CLASS_INDEX:
        with open(path) as f:
            _CLASS_INDEX[path] = json.load(f)
    return _CLASS_INDEX[path]


def preprocess_caffe(x: Any, data_format: str | None = None) -> Any:
    """Caffe-style preprocessing (VGG, ResNet): RGB to BGR, minus the ImageNet
    channel means.

    >>> import numpy as np
    >>> preprocess_caffe(np.array([[[[0.0, 0.0, 0.0]]]])).round(3).tolist()
    [[[[-103.939, -116.779, -123.68]]]]
    """
    return preprocess_input(x, data_format=data_format, mode="caffe")


def preprocess_tf(x: Any, data_format: str | None = None) -> Any:
    """Scales RGB images from ``[0, 255]`` to ``[-1, 1]`` (MobileNet, ResNetV2).

    >>> import numpy as np
    >>> preprocess_tf(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """
    return preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Turns ImageNet predictions ``(batch, 1000)`` into ``(class_id, name, score)`` lists.

    Each sample gives its ``top`` best classes, best first. The class index is
    downloaded from ``CLASS_INDEX_PATH`` into ``$KERAS_HOME/models`` on first use.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "decode_predictions expects a batch of ImageNet predictions (i.e. a 2D array of "
            f"shape (samples, 1000)); received an array of shape {preds.shape}."
        )
    index = _class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        results.append([(*index[str(i)], float(pred[i])) for i in best])
    return results


def obtain_input_shape(
    input_shape: tuple | None,
    default_size: int,
    min_size: int,
    require_flatten: bool,
    weights: str | None,
    model_name: str = "model",
) -> tuple:
    """Checks ``input_shape`` (channels_last) and returns the shape to build with.

    ``require_flatten`` (``include_top=True``) with ImageNet weights pins the
    shape to ``(default_size, default_size, 3)``.
    """
    default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                f"{model_name}: with include_top=True and weights='imagenet', input_shape "
                f"must be {default_shape}; received input_shape={input_shape}."
            )
        return default_shape
    if input_shape is None:
        return default_shape if require_flatten else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"{model_name}: input_shape must be a tuple of 3 integers (rows, cols, channels); "
            f"received input_shape={input_shape}."
        )
    if weights == "imagenet" and input_shape[-1] != 3:
        raise ValueError(
            f"{model_name}: ImageNet weights need 3 input channels; received "
            f"input_shape={input_shape}."
        )
    for dim in input_shape[:2]:
        if dim is not None and dim < min_size:
            raise ValueError(
                f"{model_name}: input size must be at least {min_size}x{min_size}; "
                f"received input_shape={input_shape}."
            )
    return input_shape


def validate_activation(classifier_activation: Any, weights: Any, model_name: str) -> None:
    """With ImageNet weights, the classifier activation must be softmax or None."""
    if weights is None or classifier_activation in (None, "softmax"):
        return
    if getattr(classifier_activation, "__name__", None) == "softmax":
        return
    raise ValueError(
        f"{model_name}: only classifier_activation=None or 'softmax' are allowed with "
        f"pretrained weights; received classifier_activation={classifier_activation!r}."
    )
