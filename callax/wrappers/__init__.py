"""scikit-learn wrappers under Keras 3's ``keras.wrappers`` names.

``SKLearnClassifier``, ``SKLearnRegressor`` and ``SKLearnTransformer`` turn a
callax model (or a function that builds one) into a scikit-learn estimator that
works in ``Pipeline``, ``cross_val_score``, ``GridSearchCV`` and ``clone``.
Needs scikit-learn: ``pip install "callax[sklearn]"``.
"""

from callax.wrappers.sklearn_classifier import SKLearnClassifier
from callax.wrappers.sklearn_regressor import SKLearnRegressor
from callax.wrappers.sklearn_transformer import SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
