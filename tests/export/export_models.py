"""The three models every export test exports: a subclassed model with two call
arguments (the seed's MultiInputModel), a Sequential CNN (Conv2D,
BatchNormalization with non-trivial moving statistics, Dropout, pooling) and a
Functional model taking a dict of inputs."""

import numpy as np
from example3_multi_input import MultiInputModel

import callax

BATCHES = (3, 7)  # two batch sizes: the artifacts' batch axis is dynamic


def subclassed():
    model = MultiInputModel()
    rng = np.random.default_rng(0)
    model(rng.normal(size=(4, 16)).astype("float32"), rng.normal(size=(4, 16)).astype("float32"))
    return model


def subclassed_inputs(n, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 16)).astype("float32") for _ in range(2)]


def cnn():
    model = callax.Sequential(
        [
            callax.Input((8, 8, 3)),
            callax.layers.Conv2D(4, 3, padding="same"),
            callax.layers.BatchNormalization(),
            callax.layers.Activation("relu"),
            callax.layers.MaxPooling2D(),
            callax.layers.Dropout(0.5),
            callax.layers.AveragePooling2D(),
            callax.layers.Flatten(),
            callax.layers.Dense(5),
        ]
    )
    bn = model.layers[1]
    rng = np.random.default_rng(2)
    # Statistics far from (0, 1), so inference-mode BatchNorm is visible in the outputs.
    bn.moving_mean.assign(rng.normal(size=(4,)).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 3.0, size=(4,)).astype("float32"))
    bn.gamma.assign(rng.uniform(0.5, 2.0, size=(4,)).astype("float32"))
    return model


def cnn_inputs(n, seed=3):
    return np.random.default_rng(seed).normal(size=(n, 8, 8, 3)).astype("float32")


def functional_dict():
    a = callax.Input((3,), name="a")
    b = callax.Input((5,), name="b")
    x = callax.layers.Concatenate()([a, callax.layers.Dense(4, activation="tanh")(b)])
    return callax.Model({"a": a, "b": b}, callax.layers.Dense(2)(x))


def functional_inputs(n, seed=4):
    rng = np.random.default_rng(seed)
    return {
        "a": rng.normal(size=(n, 3)).astype("float32"),
        "b": rng.normal(size=(n, 5)).astype("float32"),
    }


CASES = {
    "subclassed": (subclassed, subclassed_inputs),
    "cnn": (cnn, cnn_inputs),
    "functional_dict": (functional_dict, functional_inputs),
}


def as_call_args(name, inputs):
    """The inputs as the exported function's positional arguments."""
    return tuple(inputs) if name == "subclassed" else (inputs,)
