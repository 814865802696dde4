"""Every metric against Keras 3 (the oracle): the same batches and sample
weights give the same running result; Keras configs load in callax."""

import numpy as np
import pytest

from callax import metrics

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(7)
B = 16


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _batch(kind):
    if kind == "sparse":
        return RNG.integers(0, 5, B), _softmax(RNG.normal(size=(B, 5)))
    if kind == "sparse_col":
        return RNG.integers(0, 5, (B, 1)), _softmax(RNG.normal(size=(B, 5)))
    if kind == "onehot":
        return np.eye(5, dtype="float32")[RNG.integers(0, 5, B)], _softmax(RNG.normal(size=(B, 5)))
    if kind == "binary":
        return (RNG.integers(0, 2, (B, 1)).astype("float32"),
                RNG.uniform(0, 1, (B, 1)).astype("float32"))  # fmt: skip
    if kind == "binary_flat":
        return RNG.integers(0, 2, B).astype("float32"), RNG.uniform(0, 1, B).astype("float32")
    if kind == "multilabel":
        return (RNG.integers(0, 2, (B, 4)).astype("float32"),
                RNG.uniform(0, 1, (B, 4)).astype("float32"))  # fmt: skip
    if kind == "exact":
        return RNG.integers(0, 3, (B, 1)), RNG.integers(0, 3, (B, 1))
    if kind == "regression":
        return RNG.normal(size=(B, 3)).astype("float32"), RNG.normal(size=(B, 3)).astype("float32")
    if kind == "positive":
        return (RNG.uniform(0.1, 2, (B, 3)).astype("float32"),
                RNG.uniform(0.1, 2, (B, 3)).astype("float32"))  # fmt: skip
    if kind == "logits":
        return RNG.integers(0, 5, B), (2 * RNG.normal(size=(B, 5))).astype("float32")
    raise AssertionError(kind)


CASES = [
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {"threshold": 0.4}, "binary"),
    ("BinaryAccuracy", {}, "binary_flat"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("AUC", {}, "binary"),
    ("AUC", {"num_thresholds": 37, "summation_method": "minoring"}, "binary_flat"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "multilabel"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.8], "curve": "ROC"}, "binary"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.7]}, "multilabel"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Precision", {"class_id": 2}, "multilabel"),
    ("Recall", {}, "binary_flat"),
    ("Recall", {"top_k": 1, "class_id": 1}, "multilabel"),
    ("TruePositives", {"thresholds": [0.3, 0.6]}, "binary"),
    ("FalseNegatives", {}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("LogCoshError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"class_aggregation": None, "num_regressors": 2}, "regression"),
    ("F1Score", {}, "multilabel"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "multilabel"),
    ("F1Score", {"average": "macro", "threshold": 0.3}, "multilabel"),
    ("F1Score", {"average": "weighted"}, "onehot"),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, "multilabel"),
    ("BinaryCrossentropy", {}, "binary"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "logits"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "binary"),
    ("CategoricalHinge", {}, "onehot"),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}-{len(c[1])}")
def test_metric_matches_keras(case, weighted):
    name, kwargs, kind = case
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    for _ in range(3):
        y_true, y_pred = _batch(kind)
        sw = RNG.uniform(0, 2, B).astype("float32") if weighted else None
        ours.update_state(y_true, y_pred, sample_weight=sw)
        theirs.update_state(y_true, y_pred, sample_weight=sw)
    want = np.asarray(theirs.result())
    got = np.asarray(ours.result())
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=5e-5, atol=1e-6)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]


def test_mean_and_sum_match_keras_with_weights_of_each_rank():
    values = RNG.normal(size=(B, 3, 2)).astype("float32")
    for sw in (None, RNG.uniform(0, 1, B), RNG.uniform(0, 1, (B, 3)), RNG.uniform(0, 1, (B, 1))):
        for name in ("Mean", "Sum"):
            ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
            ours.update_state(values, sample_weight=sw)
            theirs.update_state(values, sample_weight=sw)
            np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-5)


def test_metric_functions_match_keras():
    y, p = _batch("sparse")
    onehot = np.eye(5, dtype="float32")[y]
    for name, args, kwargs in [
        ("sparse_categorical_accuracy", (y, p), {}),
        ("categorical_accuracy", (onehot, p), {}),
        ("top_k_categorical_accuracy", (onehot, p), {"k": 2}),
        ("sparse_top_k_categorical_accuracy", (y, p), {"k": 2}),
        ("binary_accuracy", (onehot, p), {"threshold": 0.2}),
    ]:
        want = np.asarray(getattr(keras.metrics, name)(*args, **kwargs))
        np.testing.assert_allclose(getattr(metrics, name)(*args, **kwargs), want, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}-{len(c[1])}")
def test_keras_config_loads_in_callax(case):
    name, kwargs, _ = case
    theirs = getattr(keras.metrics, name)(**kwargs)
    ours = metrics.deserialize(keras.metrics.serialize(theirs))
    assert type(ours).__name__ == name
    config = ours.get_config()
    for key, value in theirs.get_config().items():
        assert config[key] == value, key
