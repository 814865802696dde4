"""``SKLearnTransformer``: a callax model as a scikit-learn transformer.

``fit(X, y)`` trains the model on ``(X, y)``; ``transform(X)`` returns the
model's outputs, so a trained encoder (or any feature extractor) becomes a
``Pipeline`` step. "Transformer" is scikit-learn's word here (a step with
``transform``), not the attention architecture.

Example:
    >>> import numpy as np, callax
    >>> from callax.wrappers import SKLearnTransformer
    >>> def build(X, y):
    ...     model = callax.Sequential([callax.Input((X.shape[1],)),
    ...                                callax.layers.Dense(y.shape[1])])
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> X = np.ones((4, 3))
    >>> step = SKLearnTransformer(build, fit_kwargs={"epochs": 1, "verbose": 0})
    >>> step.fit_transform(X, X[:, :2]).shape
    (4, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.wrappers.sklearn_base import SKLBase, TransformerMixin


class SKLearnTransformer(TransformerMixin, SKLBase):
    """scikit-learn transformer wrapping a callax model (Keras 3's
    ``keras.wrappers.SKLearnTransformer``).

    Arguments and attributes as for every wrapper (``model``, ``warm_start``,
    ``model_kwargs``, ``fit_kwargs``; ``model_``, ``history_``, ``n_features_in_``;
    see :class:`~callax.wrappers.sklearn_base.SKLBase`).
    """

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "preserves_dtype": []}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # outputs are the model's dtype
        return tags

    def transform(self, X: Any) -> np.ndarray:
        """The fitted model's outputs for ``X``, shape ``(n_samples, ...)``."""
        return self._raw_predict(X)
