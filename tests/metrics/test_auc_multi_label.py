"""AUC(multi_label=True): one ROC/PR curve per label, averaged (Keras 3 as oracle)."""

import numpy as np
import pytest

import callax

rng = np.random.default_rng(0)
Y_TRUE = rng.integers(0, 2, (40, 3))
Y_PRED = rng.random((40, 3)).astype("float32")
WEIGHTS = rng.random(40).astype("float32")


def _per_label_mean(curve_kwargs):
    per = []
    for j in range(Y_TRUE.shape[1]):
        m = callax.metrics.AUC(**curve_kwargs)
        m.update_state(Y_TRUE[:, j], Y_PRED[:, j])
        per.append(float(m.result()))
    return np.mean(per)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"curve": "PR"}, {"label_weights": [0.2, 0.3, 0.5]}, {"num_labels": 3},
     {"summation_method": "minoring"}],
)  # fmt: skip
def test_matches_keras_over_two_weighted_batches(kwargs):
    keras = pytest.importorskip("keras")
    ours, theirs = (
        callax.metrics.AUC(multi_label=True, **kwargs),
        keras.metrics.AUC(multi_label=True, **kwargs),
    )
    for m in (ours, theirs):
        m.update_state(Y_TRUE[:20], Y_PRED[:20])
        m.update_state(Y_TRUE[20:], Y_PRED[20:], sample_weight=WEIGHTS[20:])
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-6)


def test_is_the_mean_of_single_label_aucs_and_works_in_fit():
    m = callax.metrics.AUC(multi_label=True)
    m.update_state(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(float(m.result()), _per_label_mean({}), rtol=1e-6)
    assert m.true_positives.shape == (200, 3)
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(3, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[callax.metrics.AUC(multi_label=True)])
    x = rng.random((40, 4)).astype("float32")
    logs = model.evaluate(x, Y_TRUE.astype("float32"), return_dict=True, verbose=0)
    preds = model.predict(x, verbose=0)
    ref = callax.metrics.AUC(multi_label=True)
    ref.update_state(Y_TRUE, preds)
    np.testing.assert_allclose(logs["auc"], float(ref.result()), rtol=1e-5)
