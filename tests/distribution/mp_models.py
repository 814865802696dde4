"""Models and data shared by the multi-process tests' workers (mp_worker.py)
and the tests themselves (which reload what process 0 saved)."""

from __future__ import annotations

import numpy as np

GLOBAL_BATCH = 16


def data(n=64, shape=(8,), classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype("float32")
    y = rng.integers(0, classes, size=(n,)).astype("int32")
    return x, y


def mlp(keras):
    """A Sequential model like the issue's seed."""
    model = keras.Sequential([
        keras.layers.Input((8,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(4, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def cnn(keras):
    """A small CNN with BatchNormalization (global-batch statistics) and Dropout."""
    model = keras.Sequential([
        keras.layers.Input((6, 6, 2)),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    return model


def block(keras):
    """A transformer-ish block: MultiHeadAttention + residual + LayerNorm + MLP."""
    inputs = keras.layers.Input((4, 8))
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(inputs, inputs)
    x = keras.layers.LayerNormalization(name="ln")(keras.layers.Add()([inputs, attended]))
    h = keras.layers.Dense(16, activation="relu", name="mlp_in")(x)
    x = keras.layers.Add()([x, keras.layers.Dense(8, name="mlp_out")(h)])
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="head")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def block_layout(keras, devices):
    """A (batch=2, model=2) mesh whose ``model`` axis spans the processes (each
    process's two devices sit on the batch axis), kernels split over ``model``."""
    grid = np.array(devices, dtype=object).reshape(2, 2).T  # [[d0, d2], [d1, d3]]
    mesh = keras.distribution.DeviceMesh((2, 2), ["batch", "model"], grid.reshape(-1).tolist())
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*mha/(query|key|value)/kernel"] = (None, "model", None)
    layout_map[".*mha/attention_output/kernel"] = ("model", None, None)
    layout_map[".*mlp_in/kernel"] = (None, "model")
    layout_map[".*mlp_out/kernel"] = ("model", None)
    return keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
