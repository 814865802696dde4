"""The shared base of callax's scikit-learn wrappers (``SKLearnClassifier``,
``SKLearnRegressor``, ``SKLearnTransformer``).

A wrapper is a scikit-learn estimator whose ``fit`` builds (or clones) a compiled
callax model and trains it with ``model.fit``; ``predict``/``transform`` run
``model.predict``. Because the wrappers subclass scikit-learn's own
``BaseEstimator`` and mixins, ``get_params``/``set_params``, ``clone``,
``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` treat them like any
scikit-learn estimator.

scikit-learn is optional (``pip install "callax[sklearn]"``). This module is only
imported when a program reaches for ``callax.wrappers``; without scikit-learn
the classes still import (so ``import callax`` never needs it) and building one
raises an ``ImportError`` that says what to install.

Example:
    >>> from callax.wrappers.sklearn_base import SKLBase
    >>> sorted(SKLBase(model=None).get_params())
    ['fit_kwargs', 'model', 'model_kwargs', 'warm_start']
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from callax.models import Model
from callax.models.cloning import clone_model
from callax.saving import load_model

try:  # the base classes must exist when the class statements below run
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    sklearn = None

    class BaseEstimator:  # type: ignore[no-redef]
        """Stand-in so the module imports without scikit-learn."""

    class ClassifierMixin:  # type: ignore[no-redef]
        """Stand-in so the module imports without scikit-learn."""

    class RegressorMixin:  # type: ignore[no-redef]
        """Stand-in so the module imports without scikit-learn."""

    class TransformerMixin:  # type: ignore[no-redef]
        """Stand-in so the module imports without scikit-learn."""


__all__ = ["SKLBase", "BaseEstimator", "ClassifierMixin", "RegressorMixin", "TransformerMixin"]


def require_sklearn(owner: str) -> None:
    """Raises ``ImportError`` naming the extra to install when scikit-learn is absent."""
    if sklearn is None:
        raise ImportError(
            f"{owner} needs scikit-learn, which is not installed; install it with "
            '`pip install "callax[sklearn]"` (or `pip install scikit-learn`).'
        )


def validate_data(estimator: Any, X: Any, y: Any = None, *, reset: bool, **kwargs: Any) -> Any:
    """scikit-learn's input validation (sets ``n_features_in_`` and, for DataFrames,
    ``feature_names_in_`` when ``reset``); the function moved in scikit-learn 1.6."""
    try:
        from sklearn.utils.validation import validate_data as _validate
    except ImportError:  # scikit-learn < 1.6: the BaseEstimator method
        return estimator._validate_data(X, y, reset=reset, **kwargs)
    no_y = y is None
    if no_y:
        return _validate(estimator, X, reset=reset, **kwargs)
    return _validate(estimator, X, y, reset=reset, **kwargs)


def _is_model(obj: Any) -> bool:
    return isinstance(obj, Model)


def copy_model(model: Any) -> Any:
    """A compiled model with ``model``'s architecture and fresh weights."""
    clone = clone_model(model)
    if getattr(model, "compiled", False) and not getattr(clone, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


class SKLBase(BaseEstimator):
    """Base class of the scikit-learn wrappers: builds, trains and runs a callax model.

    Args:
        model: a compiled callax ``Model``, or a callable returning one. A callable
            is called as ``model(X=X, y=y, **model_kwargs)`` with the validated
            training inputs and the (encoded) targets, so it can size the input
            and output layers from the data. A ``Model`` instance is cloned with
            fresh weights (``callax.models.clone_model``, compile settings kept)
            at every ``fit``, unless ``warm_start=True``.
        warm_start: reuse the fitted model: a second ``fit`` continues training
            ``model_`` (and a ``Model`` instance is trained in place, not cloned).
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit`` (``epochs``, ``batch_size``,
            ``verbose``, ``callbacks``...). Keyword arguments given to the
            wrapper's ``fit`` take precedence.

    Attributes:
        model_: the fitted callax model.
        history_: ``model.fit``'s history (a dict of per-epoch lists).
        n_features_in_: the number of input features seen by ``fit``.

    Randomness: weights and shuffling draw from callax's global stream, so
    ``callax.utils.set_random_seed(seed)`` before ``fit`` makes a fit repeat.
    """

    def __init__(
        self,
        model: Any,
        warm_start: bool = False,
        model_kwargs: dict | None = None,
        fit_kwargs: dict | None = None,
    ):
        # scikit-learn's contract: store the arguments unchanged, validate in fit.
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    # ----------------------------------------------------------- sklearn glue
    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"non_deterministic": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self) -> SKLBase:
        """An unfitted copy with the same parameters (``sklearn.base.clone``).

        A ``Model`` instance is deep-copied, so a ``warm_start`` clone never
        trains the original's model.
        """
        from sklearn.base import clone

        params = self.get_params(deep=False)
        for name, value in params.items():
            if name == "model":
                params[name] = copy.deepcopy(value) if _is_model(value) else value
            else:
                params[name] = clone(value, safe=False)
        return type(self)(**params)

    def __getstate__(self) -> dict:
        """Pickling (``joblib.dump``, ``n_jobs`` > 1): models travel as ``.keras``
        archives, since a trained model holds compiled functions pickle cannot take."""
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__
        state = dict(state)
        for key in ("model", "model_"):
            if _is_model(state.get(key)):
                state[key] = _KerasArchive(state[key])
        return state

    def __setstate__(self, state: dict) -> None:
        state = {k: v.load() if isinstance(v, _KerasArchive) else v for k, v in state.items()}
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:  # pragma: no cover - without scikit-learn
            self.__dict__.update(state)

    @property
    def epoch_(self) -> int:
        """The number of epochs the fitted model was trained for (0 before ``fit``)."""
        history = getattr(self, "history_", None) or {}
        return len(next(iter(history.values()), []))

    # ----------------------------------------------------------- model
    def _build_model(self, X: np.ndarray, y: np.ndarray) -> Any:
        name = type(self).__name__
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if _is_model(self.model):
            if self.model_kwargs:
                warnings.warn(
                    f"{name}: model_kwargs are passed to a callable `model`; `model` is a "
                    f"{type(self.model).__name__} instance, so model_kwargs="
                    f"{self.model_kwargs!r} are ignored.",
                    stacklevel=3,
                )
            model = self.model if self.warm_start else copy_model(self.model)
        elif callable(self.model):
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
            if not _is_model(model):
                raise TypeError(
                    f"{name}: the callable `model` must return a compiled callax Model; "
                    f"{_describe(self.model)} returned {type(model).__name__}."
                )
        else:
            raise TypeError(
                f"{name}: `model` must be a compiled callax Model or a callable returning "
                f"one (called as model(X=X, y=y, **model_kwargs)); received "
                f"{type(self.model).__name__} {self.model!r}."
            )
        if not getattr(model, "compiled", False) or model.optimizer is None:
            raise RuntimeError(
                f"{name}: the model must be compiled with an optimizer and a loss before "
                f"fitting, e.g. model.compile(optimizer='adam', loss='mse'); received an "
                f"uncompiled {type(model).__name__} '{model.name}'."
            )
        return model

    # ----------------------------------------------------------- targets
    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the model trains on them (regressors: 2-D float)."""
        self._y_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _decode_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """Model outputs back in the targets' layout."""
        if self._y_ndim == 1 and outputs.ndim == 2 and outputs.shape[1] == 1:
            return outputs[:, 0]
        return outputs

    def _validate_fit_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, reset=True, multi_output=True, y_numeric=True)

    # ----------------------------------------------------------- API
    def fit(self, X: Any, y: Any, **kwargs: Any) -> SKLBase:
        """Builds the model (or reuses it with ``warm_start``) and trains it.

        Args:
            X: array-like of shape ``(n_samples, n_features)``.
            y: array-like of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``.
            **kwargs: passed to ``model.fit``, over ``fit_kwargs``.

        Returns:
            ``self``, fitted.
        """
        require_sklearn(type(self).__name__)
        if y is None:  # scikit-learn's wording, which its checks look for
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; "
                "fit(X, y) trains the model on (X, y)."
            )
        X, y = self._validate_fit_data(X, y)
        y_model = self._encode_targets(y)
        model = self._build_model(X, y_model)
        fit_kwargs = {**(self.fit_kwargs or {}), **kwargs}  # never mutate fit_kwargs
        history = model.fit(X, y_model, **fit_kwargs)
        self.model_ = model
        self.history_ = dict(getattr(history, "history", None) or {})
        return self

    def _raw_predict(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False)
        # Quiet, as scikit-learn estimators are: cross-validation predicts many times.
        return np.asarray(self.model_.predict(X, verbose=0))

    def predict(self, X: Any) -> np.ndarray:
        """The fitted model's predictions, in the targets' layout."""
        return self._decode_outputs(self._raw_predict(X))


class _KerasArchive:
    """A model as the bytes of its ``.keras`` archive (architecture, weights,
    compile settings and optimizer state)."""

    def __init__(self, model: Any):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            model.save(path)
            with open(path, "rb") as f:
                self.data = f.read()

    def load(self) -> Any:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            with open(path, "wb") as f:
                f.write(self.data)
            return load_model(path)


def _describe(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
