"""``SKLearnRegressor``: a callax model as a scikit-learn regressor.

The model trains on ``y`` as a 2-D float array (a 1-D ``y`` becomes one column,
and predictions come back 1-D); ``score`` is R² (scikit-learn's
``RegressorMixin``).

Example:
    >>> import numpy as np, callax
    >>> from callax.wrappers import SKLearnRegressor
    >>> def build(X, y):
    ...     model = callax.Sequential([callax.Input((X.shape[1],)),
    ...                                callax.layers.Dense(y.shape[1])])
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> reg = SKLearnRegressor(build, fit_kwargs={"epochs": 1, "verbose": 0})
    >>> reg.fit(X, X.sum(axis=1)).predict(X).shape
    (4,)
"""

from __future__ import annotations

from typing import Any

from callax.wrappers.sklearn_base import RegressorMixin, SKLBase


class SKLearnRegressor(RegressorMixin, SKLBase):
    """scikit-learn regressor wrapping a callax model (Keras 3's
    ``keras.wrappers.SKLearnRegressor``).

    Arguments and attributes as for every wrapper (``model``, ``warm_start``,
    ``model_kwargs``, ``fit_kwargs``; ``model_``, ``history_``, ``n_features_in_``;
    see :class:`~callax.wrappers.sklearn_base.SKLBase`).
    """

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "poor_score": True, "multioutput": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True  # y of shape (n_samples, n_outputs) trains as is
        return tags
