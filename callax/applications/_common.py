"""Shared plumbing of the application builders: inputs, weights, the final Model."""

from __future__ import annotations

import os
import warnings
from typing import Any, NamedTuple

from callax import layers
from callax.applications.imagenet_utils import obtain_input_shape, validate_activation
from callax.core.keras_tensor import is_keras_tensor
from callax.models import Model
from callax.saving.legacy_h5 import is_legacy_h5, load_legacy_h5
from callax.utils.file_utils import get_file
from callax.utils.model_utils import get_source_inputs


class ApplicationArgs(NamedTuple):
    """The arguments every Keras application builder takes, in Keras's order
    (what :func:`keras_builder` hands the family's build function)."""

    include_top: bool
    weights: Any
    input_tensor: Any
    input_shape: Any
    pooling: str | None
    classes: int
    classifier_activation: Any
    name: str


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
    shape = obtain_input_shape(
        input_shape, default_size, min_size, include_top, weights, model_name
    )
    if input_tensor is None:
        return layers.Input(shape=shape), None
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=shape), None
    return input_tensor, input_tensor


def square_sized_input(
    input_tensor: Any,
    input_shape: Any,
    known_shape: Any,
    sizes: tuple[int, ...],
    include_top: bool,
    weights: Any,
    model_name: str,
) -> tuple[Any, Any]:
    """:func:`make_input` (at least 32x32) for a family with ImageNet weights for
    square inputs of ``sizes`` pixels: the default size is ``known_shape``'s when it
    is square and one of ``sizes``, else 224."""
    default_size = 224
    if known_shape is not None and known_shape[0] == known_shape[1] and known_shape[0] in sizes:
        default_size = known_shape[0]
    return make_input(input_tensor, input_shape, default_size, 32, include_top, weights, model_name)


def weights_size(img_input: Any, sizes: tuple[int, ...], model_name: str) -> int:
    """The input size whose ImageNet weights load: the input's when it is square and
    one of ``sizes``, else 224 (with a warning)."""
    rows, cols = img_input.shape[1], img_input.shape[2]
    if rows != cols or rows not in sizes:
        warnings.warn(
            f"{model_name}: input_shape is undefined or non-square, or rows is not in "
            f"{sizes}; loading the weights for input shape (224, 224).",
            stacklevel=3,
        )
        rows = 224
    return rows


def pooled_head(x: Any, pooling: str | None) -> Any:
    """The ``include_top=False`` optional global pooling."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D()(x)
    return x


def classifier_head(
    x: Any, args: ApplicationArgs, dropout: float = 0.0, named_pooling: bool = True
) -> Any:
    """Keras's top of an ImageNet model: ``avg_pool`` (+ ``top_dropout``) +
    ``Dense(classes)`` named ``predictions``; without the top, the optional
    ``avg_pool`` / ``max_pool`` global pooling (auto-named, as in Keras's
    Xception and InceptionV3, when not ``named_pooling``)."""
    if args.include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        activation = args.classifier_activation
        return layers.Dense(args.classes, activation=activation, name="predictions")(x)
    if not named_pooling:
        return pooled_head(x, args.pooling)
    if args.pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if args.pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def start_model(
    args: ApplicationArgs, title: str, default_size: int, min_size: int = 32
) -> tuple[Any, Any]:
    """Checks ``args`` and makes the input: ``(img_input, source_inputs_or_None)``
    (see :func:`make_input`; at least ``min_size`` x ``min_size``)."""
    check_arguments(args.weights, args.include_top, args.classes, args.classifier_activation, title)
    return make_input(
        args.input_tensor, args.input_shape, default_size, min_size, args.include_top,
        args.weights, title,
    )  # fmt: skip


def build_model(img_input: Any, input_tensor: Any, outputs: Any, name: str) -> Any:
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(inputs, outputs, name=name)


def load_application_weights(model: Any, path: str) -> None:
    """Loads a Keras 3 ``.weights.h5``/``.keras`` file or a legacy (Keras 2) ``.h5`` file.

    Keras's ImageNet files are legacy ``.h5``: one group per layer, listed in
    the ``layer_names`` attribute, each holding its arrays in the order given
    by ``weight_names``; they are matched to the model's layers in order.
    """
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
    try:
        return get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
    except Exception as e:
        raise OSError(
            f"{model_name}: could not download the ImageNet weights from {origin} "
            f"({type(e).__name__}: {e}). Download that file into $KERAS_HOME/models/{fname} "
            "or pass weights=<path to the file>."
        ) from e


def load_requested_weights(
    model: Any, weights: Any, model_name: str, fname: str, origin: str, file_hash: str | None
) -> None:
    """``weights="imagenet"``: fetches ``fname`` from ``origin`` and loads it; a
    path: loads that file; ``None``: keeps the random initialization."""
    if weights == "imagenet":
        load_application_weights(model, fetch_weights(model_name, fname, origin, file_hash))
    elif weights is not None:
        load_application_weights(model, weights)


def keras_builder(build: Any, title: str, default_name: str, doc: str, module: str) -> Any:
    """A public builder of ``module`` with Keras's application signature
    (``include_top``, ``weights``, ``input_tensor``, ``input_shape``, ``pooling``,
    ``classes``, ``classifier_activation``, ``name``) named ``title``, calling
    ``build`` with them as one :class:`ApplicationArgs`."""

    def builder(
        include_top: bool = True,
        weights: str | None = "imagenet",
        input_tensor: Any = None,
        input_shape: tuple | None = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: Any = "softmax",
        name: str = default_name,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise TypeError(f"{title}() got unexpected keyword argument(s) {sorted(kwargs)}.")
        return build(
            ApplicationArgs(include_top, weights, input_tensor, input_shape, pooling, classes,
                            classifier_activation, name)
        )  # fmt: skip

    builder.__name__ = builder.__qualname__ = title
    builder.__doc__ = doc
    builder.__module__ = module
    return builder


def build_classifier(
    args: ApplicationArgs,
    name: str,
    default_size: int,
    min_size: int,
    features: Any,
    weights_paths: tuple[str, str],
    hashes: tuple[str, str],
) -> Any:
    """The body of a one-trunk classifier (Xception, InceptionV3): the input,
    ``features(img_input)``, the head, the model, then the requested weights
    (``weights_paths`` and ``hashes``: with the top, without it)."""
    img_input, source = start_model(args, name, default_size, min_size=min_size)
    x = classifier_head(features(img_input), args, named_pooling=False)
    model = build_model(img_input, source, x, args.name)
    which = 0 if args.include_top else 1
    origin = weights_paths[which]
    fname = origin.rsplit("/", 1)[-1]
    load_requested_weights(model, args.weights, name, fname, origin, hashes[which])
    return model
