"""The stateless API (what compiled train steps use) equals the stateful one,
runs under jax.jit, and works for user subclasses; configs round-trip;
names resolve as in Keras's compile."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import metrics

RNG = np.random.default_rng(3)


def _data(kind):
    b = 12
    if kind == "sparse":
        logits = RNG.normal(size=(b, 5)).astype("float32")
        return RNG.integers(0, 5, b), logits
    if kind == "onehot":
        return np.eye(5, dtype="float32")[RNG.integers(0, 5, b)], RNG.uniform(
            0, 1, (b, 5)).astype("float32")  # fmt: skip
    if kind == "binary":
        return RNG.integers(0, 2, (b, 1)).astype("float32"), RNG.uniform(0, 1, (b, 1)).astype(
            "float32")  # fmt: skip
    if kind == "multilabel":
        return RNG.integers(0, 2, (b, 3)).astype("float32"), RNG.uniform(0, 1, (b, 3)).astype(
            "float32")  # fmt: skip
    return RNG.normal(size=(b, 3)).astype("float32"), RNG.normal(size=(b, 3)).astype("float32")


FACTORIES = [
    (lambda: metrics.Mean(), "values"),
    (lambda: metrics.Sum(), "values"),
    (lambda: metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.3), "binary"),
    (lambda: metrics.Accuracy(), "exact"),
    (lambda: metrics.BinaryAccuracy(threshold=0.4), "binary"),
    (lambda: metrics.CategoricalAccuracy(), "onehot"),
    (lambda: metrics.SparseCategoricalAccuracy(), "sparse"),
    (lambda: metrics.TopKCategoricalAccuracy(k=2), "onehot"),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=3), "sparse"),
    (lambda: metrics.AUC(), "binary"),
    (lambda: metrics.AUC(curve="PR", num_thresholds=50), "binary"),
    (lambda: metrics.Precision(thresholds=[0.3, 0.6]), "binary"),
    (lambda: metrics.Recall(top_k=2), "multilabel"),
    (lambda: metrics.TruePositives(), "binary"),
    (lambda: metrics.MeanSquaredError(), "regression"),
    (lambda: metrics.RootMeanSquaredError(), "regression"),
    (lambda: metrics.MeanAbsoluteError(), "regression"),
    (lambda: metrics.R2Score(num_regressors=1), "regression"),
    (lambda: metrics.F1Score(average="macro"), "multilabel"),
    (lambda: metrics.F1Score(average="micro", threshold=0.5), "multilabel"),
    (lambda: metrics.SparseCategoricalCrossentropy(from_logits=True), "sparse"),
]


def _args(kind):
    if kind == "values":
        return (RNG.normal(size=(12, 3)).astype("float32"),)
    if kind == "exact":
        return RNG.integers(0, 3, 12), RNG.integers(0, 3, 12)
    return _data(kind)


def _shapes(args):
    return (np.shape(args[0]), np.shape(args[-1])) if len(args) == 2 else (None, None)


@pytest.mark.parametrize("factory,kind", FACTORIES, ids=lambda f: getattr(f, "__name__", f))
def test_stateless_equals_stateful_and_jits(factory, kind):
    batches = [(_args(kind), RNG.uniform(0, 2, 12).astype("float32")) for _ in range(3)]
    stateful = factory()
    stateless = factory()
    stateless.build(*_shapes(batches[0][0]))
    state = stateless.stateless_reset_state()
    assert len(state) == len(stateless.variables)
    before = [np.asarray(v.value) for v in stateless.variables]

    @jax.jit
    def step(state, args, sw):
        return stateless.stateless_update_state(state, *args, sample_weight=sw)

    for args, sw in batches:
        stateful.update_state(*args, sample_weight=sw)
        state = step(state, args, sw)
    want = np.asarray(stateful.result())
    np.testing.assert_allclose(stateless.stateless_result(state), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jax.jit(stateless.stateless_result)(state), want, rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    # the object itself was never written to
    for v, old in zip(stateless.variables, before):
        np.testing.assert_array_equal(np.asarray(v.value), old)
    # reset gives zeros without touching the stateful metric's values
    for value in stateful.stateless_reset_state():
        assert float(jnp.abs(value).sum()) == 0.0
    np.testing.assert_allclose(stateful.result(), want)


def test_metric_state_is_callax_variables_with_keras_names():
    m = metrics.AUC(num_thresholds=10)
    assert all(isinstance(v, callax.Variable) and not v.trainable for v in m.variables)
    assert [v.name for v in m.variables] == [
        "true_positives", "false_positives", "true_negatives", "false_negatives"]  # fmt: skip
    assert m.variables[0].path == "auc/true_positives" and m.variables[0].shape == (10,)
    assert [v.name for v in metrics.Mean().variables] == ["total", "count"]
    assert metrics.Mean().dtype == "float32" and metrics.Mean(dtype="float16").dtype == "float16"
    assert metrics.Accuracy().name == "accuracy"
    assert "Accuracy name=accuracy" in repr(metrics.Accuracy())


class MeanOfMax(metrics.Metric):
    """A user metric with a tracked sub-metric and its own variable."""

    def __init__(self, name="mean_of_max", **kwargs):
        super().__init__(name=name, **kwargs)
        self.mean = metrics.Mean(name="inner")
        self.biggest = self.add_variable((), initializer="zeros", name="biggest")

    def update_state(self, y_true, y_pred, sample_weight=None):
        row_max = jnp.max(jnp.asarray(y_pred), axis=-1)
        self.mean.update_state(row_max)
        self.biggest.assign(jnp.maximum(self.biggest.value, jnp.max(row_max)))

    def result(self):
        return self.mean.result() + self.biggest.value


def test_user_subclass_works_statelessly_under_jit():
    m = MeanOfMax()
    assert [v.path for v in m.variables] == ["mean_of_max/biggest", "inner/total", "inner/count"]
    reference = MeanOfMax()
    state = m.stateless_reset_state()
    step = jax.jit(lambda s, y: m.stateless_update_state(s, None, y))
    row_max = []
    for _ in range(3):
        y = RNG.normal(size=(4, 3)).astype("float32")
        state = step(state, y)
        reference.update_state(None, y)
        row_max.extend(y.max(-1))
    want = np.mean(row_max) + np.max(row_max)
    np.testing.assert_allclose(m.stateless_result(state), want, rtol=1e-6)
    np.testing.assert_allclose(reference.result(), want, rtol=1e-6)
    got = reference(None, np.full((1, 3), 100.0, "float32"))  # __call__: update, then result
    np.testing.assert_allclose(got, (np.sum(row_max) + 100) / 13 + 100, rtol=1e-6)
    assert float(m.result()) == 0.0  # stateless calls left the object alone
    config = m.get_config()
    assert config == {"name": "mean_of_max", "dtype": "float32"}
    assert MeanOfMax.from_config(config).name == "mean_of_max"


def test_stateless_errors_say_what_is_wrong():
    m = metrics.Mean()
    with pytest.raises(ValueError, match=r"Mean 'mean'.stateless_update_state: expected 2 .*"
                                         r"received 1"):  # fmt: skip
        m.stateless_update_state([jnp.zeros(())], np.ones(3))
    f = metrics.F1Score()
    with pytest.raises(ValueError, match=r"F1Score 'f1_score'.*not built.*build\(y_true_shape"):
        f.stateless_update_state([], np.ones((2, 2)), np.ones((2, 2)))
    f.build((None, 4), (None, 4))
    assert [v.shape for v in f.variables] == [(4,)] * 4
    with pytest.raises(RuntimeError, match=r"call super\(\).__init__\(\)"):

        class Bad(metrics.Metric):
            def __init__(self):
                self.v = self.add_variable((), "zeros", name="v")

        Bad()


CONFIGURED = [
    metrics.Mean(name="m"), metrics.Sum(dtype="float16"),
    metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.2),
    metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.7), metrics.CategoricalAccuracy(),
    metrics.SparseCategoricalAccuracy(), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2),
    metrics.AUC(num_thresholds=33, curve="PR", summation_method="majoring", from_logits=True),
    metrics.AUC(thresholds=[0.2, 0.7]), metrics.Precision(thresholds=[0.1, 0.2], class_id=1),
    metrics.Recall(top_k=3), metrics.TrueNegatives(thresholds=0.3),
    metrics.MeanSquaredError(), metrics.RootMeanSquaredError(), metrics.MeanAbsoluteError(),
    metrics.R2Score(class_aggregation=None, num_regressors=2),
    metrics.F1Score(average="weighted", threshold=0.3), metrics.FBetaScore(beta=0.5),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.SparseCategoricalCrossentropy(ignore_class=0), metrics.KLDivergence(),
    metrics.CosineSimilarity(axis=1), metrics.LogCoshError(),
]  # fmt: skip


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == config
    assert metrics.get(metrics.serialize(metric)).get_config() == config


def test_get_and_function_serialization():
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("mean_squared_error"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("f1_score"), metrics.F1Score)
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    assert metrics.get(metrics.sparse_categorical_accuracy) is metrics.sparse_categorical_accuracy
    config = metrics.serialize(metrics.sparse_categorical_accuracy)
    assert config["config"] == "sparse_categorical_accuracy"
    assert metrics.deserialize(config) is metrics.sparse_categorical_accuracy
    assert metrics.get(None) is None


@pytest.mark.parametrize(
    "identifier,loss,y_true,y_pred,cls",
    [
        ("accuracy", "binary_crossentropy", (8, 1), (8, 1), metrics.BinaryAccuracy),
        ("acc", None, (8,), (8, 1), metrics.BinaryAccuracy),
        ("accuracy", "sparse_categorical_crossentropy", (8,), (8, 10),
         metrics.SparseCategoricalAccuracy),
        ("accuracy", None, (8, 1), (8, 10), metrics.SparseCategoricalAccuracy),
        ("Accuracy", "categorical_crossentropy", (8, 10), (8, 10), metrics.CategoricalAccuracy),
        ("acc", "sparse_categorical_crossentropy", None, None, metrics.SparseCategoricalAccuracy),
        ("acc", callax.losses.BinaryCrossentropy(), None, None, metrics.BinaryAccuracy),
        ("acc", callax.losses.mean_squared_error, None, None, metrics.CategoricalAccuracy),
    ],
)  # fmt: skip
def test_resolve_accuracy_like_keras(identifier, loss, y_true, y_pred, cls):
    m = metrics.resolve_accuracy(identifier, loss, y_true, y_pred)
    assert type(m) is cls and m.name == identifier


def test_resolve_other_identifiers():
    ce = metrics.resolve_accuracy("crossentropy", None, (8,), (8, 4))
    assert isinstance(ce, metrics.MeanMetricWrapper) and ce.name == "crossentropy"
    y, p = RNG.integers(0, 4, 8), RNG.uniform(0.1, 1, (8, 4)).astype("float32")
    np.testing.assert_allclose(
        ce(y, p), np.mean(callax.losses.sparse_categorical_crossentropy(y, p)), rtol=1e-6
    )
    m = metrics.resolve_accuracy("mae", None, (8, 1), (8, 1))
    assert isinstance(m, metrics.MeanAbsoluteError) and m.name == "mae"
    fn = metrics.resolve_accuracy(metrics.binary_accuracy, None, (8, 1), (8, 1))
    assert isinstance(fn, metrics.MeanMetricWrapper) and fn.name == "binary_accuracy"
    auc = metrics.AUC(name="my_auc")
    assert metrics.resolve_accuracy(auc, None, (8, 1), (8, 1)) is auc
    f1 = metrics.resolve_accuracy("f1_score", None, (8, 3), (8, 3))
    assert f1.built and [v.shape for v in f1.variables] == [(3,)] * 4
    assert len(f1.stateless_reset_state()) == 4
    r2 = metrics.resolve_accuracy(metrics.R2Score(), None, (8,), (8, 1))
    assert r2.built and r2.sum.shape == (1,)
