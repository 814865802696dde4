"""The layer catalog: every built-in layer, with arguments and an input.

Generic tests iterate over it: ``tests/generic/test_every_layer.py`` (eager, kernel,
jit and stateless calls agree; abstract calls; gradients; configs) and the saving
tests (config round trips, weights layout against Keras 3). A new layer gets an
entry here; ``tests/layers/test_layer_catalog.py`` fails for a public layer class
that has none (its short exclusion list says why the few left out are).

Import it by name (``from layer_catalog import CASES``): ``tests/conftest.py`` puts
every test folder on ``sys.path``.

Each case: ``(class_name, kwargs, input_shape, input_dtype)``; an input shape
that is a list of shapes means a layer called on a list of tensors. A kwarg value
``Sub(class_name, kwargs)`` is a layer built from the same module (``callax.layers``
or ``keras.layers``), for wrappers and RNNs; build cases with :func:`build`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from callax import ops


class Sub(NamedTuple):
    """A layer argument of a case, built from the same module as the case's layer."""

    class_name: str
    kwargs: dict


CASES = [
    ("Dense", {"units": 4, "activation": "relu"}, (2, 5), "float32"),
    ("Dense", {"units": 3, "use_bias": False, "kernel_regularizer": "l2",
               "kernel_constraint": "max_norm"}, (2, 5), "float32"),
    ("Dense", {"units": 3, "lora_rank": 2, "lora_alpha": 4.0}, (2, 5), "float32"),
    ("Activation", {"activation": "tanh"}, (2, 5), "float32"),
    ("Identity", {}, (2, 5), "float32"),
    ("Dropout", {"rate": 0.3, "seed": 1}, (2, 5), "float32"),
    ("Flatten", {}, (2, 3, 4), "float32"),
    ("Reshape", {"target_shape": (6, 2)}, (2, 12), "float32"),
    ("Permute", {"dims": (2, 1)}, (2, 3, 4), "float32"),
    ("RepeatVector", {"n": 3}, (2, 4), "float32"),
    ("Add", {}, [(2, 4), (2, 4)], "float32"),
    ("Subtract", {}, [(2, 4), (2, 4)], "float32"),
    ("Multiply", {}, [(2, 4), (2, 4)], "float32"),
    ("Average", {}, [(2, 4), (2, 4)], "float32"),
    ("Maximum", {}, [(2, 4), (2, 4)], "float32"),
    ("Minimum", {}, [(2, 4), (2, 4)], "float32"),
    ("Concatenate", {"axis": -1}, [(2, 4), (2, 3)], "float32"),
    ("Embedding", {"input_dim": 10, "output_dim": 4}, (2, 3), "int32"),
    ("BatchNormalization", {"momentum": 0.9}, (2, 5), "float32"),
    ("LayerNormalization", {}, (2, 5), "float32"),
    ("GroupNormalization", {"groups": 2}, (2, 3, 4), "float32"),
    ("UnitNormalization", {}, (2, 5), "float32"),
    ("Conv1D", {"filters": 3, "kernel_size": 2}, (2, 6, 4), "float32"),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "padding": "same"}, (2, 5, 5, 2), "float32"),
    ("Conv3D", {"filters": 2, "kernel_size": 2}, (1, 4, 4, 4, 2), "float32"),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 2}, (2, 5, 3), "float32"),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2}, (2, 3, 3, 2), "float32"),
    ("DepthwiseConv2D", {"kernel_size": 2}, (2, 4, 4, 3), "float32"),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 2}, (2, 4, 4, 3), "float32"),
    ("MaxPooling2D", {"pool_size": 2}, (2, 4, 4, 3), "float32"),
    ("AveragePooling1D", {"pool_size": 2}, (2, 6, 3), "float32"),
    ("GlobalAveragePooling2D", {}, (2, 4, 4, 3), "float32"),
    ("GlobalMaxPooling1D", {}, (2, 6, 3), "float32"),
    ("UpSampling2D", {"size": 2}, (2, 3, 3, 2), "float32"),
    ("ZeroPadding2D", {"padding": 1}, (2, 3, 3, 2), "float32"),
    ("Cropping1D", {"cropping": 1}, (2, 6, 3), "float32"),
    ("SimpleRNN", {"units": 3}, (2, 4, 5), "float32"),
    ("LSTM", {"units": 3, "return_sequences": True}, (2, 4, 5), "float32"),
    ("GRU", {"units": 3}, (2, 4, 5), "float32"),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [(2, 4, 6), (2, 4, 6)], "float32"),
    ("GroupQueryAttention", {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
     [(2, 4, 6), (2, 4, 6)], "float32"),
    ("Resizing", {"height": 3, "width": 5}, (2, 6, 8, 3), "float32"),
    ("Resizing", {"height": 4, "width": 4, "interpolation": "bicubic",
                  "crop_to_aspect_ratio": True}, (2, 6, 8, 3), "float32"),
    ("CenterCrop", {"height": 3, "width": 4}, (2, 6, 8, 3), "float32"),
    ("RandomCrop", {"height": 6, "width": 5, "seed": 1}, (2, 6, 8, 3), "float32"),
    ("RandomContrast", {"factor": (-0.5, 0.5), "value_range": (-3, 3), "seed": 1},
     (2, 6, 8, 3), "float32"),
    ("RandomBrightness", {"factor": (0.1, 0.1), "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("RandomGrayscale", {"factor": 1.0}, (2, 6, 8, 3), "float32"),
    ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("Solarization", {"value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("AutoContrast", {"value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("ConvLSTM1D", {"filters": 2, "kernel_size": 3, "return_sequences": True}, (2, 3, 6, 2), "float32"),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, (2, 3, 5, 5, 2), "float32"),
    ("ConvLSTM3D", {"filters": 2, "kernel_size": 2}, (1, 2, 3, 3, 3, 2), "float32"),
    ("ReLU", {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.1}, (2, 5), "float32"),
    ("LeakyReLU", {"negative_slope": 0.2}, (2, 5), "float32"),
    ("ELU", {"alpha": 0.5}, (2, 5), "float32"),
    ("PReLU", {"alpha_initializer": "glorot_uniform", "shared_axes": [1]}, (2, 3, 4), "float32"),
    ("Softmax", {"axis": -1}, (2, 5), "float32"),
    ("Dot", {"axes": 1}, [(2, 4), (2, 4)], "float32"),
    ("Dot", {"axes": (1, 2), "normalize": True}, [(2, 3, 5), (2, 4, 3)], "float32"),
    ("EinsumDense", {"equation": "abc,cde->abde", "output_shape": (4, 2, 3), "bias_axes": "de"},
     (2, 4, 5), "float32"),
    ("ActivityRegularization", {"l1": 0.01, "l2": 0.02}, (2, 5), "float32"),
    ("RMSNormalization", {"epsilon": 1e-5}, (2, 5), "float32"),
    ("AdditiveAttention", {}, [(2, 3, 4), (2, 5, 4)], "float32"),
    ("RandomErasing", {"factor": (1.0, 1.0), "scale": (1.0, 1.0), "fill_value": 0.5,
                       "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("RandomSaturation", {"factor": (0.3, 0.3)}, (2, 6, 8, 3), "float32"),
    ("RandomHue", {"factor": (1.0, 1.0), "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("RandomColorJitter", {"value_range": (-3, 3), "brightness_factor": (0.1, 0.1),
                           "contrast_factor": (-0.2, 0.2)}, (2, 6, 8, 3), "float32"),
    ("AdaptiveAveragePooling1D", {"output_size": 4}, (2, 7, 3), "float32"),
    ("AdaptiveAveragePooling2D", {"output_size": (3, 2)}, (2, 7, 5, 3), "float32"),
    ("AdaptiveAveragePooling3D", {"output_size": 2, "data_format": "channels_first"},
     (1, 2, 5, 4, 3), "float32"),
    ("AdaptiveMaxPooling1D", {"output_size": 3}, (2, 8, 3), "float32"),
    ("AdaptiveMaxPooling2D", {"output_size": (4, 3)}, (2, 7, 5, 3), "float32"),
    ("AdaptiveMaxPooling3D", {"output_size": (2, 3, 2)}, (1, 5, 4, 3, 2), "float32"),
    ("CategoryEncoding", {"num_tokens": 10, "output_mode": "count"}, (2, 4), "int32"),
    ("Discretization", {"bin_boundaries": [-0.5, 0.0, 0.5]}, (2, 5), "float32"),
    ("RandomColorDegeneration", {"factor": (0.6, 0.6), "value_range": (-3, 3)}, (2, 6, 8, 3),
     "float32"),
    ("RandomPosterization", {"factor": (3, 3), "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("RandomSharpness", {"factor": (0.8, 0.8), "value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.5, 0.5), "value_range": (-3, 3)},
     (2, 6, 8, 3), "float32"),
    ("Equalization", {"value_range": (-3, 3)}, (2, 6, 8, 3), "float32"),
    ("MixUp", {"alpha": 0.2, "seed": 1}, (1, 6, 8, 3), "float32"),  # one image: nothing to mix
    # Random layers with fixed draws (so eager, jit and Keras agree): a 1x1 image
    # flips onto itself; a quarter turn; whole-pixel shifts; one zoom factor.
    ("RandomFlip", {"seed": 1}, (2, 1, 1, 3), "float32"),
    ("RandomRotation", {"factor": (0.25, 0.25), "seed": 1}, (2, 6, 6, 3), "float32"),
    ("RandomTranslation", {"height_factor": (0.25, 0.25), "width_factor": (-0.5, -0.5),
                           "seed": 1}, (2, 4, 4, 3), "float32"),
    ("RandomZoom", {"height_factor": (-0.5, -0.5), "seed": 1}, (2, 4, 4, 3), "float32"),
    # Identity outside training (training is what the gradient check turns on).
    ("AlphaDropout", {"rate": 0.2, "seed": 1}, (2, 5), "float32"),
    ("GaussianDropout", {"rate": 0.2, "seed": 1}, (2, 5), "float32"),
    ("GaussianNoise", {"stddev": 0.1, "seed": 1}, (2, 5), "float32"),
    ("SpatialDropout1D", {"rate": 0.2, "seed": 1}, (2, 4, 3), "float32"),
    ("SpatialDropout2D", {"rate": 0.2, "seed": 1}, (2, 3, 3, 2), "float32"),
    ("SpatialDropout3D", {"rate": 0.2, "seed": 1}, (1, 2, 2, 2, 2), "float32"),
    ("Attention", {}, [(2, 3, 4), (2, 5, 4)], "float32"),
    ("Normalization", {"mean": 0.5, "variance": 2.0}, (2, 5), "float32"),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}, (2, 5), "float32"),
    ("Hashing", {"num_bins": 4}, (2, 5), "int32"),
    ("StringLookup", {"vocabulary": ["a", "b", "c"]}, (2, 5), "string"),
    ("TextVectorization", {"max_tokens": 6, "output_sequence_length": 3,
                           "vocabulary": ["a", "b", "c"]}, (2,), "string"),
    ("HashedCrossing", {"num_bins": 5}, [(2,), (2,)], "int32"),
    ("IntegerLookup", {"vocabulary": [1, 2, 3]}, (2, 5), "int32"),
    ("DepthwiseConv1D", {"kernel_size": 2}, (2, 6, 3), "float32"),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 2}, (2, 6, 3), "float32"),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2}, (1, 3, 3, 3, 2), "float32"),
    ("MaxPooling1D", {"pool_size": 2}, (2, 6, 3), "float32"),
    ("MaxPooling3D", {"pool_size": 2}, (1, 4, 4, 4, 2), "float32"),
    ("AveragePooling2D", {"pool_size": 2}, (2, 4, 4, 3), "float32"),
    ("AveragePooling3D", {"pool_size": 2}, (1, 4, 4, 4, 2), "float32"),
    ("GlobalAveragePooling1D", {}, (2, 6, 3), "float32"),
    ("GlobalAveragePooling3D", {}, (1, 3, 3, 3, 2), "float32"),
    ("GlobalMaxPooling2D", {}, (2, 4, 4, 3), "float32"),
    ("GlobalMaxPooling3D", {}, (1, 3, 3, 3, 2), "float32"),
    ("Cropping2D", {"cropping": 1}, (2, 5, 5, 2), "float32"),
    ("Cropping3D", {"cropping": 1}, (1, 4, 4, 4, 2), "float32"),
    ("UpSampling1D", {"size": 2}, (2, 3, 2), "float32"),
    ("UpSampling3D", {"size": 2}, (1, 2, 2, 2, 2), "float32"),
    ("ZeroPadding1D", {"padding": 1}, (2, 3, 2), "float32"),
    ("ZeroPadding3D", {"padding": 1}, (1, 2, 2, 2, 2), "float32"),
    ("Masking", {"mask_value": 0.0}, (2, 4, 3), "float32"),
    ("ReversibleEmbedding", {"input_dim": 10, "output_dim": 4}, (2, 3), "int32"),
    # A library function: configs name it, and it reloads in safe mode (a lambda would not).
    ("Lambda", {"function": ops.tanh}, (2, 5), "float32"),
    # Layers holding layers.
    ("Bidirectional", {"layer": Sub("LSTM", {"units": 3})}, (2, 4, 5), "float32"),
    ("TimeDistributed", {"layer": Sub("Dense", {"units": 3})}, (2, 4, 5), "float32"),
    ("SpectralNormalization", {"layer": Sub("Dense", {"units": 3})}, (2, 5), "float32"),
    ("RNN", {"cell": Sub("SimpleRNNCell", {"units": 3})}, (2, 4, 5), "float32"),
    ("RNN", {"cell": Sub("StackedRNNCells", {"cells": [Sub("LSTMCell", {"units": 3}),
                                                       Sub("GRUCell", {"units": 2})]})},
     (2, 4, 5), "float32"),
    ("Pipeline", {"layers": [Sub("Rescaling", {"scale": 2.0}),
                             Sub("CenterCrop", {"height": 3, "width": 4})]},
     (2, 6, 8, 3), "float32"),
]  # fmt: skip


TWO_INPUT_LAYERS = {"MultiHeadAttention", "GroupedQueryAttention"}  # called (query, value)
# Layers that hash or look up strings on the host with numpy: no jit or abstract call.
HOST_LAYERS = {"Hashing", "StringLookup", "TextVectorization", "HashedCrossing"}


def _class_names(value: Any) -> list[str]:
    """Class names of ``Sub`` layers in a kwarg value (nested in lists too)."""
    if isinstance(value, Sub):
        return [value.class_name] + [n for v in value.kwargs.values() for n in _class_names(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _class_names(v)]
    return []


def class_names(case) -> list[str]:
    """Every layer class a case builds: its own and its ``Sub`` layers'."""
    return [case[0]] + [n for v in case[1].values() for n in _class_names(v)]


def available(module) -> list[tuple]:
    """The cases whose layers (nested ones included) ``module`` (callax.layers or
    keras.layers) has."""
    return [c for c in CASES if all(hasattr(module, n) for n in class_names(c))]


def _resolve(module, value: Any) -> Any:
    if isinstance(value, Sub):
        return build(module, (value.class_name, value.kwargs))
    if isinstance(value, list):
        return [_resolve(module, v) for v in value]
    return value


def build(module, case):
    """The case's layer from ``module`` (``callax.layers`` or ``keras.layers``)."""
    name, kwargs = case[0], case[1]
    return getattr(module, name)(**{k: _resolve(module, v) for k, v in kwargs.items()})


def case_id(case) -> str:
    extra = "_".join(f"{k}" for k in case[1])[:30]
    return f"{case[0]}-{extra}" if extra else case[0]


def make_input(case, seed: int = 0):
    _, _, shape, dtype = case
    rng = np.random.default_rng(seed)
    if dtype == "string":  # words, some out of the vocabulary ("a", "b", "c")
        words = np.array(["a", "b", "d", "c a", "b b"])
        return words[rng.integers(0, len(words), size=shape)]
    if isinstance(shape, list):
        if dtype.startswith("int"):
            return [rng.integers(0, 10, size=s).astype(dtype) for s in shape]
        return [rng.normal(size=s).astype(dtype) for s in shape]
    if dtype.startswith("int"):
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def call(layer, x):
    """Calls a layer on a case input (two tensors as (query, value) for attention)."""
    if type(layer).__name__ in TWO_INPUT_LAYERS:
        return layer(x[0], x[1])
    return layer(x)
