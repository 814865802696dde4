"""Layers, under Keras 3's ``keras.layers`` names."""

from callax.core.layer import Layer
from callax.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from callax.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from callax.layers.attention import Attention, MultiHeadAttention
from callax.layers.augmentation import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from callax.layers.conv import (
    Conv1D,
    Conv2D,
    Conv3D,
    Convolution1D,
    Convolution2D,
    Convolution3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)  # fmt: skip
from callax.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from callax.layers.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)  # fmt: skip
from callax.layers.core import Activation, Dense, Identity
from callax.layers.core_extra import Lambda, Masking
from callax.layers.einsum_dense import EinsumDense
from callax.layers.embedding import Embedding
from callax.layers.group_query_attention import GroupedQueryAttention, GroupQueryAttention
from callax.layers.hashed_crossing import HashedCrossing
from callax.layers.image_preprocessing import (
    AutoContrast,
    CenterCrop,
    RandomBrightness,
    RandomColorJitter,
    RandomContrast,
    RandomCrop,
    RandomErasing,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomSaturation,
    Resizing,
    Solarization,
)  # fmt: skip
from callax.layers.image_preprocessing_extra import (
    Equalization,
    MixUp,
    Pipeline,
    RandomColorDegeneration,
    RandomGaussianBlur,
    RandomPosterization,
    RandomSharpness,
)  # fmt: skip
from callax.layers.index_lookup import IntegerLookup, StringLookup
from callax.layers.input_layer import Input, InputLayer
from callax.layers.jax_layer import FlaxLayer, JaxLayer
from callax.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    concatenate,
    multiply,
)  # fmt: skip
from callax.layers.merging_extra import Dot, average, dot, maximum, minimum, subtract
from callax.layers.misc import (
    ActivityRegularization,
    AdditiveAttention,
    InputSpec,
    RMSNormalization,
    SpectralNormalization,
    Wrapper,
)  # fmt: skip
from callax.layers.noise import (
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)  # fmt: skip
from callax.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)  # fmt: skip
from callax.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
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
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)  # fmt: skip
from callax.layers.preprocessing_basic import Normalization, Rescaling
from callax.layers.preprocessing_categorical import CategoryEncoding, Discretization, Hashing
from callax.layers.preprocessing_text import TextVectorization
from callax.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from callax.layers.regularization import Dropout
from callax.layers.reshaping import Flatten, Reshape
from callax.layers.reshaping_extra import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)  # fmt: skip
from callax.layers.reversible_embedding import ReversibleEmbedding
from callax.layers.stacked_cells import StackedRNNCells
from callax.layers.wrappers import Bidirectional, TimeDistributed

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
from callax.layers.serialization import deserialize, serialize  # noqa: E402

__all__ += ["deserialize", "serialize"]
__all__ += ["ReversibleEmbedding"]
__all__ += ["GroupQueryAttention", "GroupedQueryAttention"]
__all__ += ["JaxLayer", "FlaxLayer"]
__all__ += ["HashedCrossing"]
