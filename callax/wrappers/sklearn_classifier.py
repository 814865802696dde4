"""``SKLearnClassifier``: a callax model as a scikit-learn classifier.

Labels may be any values scikit-learn accepts (ints, strings, ...). ``fit``
sorts the distinct labels into ``classes_`` and trains the model on their
one-hot encoding, so a callable ``model`` sees ``y`` of shape
``(n_samples, n_classes)`` and sizes a softmax output from ``y.shape[1]``.
``predict`` maps the highest-scoring output back to its label; ``score`` is
accuracy (scikit-learn's ``ClassifierMixin``).

Example:
    >>> import numpy as np, callax
    >>> from callax.wrappers import SKLearnClassifier
    >>> def build(X, y, units=8):
    ...     model = callax.Sequential([
    ...         callax.Input((X.shape[1],)),
    ...         callax.layers.Dense(units, activation="relu"),
    ...         callax.layers.Dense(y.shape[1], activation="softmax")])
    ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
    ...     return model
    >>> X = np.random.default_rng(0).normal(size=(12, 3))
    >>> y = np.array(["cat", "dog", "owl"] * 4)
    >>> clf = SKLearnClassifier(build, model_kwargs={"units": 4},
    ...                         fit_kwargs={"epochs": 1, "verbose": 0}).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict(X[:2]).shape, clf.predict_proba(X[:2]).shape
    (['cat', 'dog', 'owl'], (2,), (2, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.wrappers.sklearn_base import ClassifierMixin, SKLBase, validate_data


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """scikit-learn classifier wrapping a callax model (Keras 3's
    ``keras.wrappers.SKLearnClassifier``).

    Takes the same arguments as the other wrappers (``model``, ``warm_start``,
    ``model_kwargs``, ``fit_kwargs``; see :class:`~callax.wrappers.sklearn_base.SKLBase`).
    The model is trained on one-hot targets and should output one score per class
    (a softmax for ``predict_proba`` to be probabilities); a model with a single
    output unit is read as the probability of ``classes_[1]``.

    Attributes:
        classes_: the sorted distinct labels seen by ``fit``.
        model_, history_, n_features_in_: as for every wrapper.
    """

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "poor_score": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _validate_fit_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.utils.multiclass import type_of_target

        X, y = validate_data(self, X, y, reset=True)  # 1-D labels, any dtype
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            unknown = "Unknown label type: " if kind == "unknown" else ""  # sklearn's wording
            raise ValueError(
                f"{type(self).__name__}: {unknown}y must hold binary or multiclass labels "
                f"(one label per sample); received y of type {kind!r}."
            )
        return X, y

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__}: y must hold at least two classes to train a "
                f"classifier; received one class only: {classes.tolist()!r}."
            )
        self.classes_ = classes
        self._y_ndim = 1
        return np.eye(len(classes), dtype="float32")[index.reshape(-1)]

    def decision_function(self, X: Any) -> np.ndarray:
        """Confidence scores: the model's outputs, shape ``(n_samples, n_classes)``;
        for two classes, scikit-learn's 1-D convention: ``p(classes_[1]) -
        p(classes_[0])``, positive where ``predict`` says ``classes_[1]``."""
        scores = self.predict_proba(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in
        ``classes_`` order: the model's outputs (a single output unit ``p`` gives
        ``[1 - p, p]``)."""
        scores = self._raw_predict(X)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.shape[1] == 1:
            return np.concatenate([1.0 - scores, scores], axis=1)
        return scores

    def predict(self, X: Any) -> np.ndarray:
        """The predicted label of each sample (values from ``classes_``)."""
        scores = self.predict_proba(X)
        if scores.shape[1] != len(self.classes_):
            raise ValueError(
                f"{type(self).__name__}: the model outputs {scores.shape[1]} scores per "
                f"sample but fit saw {len(self.classes_)} classes; build the output layer "
                "with y.shape[1] units."
            )
        return self.classes_[np.argmax(scores, axis=1)]
