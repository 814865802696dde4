"""Layers, under Keras 3's ``keras.layers`` names.

The classes live in one folder per family, as in Keras and PyTorch: ``core/``
(Dense, EinsumDense, Embedding, Lambda, Masking, InputLayer, the ``Wrapper`` base,
LoRA, JaxLayer), ``activations/``, ``convolutional/``, ``pooling/``,
``normalization/``, ``regularization/`` (dropouts, noise, activity penalties),
``attention/``, ``merging/``, ``reshaping/``, ``rnn/`` (cells, RNN layers,
Bidirectional, TimeDistributed, ConvLSTM) and ``preprocessing/`` (numerical,
categorical, text and ``image/``). Each family's shared base sits in its folder
(``base_conv.py``, ``base_pooling.py``, ``rnn/base_cell.py``...); what convolution,
pooling and spatial shape layers share is ``spatial_layer.py``; how every layer with
weights takes, creates and lists their initializer/regularizer/constraint arguments
is ``weight_args.py`` (``weight_arguments`` declares them once per constructor, and
``signature_binding.py`` binds calls to the signature it gives).
"""

from callax.core.input_spec import InputSpec
from callax.core.layer import Layer
from callax.layers.activations.activation import Activation
from callax.layers.activations.rectifiers import ELU, LeakyReLU, PReLU, ReLU
from callax.layers.activations.softmax import Softmax
from callax.layers.attention.additive_attention import AdditiveAttention
from callax.layers.attention.attention import Attention
from callax.layers.attention.grouped_query_attention import (
    GroupedQueryAttention,
    GroupQueryAttention,
)
from callax.layers.attention.multi_head_attention import MultiHeadAttention
from callax.layers.convolutional.conv import (
    Conv1D,
    Conv2D,
    Conv3D,
    Convolution1D,
    Convolution2D,
    Convolution3D,
)
from callax.layers.convolutional.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)
from callax.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from callax.layers.convolutional.separable_conv import (
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from callax.layers.core.dense import Dense
from callax.layers.core.einsum_dense import EinsumDense
from callax.layers.core.embedding import Embedding
from callax.layers.core.identity import Identity
from callax.layers.core.input_layer import Input, InputLayer
from callax.layers.core.jax_layer import FlaxLayer, JaxLayer
from callax.layers.core.lambda_layer import Lambda
from callax.layers.core.masking import Masking
from callax.layers.core.reversible_embedding import ReversibleEmbedding
from callax.layers.core.wrapper import Wrapper
from callax.layers.merging.concatenate import Concatenate, concatenate
from callax.layers.merging.dot import Dot, dot
from callax.layers.merging.elementwise import (
    Add,
    Average,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    maximum,
    minimum,
    multiply,
    subtract,
)
from callax.layers.normalization.batch_normalization import BatchNormalization
from callax.layers.normalization.group_normalization import GroupNormalization
from callax.layers.normalization.layer_normalization import LayerNormalization
from callax.layers.normalization.rms_normalization import RMSNormalization
from callax.layers.normalization.spectral_normalization import SpectralNormalization
from callax.layers.normalization.unit_normalization import UnitNormalization
from callax.layers.pooling.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from callax.layers.pooling.average_pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
)
from callax.layers.pooling.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
from callax.layers.pooling.max_pooling import (
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from callax.layers.preprocessing.category_encoding import CategoryEncoding
from callax.layers.preprocessing.discretization import Discretization
from callax.layers.preprocessing.hashed_crossing import HashedCrossing
from callax.layers.preprocessing.hashing import Hashing
from callax.layers.preprocessing.image.color import (
    AutoContrast,
    Equalization,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    Solarization,
)
from callax.layers.preprocessing.image.filters import RandomGaussianBlur, RandomSharpness
from callax.layers.preprocessing.image.geometric import (
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from callax.layers.preprocessing.image.mix_up import MixUp
from callax.layers.preprocessing.image.random_erasing import RandomErasing
from callax.layers.preprocessing.image.resize_and_crop import CenterCrop, RandomCrop, Resizing
from callax.layers.preprocessing.index_lookup import IntegerLookup, StringLookup
from callax.layers.preprocessing.normalization import Normalization
from callax.layers.preprocessing.pipeline import Pipeline
from callax.layers.preprocessing.rescaling import Rescaling
from callax.layers.preprocessing.text_vectorization import TextVectorization
from callax.layers.regularization.activity_regularization import ActivityRegularization
from callax.layers.regularization.dropout import AlphaDropout, Dropout, GaussianDropout
from callax.layers.regularization.gaussian_noise import GaussianNoise
from callax.layers.regularization.spatial_dropout import (
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from callax.layers.reshaping.cropping import Cropping1D, Cropping2D, Cropping3D
from callax.layers.reshaping.flatten import Flatten
from callax.layers.reshaping.permute import Permute
from callax.layers.reshaping.repeat_vector import RepeatVector
from callax.layers.reshaping.reshape import Reshape
from callax.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from callax.layers.reshaping.zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D
from callax.layers.rnn.bidirectional import Bidirectional
from callax.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from callax.layers.rnn.gru import GRU, GRUCell
from callax.layers.rnn.lstm import LSTM, LSTMCell
from callax.layers.rnn.rnn import RNN
from callax.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from callax.layers.rnn.stacked_rnn_cells import StackedRNNCells
from callax.layers.rnn.time_distributed import TimeDistributed

__all__ = [
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    "Layer", "Activation", "Dense", "Identity", "Add", "Average", "Concatenate", "Maximum",
    "Minimum", "Multiply", "Subtract", "add", "concatenate", "multiply", "Dropout", "Flatten",
    "Reshape", "Input", "InputLayer",
]  # fmt: skip
__all__ += [
    "Embedding", "BatchNormalization", "GroupNormalization", "LayerNormalization",
    "UnitNormalization", "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "SimpleRNN",
    "SimpleRNNCell", "Bidirectional", "TimeDistributed", "Attention", "MultiHeadAttention",
    "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "Normalization", "Rescaling",
]  # fmt: skip
__all__ += [
    "StackedRNNCells",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "CategoryEncoding",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
]
__all__ += [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]  # fmt: skip
__all__ += [  # image preprocessing
    "AutoContrast", "CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop",
    "RandomGrayscale", "RandomInvert", "Resizing", "Solarization", "RandomErasing",
    "RandomSaturation", "RandomHue", "RandomColorJitter", "Equalization",
    "RandomColorDegeneration", "RandomGaussianBlur", "RandomPosterization", "RandomSharpness",
    "Pipeline", "MixUp",
]  # fmt: skip
__all__ += [  # spatial and shape layers
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D", "Conv1DTranspose", "Conv2DTranspose",
    "Conv3DTranspose", "Convolution1DTranspose", "Convolution2DTranspose",
    "Convolution3DTranspose", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "Permute", "RepeatVector", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "Lambda", "Masking",
]  # fmt: skip
__all__ += [  # activation, merging and misc layers
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "EinsumDense", "Dot", "average", "dot",
    "maximum", "minimum", "subtract", "ActivityRegularization", "AdditiveAttention",
    "InputSpec", "RMSNormalization", "SpectralNormalization", "Wrapper",
]  # fmt: skip
from callax.layers.registry import deserialize, serialize  # noqa: E402

__all__ += ["deserialize", "serialize"]
__all__ += ["ReversibleEmbedding"]
__all__ += ["GroupQueryAttention", "GroupedQueryAttention"]
__all__ += ["JaxLayer", "FlaxLayer"]
__all__ += ["HashedCrossing"]
