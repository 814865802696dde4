"""scikit-learn wrappers: the estimator contract (params, clone, Pipeline,
cross-validation, grid search) and numerics against the same model trained
directly with the same seed."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="the wrappers wrap scikit-learn estimators")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import callax  # noqa: E402
from callax.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402

QUIET = {"epochs": 2, "batch_size": 64, "verbose": 0}  # one batch per epoch: one compile


def _data(n=30, features=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    labels = np.array(["ant", "bee", "cat"])
    y = labels[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    return X, y


def build_classifier(X, y, units=6, seed=None):
    if seed is not None:  # each fit starts from the same state (cross-validation folds)
        callax.utils.set_random_seed(seed)
    model = callax.Sequential(
        [
            callax.Input((X.shape[1],)),
            callax.layers.Dense(units, activation="relu"),
            callax.layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def build_regressor(X, y):
    model = callax.Sequential(
        [callax.Input((X.shape[1],)), callax.layers.Dense(5, activation="tanh"),
         callax.layers.Dense(y.shape[1])]
    )  # fmt: skip
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_lazy_module_and_names():
    assert callax.wrappers.SKLearnClassifier is SKLearnClassifier
    assert sklearn.base.is_classifier(SKLearnClassifier(build_classifier))
    assert sklearn.base.is_regressor(SKLearnRegressor(build_regressor))


def test_classifier_predictions_equal_direct_training_with_the_same_seed():
    X, y = _data()
    callax.utils.set_random_seed(3)
    clf = SKLearnClassifier(build_classifier, model_kwargs={"units": 5}, fit_kwargs=QUIET)
    clf.fit(X, y)
    # The same model trained by hand: sorted labels, one-hot targets.
    callax.utils.set_random_seed(3)
    classes = np.unique(y)
    onehot = (y[:, None] == classes[None, :]).astype("float32")
    direct = build_classifier(X, onehot, units=5)
    direct.fit(X, onehot, **QUIET)
    probs = direct.predict(X, verbose=0)
    np.testing.assert_array_equal(clf.classes_, ["ant", "bee", "cat"])
    np.testing.assert_allclose(clf.predict_proba(X), probs, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(clf.predict(X), classes[probs.argmax(axis=1)])
    assert clf.score(X, y) == pytest.approx(np.mean(classes[probs.argmax(axis=1)] == y))
    assert clf.n_features_in_ == 4
    assert set(clf.history_) == {"loss"} and len(clf.history_["loss"]) == 2 and clf.epoch_ == 2


def test_regressor_predictions_equal_direct_training_and_r2():
    X, _ = _data()
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3
    callax.utils.set_random_seed(5)
    reg = SKLearnRegressor(build_regressor, fit_kwargs=QUIET).fit(X, y)
    callax.utils.set_random_seed(5)
    direct = build_regressor(X, y[:, None])
    direct.fit(X, y[:, None], **QUIET)
    expected = direct.predict(X, verbose=0)[:, 0]
    pred = reg.predict(X)
    assert pred.shape == (30,)
    np.testing.assert_allclose(pred, expected, rtol=1e-6, atol=1e-6)
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert reg.score(X, y) == pytest.approx(r2, rel=1e-5)


def test_int_labels_and_fit_kwargs_precedence():
    X, y = _data()
    y_int = np.unique(y, return_inverse=True)[1] * 10  # 0, 10, 20
    clf = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 3, "verbose": 0})
    clf.fit(X, y_int, epochs=1)  # fit's keyword wins over fit_kwargs
    assert clf.fit_kwargs == {"epochs": 3, "verbose": 0}  # not mutated
    assert clf.epoch_ == 1
    np.testing.assert_array_equal(clf.classes_, [0, 10, 20])
    assert set(np.unique(clf.predict(X))) <= {0, 10, 20}


@pytest.mark.slow
def test_pipeline_cross_val_score_equals_a_manual_loop():
    X, y = _data(n=36)
    clf = SKLearnClassifier(build_classifier, model_kwargs={"seed": 0}, fit_kwargs=QUIET)
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), X, y, cv=3)
    expected = []
    for train, test in StratifiedKFold(3).split(X, y):
        scaler = StandardScaler().fit(X[train])
        classes = np.unique(y[train])
        onehot = (y[train][:, None] == classes).astype("float32")
        model = build_classifier(scaler.transform(X[train]), onehot, seed=0)
        model.fit(scaler.transform(X[train]), onehot, **QUIET)
        pred = classes[model.predict(scaler.transform(X[test]), verbose=0).argmax(axis=1)]
        expected.append(np.mean(pred == y[test]))
    np.testing.assert_allclose(scores, expected)


@pytest.mark.slow
def test_grid_search_over_a_model_kwarg():
    X, y = _data(n=24)
    clf = SKLearnClassifier(build_classifier, model_kwargs={"units": 2}, fit_kwargs=QUIET)
    grid = {"model_kwargs": [{"units": 3}, {"units": 7}]}
    search = GridSearchCV(clf, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    best_units = search.best_params_["model_kwargs"]["units"]
    assert best_units in (3, 7)
    # The refitted best estimator was built with the chosen kwarg.
    assert search.best_estimator_.model_.layers[0].kernel.shape == (4, best_units)
    assert clf.model_kwargs == {"units": 2} and not hasattr(clf, "model_")


def test_get_params_set_params_and_clone():
    clf = SKLearnClassifier(build_classifier, model_kwargs={"units": 3}, fit_kwargs=QUIET)
    assert clf.get_params() == {
        "model": build_classifier, "warm_start": False, "model_kwargs": {"units": 3},
        "fit_kwargs": QUIET,
    }  # fmt: skip
    assert clf.set_params(warm_start=True) is clf and clf.warm_start
    X, y = _data()
    clf.fit(X, y)
    twin = clone(clf)
    assert not hasattr(twin, "model_") and not hasattr(twin, "classes_")
    assert twin.get_params()["model_kwargs"] == {"units": 3}
    assert twin.model_kwargs is not clf.model_kwargs  # deep copies, as sklearn's clone
    assert twin.fit_kwargs == QUIET and twin.warm_start


@pytest.mark.slow
def test_model_instance_is_cloned_unless_warm_start():
    X, y = _data()
    onehot = np.eye(3)[np.unique(y, return_inverse=True)[1]]
    template = build_classifier(X, onehot)
    before = [np.array(w) for w in template.get_weights()]
    clf = SKLearnClassifier(template, fit_kwargs=QUIET).fit(X, y)
    assert clf.model_ is not template and clf.model_.compiled
    for a, b in zip(before, template.get_weights()):
        np.testing.assert_array_equal(a, b)  # the template is not trained
    # clone() deep-copies an instance, so a warm_start clone never trains the original.
    twin = clone(SKLearnClassifier(template, warm_start=True, fit_kwargs=QUIET))
    assert twin.model is not template
    warm = SKLearnClassifier(template, warm_start=True, fit_kwargs=QUIET).fit(X, y)
    assert warm.model_ is template
    iterations = int(template.optimizer.iterations.value)
    warm.fit(X, y)  # continues: the same model, more optimizer steps
    assert warm.model_ is template
    assert int(template.optimizer.iterations.value) == 2 * iterations


def test_transformer_in_a_pipeline():
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    callax.utils.set_random_seed(1)
    step = SKLearnTransformer(build_regressor, fit_kwargs=QUIET)
    step.fit(X, X[:, :2])
    features = step.transform(X)
    assert features.shape == (30, 2)
    np.testing.assert_allclose(features, step.model_.predict(X, verbose=0))
    pipe = make_pipeline(
        SKLearnTransformer(build_regressor, fit_kwargs=QUIET), LogisticRegression()
    )
    # The transformer trains on y too (as Keras's): here the labels as a column.
    codes = np.unique(y, return_inverse=True)[1].astype("float32")
    pipe.fit(X, codes)
    assert pipe.predict(X).shape == (30,)


def test_errors_name_the_problem():
    X, y = _data()
    with pytest.raises(NotFittedError):
        SKLearnClassifier(build_classifier).predict(X)
    with pytest.raises(TypeError, match=r"`model` must be a compiled callax Model.*received int"):
        SKLearnClassifier(3).fit(X, y)
    uncompiled = callax.Sequential([callax.Input((4,)), callax.layers.Dense(3)])
    with pytest.raises(RuntimeError, match="must be compiled"):
        SKLearnClassifier(uncompiled, fit_kwargs=QUIET).fit(X, y)
    with pytest.raises(TypeError, match="must return a compiled callax Model"):
        SKLearnClassifier(lambda X, y: "not a model").fit(X, y)
    with pytest.raises(ValueError, match=r"at least two classes.*\['ant'\]"):
        SKLearnClassifier(build_classifier).fit(X, np.array(["ant"] * 30))
    with pytest.raises(ValueError, match="binary or multiclass.*'continuous'"):
        SKLearnClassifier(build_classifier).fit(X, X[:, 0])
    clf = SKLearnClassifier(build_classifier, fit_kwargs=QUIET).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])


def test_sklearn_estimator_checks_we_can_afford():
    from sklearn.utils import estimator_checks as checks

    for make in (
        lambda: SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 1, "verbose": 0}),
        lambda: SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 1, "verbose": 0}),
    ):
        est = make()
        name = type(est).__name__
        checks.check_no_attributes_set_in_init(name, est)
        checks.check_get_params_invariance(name, est)
        checks.check_set_params(name, est)
        checks.check_estimators_unfitted(name, est)
        checks.check_dont_overwrite_parameters(name, est)


def test_a_fitted_wrapper_pickles_through_keras_archives():
    import pickle

    X, y = _data()
    onehot = np.eye(3)[np.unique(y, return_inverse=True)[1]]
    clf = SKLearnClassifier(build_classifier(X, onehot), fit_kwargs=QUIET).fit(X, y)
    twin = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(twin.classes_, clf.classes_)
    assert twin.model_.compiled and twin.n_features_in_ == 4
    twin.fit(X, y)  # the unpickled template still builds and trains


def test_binary_decision_function_follows_sklearn_and_y_none_is_refused():
    X, y = _data()
    y2 = np.where(X[:, 0] > 0, "yes", "no")
    clf = SKLearnClassifier(build_classifier, fit_kwargs=QUIET).fit(X, y2)
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 2)
    np.testing.assert_allclose(clf.decision_function(X), proba[:, 1] - proba[:, 0])
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(clf.decision_function(X) > 0).astype(int)]
    )
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        SKLearnRegressor(build_regressor).fit(X, None)
