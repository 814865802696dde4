"""Layer and model construction arguments: bad values are refused at once, with
the layer named, what was expected and what was received."""

from __future__ import annotations

from fault_case import OK, C

import callax

L = callax.layers
V = ValueError
T = TypeError

# fmt: off
CASES = [
    # Dense
    C("dense-negative-units", lambda: L.Dense(-1, name="d"), V, "Dense 'd'", "units", "positive", "-1"),
    C("dense-zero-units", lambda: L.Dense(0, name="d"), V, "Dense 'd'", "units", "received 0"),
    C("dense-float-units", lambda: L.Dense(2.5), V, "units", "int", "2.5"),
    C("dense-str-units", lambda: L.Dense("3"), V, "units", "'3'"),
    C("dense-none-units", lambda: L.Dense(None), V, "units", "None"),
    C("dense-unknown-activation", lambda: L.Dense(3, activation="relux"), V, "activation", "relux", "relu"),
    C("dense-int-activation", lambda: L.Dense(3, activation=5), V, "activation", "callable", "5"),
    C("dense-unknown-initializer", lambda: L.Dense(3, kernel_initializer="nope"), V, "initializer", "nope", "glorot_uniform"),
    C("dense-unknown-regularizer", lambda: L.Dense(3, kernel_regularizer="nope"), V, "regularizer", "nope", "l2"),
    C("dense-unknown-constraint", lambda: L.Dense(3, kernel_constraint="nope"), V, "constraint", "nope", "max_norm"),
    C("dense-unknown-kwarg", lambda: L.Dense(3, bogus_kw=1), T, "Dense", "bogus_kw"),
    C("dense-bad-dtype-policy", lambda: L.Dense(3, dtype="int77"), V, "int77", "float32"),
    # Convolutions
    C("conv2d-bad-padding", lambda: L.Conv2D(4, 3, padding="sideways", name="c"), V, "Conv2D 'c'", "padding", "same", "sideways"),
    C("conv2d-kernel-rank-3", lambda: L.Conv2D(4, (3, 3, 3)), V, "kernel_size", "2 ints", "(3, 3, 3)"),
    C("conv2d-zero-kernel", lambda: L.Conv2D(4, 0), V, "kernel_size", "positive", "0"),
    C("conv2d-negative-kernel", lambda: L.Conv2D(4, -3), V, "kernel_size", "positive", "-3"),
    C("conv2d-str-kernel", lambda: L.Conv2D(4, "3"), V, "kernel_size", "'3'"),
    C("conv2d-zero-filters", lambda: L.Conv2D(0, 3), V, "filters", "positive", "0"),
    C("conv2d-zero-strides", lambda: L.Conv2D(4, 3, strides=0), V, "strides", "positive"),
    C("conv2d-strides-rank-3", lambda: L.Conv2D(4, 3, strides=(1, 2, 3)), V, "strides", "(1, 2, 3)"),
    C("conv2d-bad-data-format", lambda: L.Conv2D(4, 3, data_format="NCHW"), V, "data_format", "channels_last", "nchw"),
    C("conv2d-zero-dilation", lambda: L.Conv2D(4, 3, dilation_rate=0), V, "dilation_rate", "positive"),
    C("conv2d-zero-groups", lambda: L.Conv2D(4, 3, groups=0), V, "groups", "positive", "0"),
    C("conv1d-kernel-rank-2", lambda: L.Conv1D(4, (3, 3)), V, "Conv1D", "kernel_size", "(3, 3)"),
    C("conv2d-transpose-causal", lambda: L.Conv2DTranspose(4, 3, padding="causal"), V, "padding", "causal"),
    C("depthwise-zero-multiplier", lambda: L.DepthwiseConv2D(3, depth_multiplier=0), V, "depth_multiplier", "positive", "0"),
    C("separable-negative-multiplier", lambda: L.SeparableConv2D(4, 3, depth_multiplier=-1), V, "depth_multiplier", "-1"),
    OK("conv1d-causal-padding-accepted", lambda: L.Conv1D(4, 3, padding="causal")),
    # Pooling, reshaping
    C("maxpool-zero-pool-size", lambda: L.MaxPooling2D(pool_size=0), V, "MaxPooling2D", "pool_size", "positive"),
    C("maxpool-bad-padding", lambda: L.MaxPooling2D(padding="full"), V, "padding", "valid", "full"),
    C("avgpool1d-pool-rank-2", lambda: L.AveragePooling1D(pool_size=(2, 2)), V, "pool_size", "(2, 2)"),
    C("global-pool-bad-data-format", lambda: L.GlobalAveragePooling2D(data_format="xx"), V, "data_format", "channels_last", "xx"),
    C("reshape-two-unknowns", lambda: L.Reshape((-1, -1)), V, "Reshape", "-1", "(-1, -1)"),
    C("permute-repeated-dims", lambda: L.Permute((1, 1)), V, "Permute", "dims", "(1, 1)"),
    C("permute-batch-axis", lambda: L.Permute((0, 1)), V, "dims", "batch", "(0, 1)"),
    C("cropping-negative", lambda: L.Cropping2D(cropping=-1), V, "Cropping2D", "cropping", "non-negative", "-1"),
    C("zero-padding-negative", lambda: L.ZeroPadding2D(padding=-1), V, "ZeroPadding2D", "padding", "-1"),
    C("upsampling-zero-size", lambda: L.UpSampling2D(size=0), V, "UpSampling2D", "size", "positive"),
    C("repeat-vector-zero", lambda: L.RepeatVector(0), V, "RepeatVector", "n", "positive", "0"),
    # Regularization, normalization, activations
    C("dropout-rate-above-one", lambda: L.Dropout(1.5), V, "Dropout", "rate", "[0, 1]", "1.5"),
    C("dropout-negative-rate", lambda: L.Dropout(-0.1), V, "rate", "-0.1"),
    C("dropout-str-rate", lambda: L.Dropout("half"), (T, V), "Dropout", "rate", "half"),
    C("gaussian-noise-negative", lambda: L.GaussianNoise(-1), V, "GaussianNoise", "stddev", "-1"),
    C("leaky-relu-negative-slope", lambda: L.LeakyReLU(negative_slope=-1), V, "LeakyReLU", "negative_slope", "-1"),
    C("relu-negative-max-value", lambda: L.ReLU(max_value=-1), V, "ReLU", "max_value", "-1"),
    C("activation-layer-unknown", lambda: L.Activation("nope"), V, "activation", "nope"),
    # Embeddings, recurrent, attention
    C("embedding-zero-input-dim", lambda: L.Embedding(0, 4), V, "Embedding", "input_dim", "positive", "0"),
    C("embedding-negative-output-dim", lambda: L.Embedding(10, -4), V, "output_dim", "-4"),
    C("lstm-negative-units", lambda: L.LSTM(-2), V, "LSTM", "units", "positive", "-2"),
    C("gru-zero-units", lambda: L.GRU(0), V, "GRU", "units", "0"),
    C("simple-rnn-unknown-activation", lambda: L.SimpleRNN(4, activation="nope"), V, "activation", "nope"),
    C("bidirectional-non-rnn", lambda: L.Bidirectional(L.Dense(3)), (V, T), "Bidirectional", "RNN", "Dense"),
    C("time-distributed-str", lambda: L.TimeDistributed("dense"), (V, T), "TimeDistributed", "Layer", "'dense'"),
    C("mha-zero-heads", lambda: L.MultiHeadAttention(num_heads=0, key_dim=4), V, "MultiHeadAttention", "num_heads", "0"),
    C("mha-negative-key-dim", lambda: L.MultiHeadAttention(num_heads=2, key_dim=-4), V, "key_dim", "-4"),
    C("attention-bad-score-mode", lambda: L.Attention(score_mode="x"), V, "Attention", "score_mode", "dot", "'x'"),
    C("einsum-dense-bad-equation", lambda: L.EinsumDense("ab,bc", output_shape=3), V, "EinsumDense", "equation", "ab,bc"),
    C("lambda-not-callable", lambda: L.Lambda(5), T, "Lambda", "callable", "5"),
    # Preprocessing
    C("category-encoding-zero-tokens", lambda: L.CategoryEncoding(num_tokens=0), V, "CategoryEncoding", "num_tokens", "0"),
    C("discretization-unsorted", lambda: L.Discretization(bin_boundaries=[3, 1, 2]), V, "Discretization", "sorted", "3"),
    C("string-lookup-negative-oov", lambda: L.StringLookup(num_oov_indices=-1), V, "StringLookup", "num_oov_indices", "-1"),
    C("text-vectorization-bad-mode", lambda: L.TextVectorization(output_mode="xyz"), V, "TextVectorization", "output_mode", "xyz"),
    C("hashing-zero-bins", lambda: L.Hashing(num_bins=0), V, "Hashing", "num_bins", "0"),
    C("random-flip-bad-mode", lambda: L.RandomFlip(mode="diagonal"), V, "RandomFlip", "mode", "horizontal", "diagonal"),
    # Inputs and models
    C("input-negative-dim", lambda: callax.Input((-3,)), V, "shape", "non-negative", "-3"),
    C("input-str-shape", lambda: callax.Input(shape="abc"), V, "shape", "'a'"),
    C("input-unknown-dtype", lambda: callax.Input(shape=(4,), dtype="floaty"), (V, T), "dtype", "floaty"),
    C("sequential-str-layer", lambda: callax.Sequential([L.Dense(3), "relu"]), T, "Sequential", "layer", "'relu'"),
    C("sequential-int-layers", lambda: callax.Sequential(5, name="s"), T, "Sequential 's'", "layers", "list", "int"),
    C("functional-str-output", lambda: callax.Model(callax.Input((4,)), "abc"), T, "outputs", "KerasTensor", "str"),
    C("functional-int-input", lambda: callax.Model(5, callax.Input((4,))), T, "inputs", "KerasTensor", "int"),
    C("functional-disconnected-output", lambda: callax.Model(callax.Input((4,)), L.Dense(2)(callax.Input((4,), name="other"))), V, "not connected", "other"),
    C("optimizer-str-learning-rate", lambda: callax.optimizers.SGD(learning_rate="fast"), V, "SGD", "learning_rate", "fast"),
    C("optimizer-negative-momentum", lambda: callax.optimizers.SGD(momentum=-1), V, "momentum", "[0, 1]", "-1"),
    C("optimizer-three-clips", lambda: callax.optimizers.Adam(clipnorm=1, clipvalue=1, global_clipnorm=1), V, "Adam", "clipnorm", "clipvalue"),
    C("loss-bad-reduction", lambda: callax.losses.MeanSquaredError(reduction="avg"), V, "reduction", "sum_over_batch_size", "avg"),
    C("precision-threshold-above-one", lambda: callax.metrics.Precision(thresholds=1.5), V, "Precision", "thresholds", "1.5"),
    C("auc-one-threshold", lambda: callax.metrics.AUC(num_thresholds=1), V, "AUC", "num_thresholds", "1"),
    # Names (Keras refuses them too)
    C("layer-name-not-str", lambda: L.Dense(3, name=5), (V, T), "Dense", "name", "5", "int"),
    C("layer-name-with-slash", lambda: L.Dense(3, name="a/b"), V, "Dense", "name", "'/'", "a/b"),
    C("model-name-with-slash", lambda: callax.Sequential([], name="a/b"), V, "Sequential", "name", "a/b"),
]
# fmt: on
