"""Every loss against Keras 3 (the oracle) on the same random inputs, weights
and reductions."""

import numpy as np
import pytest

from callax import losses

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(1)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _inputs(kind, shape=(8, 5)):
    if kind == "regression":
        return RNG.normal(size=shape).astype("float32"), RNG.normal(size=shape).astype("float32")
    if kind == "positive":
        return (RNG.uniform(0, 3, shape).astype("float32"),
                RNG.uniform(0.05, 3, shape).astype("float32"))  # fmt: skip
    if kind == "binary_probs":
        return (RNG.integers(0, 2, shape).astype("float32"),
                RNG.uniform(0.001, 0.999, shape).astype("float32"))  # fmt: skip
    if kind == "binary_logits":
        return (RNG.integers(0, 2, shape).astype("float32"),
                (3 * RNG.normal(size=shape)).astype("float32"))  # fmt: skip
    if kind == "onehot_probs":
        return np.eye(shape[-1], dtype="float32")[RNG.integers(0, shape[-1], shape[0])], _softmax(
            RNG.normal(size=shape))  # fmt: skip
    if kind == "onehot_logits":
        return (np.eye(shape[-1], dtype="float32")[RNG.integers(0, shape[-1], shape[0])],
                (2 * RNG.normal(size=shape)).astype("float32"))  # fmt: skip
    if kind == "dist":
        return _softmax(RNG.normal(size=shape)), _softmax(RNG.normal(size=shape))
    if kind == "sparse_probs":
        return RNG.integers(0, shape[-1], shape[0]), _softmax(RNG.normal(size=shape))
    if kind == "sparse_logits":
        return RNG.integers(0, shape[-1], shape[0]), (2 * RNG.normal(size=shape)).astype("float32")
    if kind == "signed":
        return (RNG.choice([-1.0, 1.0], shape).astype("float32"),
                RNG.normal(size=shape).astype("float32"))  # fmt: skip
    raise AssertionError(kind)


CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Huber", {"delta": 0.6}, "regression"),
    ("LogCosh", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("BinaryCrossentropy", {}, "binary_probs"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("BinaryFocalCrossentropy", {"gamma": 1.5}, "binary_probs"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4,
                                 "from_logits": True, "label_smoothing": 0.2}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "onehot_probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.15}, "onehot_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse_probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, "sparse_logits"),
    ("KLDivergence", {}, "dist"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary_logits"),
    ("Hinge", {}, "signed"),
    ("SquaredHinge", {}, "binary_logits"),
    ("CategoricalHinge", {}, "onehot_logits"),
]  # fmt: skip


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_loss_matches_keras(case, reduction):
    name, kwargs, kind = case
    y_true, y_pred = _inputs(kind)
    ours = getattr(losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    for sw in (None, RNG.uniform(0, 2, 8).astype("float32")):
        want = np.asarray(theirs(y_true, y_pred, sample_weight=sw))
        got = np.asarray(ours(y_true, y_pred, sample_weight=sw))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_function_matches_keras(case):
    name, kwargs, kind = case
    fn_name = getattr(losses, name)().fn.__name__
    y_true, y_pred = _inputs(kind)
    want = np.asarray(getattr(keras.losses, fn_name)(y_true, y_pred, **kwargs))
    got = np.asarray(getattr(losses, fn_name)(y_true, y_pred, **kwargs))
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_sequence_losses_with_timestep_weights_match_keras():
    y_true = RNG.integers(0, 4, (3, 7))
    y_pred = RNG.normal(size=(3, 7, 4)).astype("float32")
    sw = RNG.uniform(0, 1, (3, 7)).astype("float32")
    for kwargs in ({"from_logits": True}, {"from_logits": True, "ignore_class": 0}):
        ours = losses.SparseCategoricalCrossentropy(**kwargs)(y_true, y_pred, sw)
        theirs = keras.losses.SparseCategoricalCrossentropy(**kwargs)(y_true, y_pred, sw)
        np.testing.assert_allclose(ours, theirs, rtol=2e-5)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_keras_config_loads_in_callax(case):
    name, kwargs, _ = case
    config = getattr(keras.losses, name)(**kwargs).get_config()
    ours = getattr(losses, name).from_config(config)
    for key, value in config.items():
        assert ours.get_config()[key] == value
    serialized = keras.losses.serialize(getattr(keras.losses, name)(**kwargs))
    assert type(losses.deserialize(serialized)).__name__ == name


def test_resolve_crossentropy_like_keras_compile():
    assert losses.resolve_crossentropy("crossentropy", (8, 1), (8, 1)) is losses.binary_crossentropy
    assert losses.resolve_crossentropy("ce", (8,), (8, 5)) is losses.sparse_categorical_crossentropy
    assert losses.resolve_crossentropy("ce", (8, 1), (8, 5)) is (
        losses.sparse_categorical_crossentropy)  # fmt: skip
    assert losses.resolve_crossentropy("CE", (8, 5), (8, 5)) is losses.categorical_crossentropy
    assert losses.resolve_crossentropy("mse", (8, 5), (8, 5)) is losses.mean_squared_error
