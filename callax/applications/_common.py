"""Shared plumbing of the application builders: inputs, weights, the final Model."""

from __future__ import annotations

import os
from typing import Any

from callax.applications.imagenet_utils import obtain_input_shape, validate_activation


def check_arguments(
    weights: Any, include_top: bool, classes: int, classifier_activation: Any, model_name: str
) -> None:
    """Rejects ``weights`` that are neither None, ``"imagenet"`` nor an existing file."""
    if not (weights in {"imagenet", None} or os.path.exists(os.fspath(weights))):
        raise ValueError(
            f"{model_name}: the `weights` argument should be either None (random "
            "initialization), 'imagenet' (pre-training on ImageNet), or the path to the "
            f"weights file to be loaded; received weights={weights!r}."
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"{model_name}: with weights='imagenet' and include_top=True, classes must be "
            f"1000; received classes={classes}."
        )
    validate_activation(classifier_activation, weights, model_name)


def make_input(
    input_tensor: Any,
    input_shape: Any,
    default_size: int,
    min_size: int,
    include_top: bool,
    weights: Any,
    model_name: str,
) -> tuple[Any, Any]:
    """Returns ``(img_input, source_inputs_or_None)`` for the requested input."""
    from callax.core.keras_tensor import is_keras_tensor
    from callax.layers import Input

    shape = obtain_input_shape(
        input_shape, default_size, min_size, include_top, weights, model_name
    )
    if input_tensor is None:
        return Input(shape=shape), None
    if not is_keras_tensor(input_tensor):
        return Input(tensor=input_tensor, shape=shape), None
    return input_tensor, input_tensor


def pooled_head(x: Any, pooling: str | None) -> Any:
    """The ``include_top=False`` optional global pooling."""
    from callax import layers

    if pooling == "avg":
        return layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D()(x)
    return x


def build_model(img_input: Any, input_tensor: Any, outputs: Any, name: str) -> Any:
    from callax.models import Model
    from callax.utils import get_source_inputs

    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(inputs, outputs, name=name)


def load_application_weights(model: Any, path: str) -> None:
    """Loads a Keras 3 ``.weights.h5``/``.keras`` file or a legacy (Keras 2) ``.h5`` file.

    Keras's ImageNet files are legacy ``.h5``: one group per layer, listed in
    the ``layer_names`` attribute, each holding its arrays in the order given
    by ``weight_names``; they are matched to the model's layers in order.
    """
    from callax.saving.legacy_h5 import is_legacy_h5, load_legacy_h5

    path = os.fspath(path)
    if path.endswith(".weights.h5") or path.endswith(".keras"):
        model.load_weights(path)
        return
    if is_legacy_h5(path):
        load_legacy_h5(model, path)
    else:
        model.load_weights(path)


def fetch_weights(model_name: str, fname: str, origin: str, file_hash: str | None) -> str:
    """Downloads (or finds in ``$KERAS_HOME/models``) a pretrained weights file."""
    from callax.utils import get_file

    try:
        return get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
    except Exception as e:
        raise OSError(
            f"{model_name}: could not download the ImageNet weights from {origin} "
            f"({type(e).__name__}: {e}). Download that file into $KERAS_HOME/models/{fname} "
            "or pass weights=<path to the file>."
        ) from e
