"""IoU family, correlations and operating-point metrics: numpy formulas, the
Keras 3 oracle, accumulation, reset, stateless/jit use, configs and fit."""

import jax
import numpy as np
import pytest

import callax
from callax import metrics

rng = np.random.default_rng(1)


def _keras():
    return pytest.importorskip("keras")


# ------------------------------------------------------------------------- IoU
def _cm(labels, preds, n, w=None):
    cm = np.zeros((n, n))
    w = np.ones(len(labels)) if w is None else w
    for t, p, x in zip(labels, preds, w):
        if 0 <= t < n and 0 <= p < n:
            cm[t, p] += x
    return cm


def _mean_iou(cm, ids):
    tp = np.diag(cm)
    den = cm.sum(0) + cm.sum(1) - tp
    ious = [tp[i] / den[i] for i in ids if den[i] > 0]
    return np.mean(ious) if ious else 0.0


def test_mean_iou_accumulates_and_resets():
    m = metrics.MeanIoU(num_classes=4)
    all_t, all_p = [], []
    for _ in range(3):
        t, p = rng.integers(0, 4, 20), rng.integers(0, 4, 20)
        m.update_state(t, p)
        all_t += list(t)
        all_p += list(p)
    cm = _cm(all_t, all_p, 4)
    np.testing.assert_array_equal(m.total_cm.numpy(), cm)
    assert m.total_cm.dtype == np.int32 and m.variables[0].path.endswith("total_confusion_matrix")
    np.testing.assert_allclose(m.result(), _mean_iou(cm, range(4)), rtol=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0 and m.total_cm.numpy().sum() == 0


def test_iou_targets_ignore_class_and_weights():
    t = rng.integers(0, 3, 30)
    p = rng.integers(0, 3, 30)
    w = rng.random(30).astype("float32")
    m = metrics.IoU(num_classes=3, target_class_ids=[0, 2], ignore_class=1, dtype="float32")
    m.update_state(t, p, sample_weight=w)
    keep = t != 1
    cm = _cm(t[keep], p[keep], 3, w[keep])
    np.testing.assert_allclose(m.result(), _mean_iou(cm, [0, 2]), rtol=1e-5)


def test_out_of_range_ids_are_dropped():
    m = metrics.MeanIoU(num_classes=2)
    m.update_state(np.array([0, 1, 5, -1]), np.array([0, 1, 0, 1]))
    assert m.total_cm.numpy().sum() == 2


def test_binary_and_one_hot_variants():
    t = rng.integers(0, 2, 12)
    s = rng.random(12).astype("float32")
    m = metrics.BinaryIoU(target_class_ids=[1], threshold=0.3)
    np.testing.assert_allclose(m(t, s), _mean_iou(_cm(t, (s >= 0.3).astype(int), 2), [1]), 1e-5)
    labels = rng.integers(0, 3, 10)
    scores = rng.random((10, 3)).astype("float32")
    cm = _cm(labels, scores.argmax(-1), 3)
    np.testing.assert_allclose(
        metrics.OneHotMeanIoU(3)(np.eye(3)[labels], scores), _mean_iou(cm, range(3)), 1e-5
    )
    np.testing.assert_allclose(
        metrics.OneHotIoU(3, [1, 2])(np.eye(3)[labels], scores), _mean_iou(cm, [1, 2]), 1e-5
    )


def test_iou_float_weights_warn_with_int_state():
    m = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match=r"MeanIoU 'mean_io_u.*truncated.*float32"):
        m.update_state(np.array([0, 1]), np.array([0, 1]), sample_weight=np.array([0.5, 2.0]))
    assert m.total_cm.numpy().tolist() == [[0, 0], [0, 2]]


def test_iou_bad_arguments():
    with pytest.raises(ValueError, match=r"target_class_ids must be class ids in \[0, 2\); "
                                         r"received target_class_ids=\[0, 3\]"):  # fmt: skip
        metrics.IoU(num_classes=2, target_class_ids=[0, 3])
    with pytest.raises(ValueError, match=r"num_classes must be a positive int; received"):
        metrics.MeanIoU(num_classes=0)


def test_iou_stateless_under_jit():
    m = metrics.MeanIoU(num_classes=3)
    t, p = rng.integers(0, 3, 16), rng.integers(0, 3, 16)
    step = jax.jit(lambda s, a, b: m.stateless_update_state(s, a, b))
    state = step(step(m.stateless_reset_state(), t, p), t, p)
    np.testing.assert_allclose(
        m.stateless_result(state), _mean_iou(2 * _cm(t, p, 3), range(3)), rtol=1e-5
    )
    assert float(m.result()) == 0.0  # the object is untouched


# ----------------------------------------------------------------- correlations
def test_correlations_match_numpy():
    t = rng.normal(size=(5, 8)).astype("float32")
    p = (t + rng.normal(size=(5, 8))).astype("float32")
    want = [np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)]
    np.testing.assert_allclose(metrics.pearson_correlation(t, p), want, rtol=1e-4)
    mt, mp = t.mean(1), p.mean(1)
    cov = ((t - mt[:, None]) * (p - mp[:, None])).mean(1)
    ccc = 2 * cov / (t.var(1) + p.var(1) + (mt - mp) ** 2)
    np.testing.assert_allclose(metrics.concordance_correlation(t, p), ccc, rtol=1e-4)
    m = metrics.ConcordanceCorrelation()
    m.update_state(t[:2], p[:2])
    m.update_state(t[2:], p[2:])
    np.testing.assert_allclose(m.result(), ccc.mean(), rtol=1e-4)
    m.reset_state()
    assert float(m.result()) == 0.0


# ------------------------------------------------------------ operating points
def _rates_numpy(t, s, thresholds):
    out = []
    for th in thresholds:
        pos = s > th
        tp = np.sum(pos & (t == 1))
        fp = np.sum(pos & (t == 0))
        fn = np.sum(~pos & (t == 1))
        tn = np.sum(~pos & (t == 0))
        div = lambda a, b: a / b if b else 0.0  # noqa: E731
        out.append((div(tp, tp + fn), div(tp, tp + fp), div(tn, tn + fp)))
    return np.array(out)  # recall, precision, specificity


@pytest.mark.parametrize(
    "cls,value,constrained,dependent",
    [
        ("PrecisionAtRecall", 0.7, 0, 1),
        ("RecallAtPrecision", 0.6, 1, 0),
        ("SensitivityAtSpecificity", 0.5, 2, 0),
        ("SpecificityAtSensitivity", 0.8, 0, 2),
    ],
)
def test_operating_points_match_numpy(cls, value, constrained, dependent):
    t = rng.integers(0, 2, 60)
    s = np.clip(t * 0.3 + rng.random(60) * 0.7, 0, 1).astype("float32")
    m = getattr(metrics, cls)(value, num_thresholds=21)
    m.update_state(t[:30], s[:30])
    m.update_state(t[30:], s[30:])
    rates = _rates_numpy(t, s, [0.0] + [(i + 1) / 20 for i in range(19)] + [1.0])
    feasible = rates[:, constrained] >= value
    want = np.max(np.where(feasible, rates[:, dependent], 0.0), initial=0.0)
    np.testing.assert_allclose(m.result(), want, rtol=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0 and float(m.true_positives.numpy().sum()) == 0.0


def test_operating_point_bad_value():
    with pytest.raises(
        ValueError, match=r"recall must be in the range \[0, 1\]; received recall=1.5"
    ):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match=r"num_thresholds must be an integer > 0; received"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)


# ------------------------------------------------------------------ Keras oracle
def _data(kind):
    if kind == "sparse":
        t, p = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
    elif kind == "onehot":
        t, p = np.eye(4)[rng.integers(0, 4, 40)], rng.random((40, 4)).astype("float32")
    elif kind == "binary":
        t, p = rng.integers(0, 2, 40), rng.random(40).astype("float32")
    else:
        t = rng.normal(size=(40, 5)).astype("float32")
        p = (t + rng.normal(size=(40, 5))).astype("float32")
    return t, p


ORACLE = [
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 3]}, "sparse"),
    ("MeanIoU", {"num_classes": 4, "ignore_class": 2, "dtype": "float32"}, "sparse"),
    ("BinaryIoU", {"target_class_ids": [0, 1], "threshold": 0.4}, "binary"),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 2]}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": 4, "dtype": "float32"}, "onehot"),
    ("PearsonCorrelation", {}, "dense"),
    ("ConcordanceCorrelation", {}, "dense"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 50}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.4}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7}, "binary"),
]


@pytest.mark.parametrize("cls_name,kwargs,kind", ORACLE, ids=[c[0] for c in ORACLE])
def test_matches_keras(cls_name, kwargs, kind):
    keras = _keras()
    ours, theirs = getattr(metrics, cls_name)(**kwargs), getattr(keras.metrics, cls_name)(**kwargs)
    for _ in range(2):
        t, p = _data(kind)
        w = rng.random(len(t)).astype("float32") if "float32" in str(kwargs) else None
        ours.update_state(t, p, sample_weight=w)
        theirs.update_state(t, p, sample_weight=w)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-5, atol=1e-6)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    cfg = {**theirs.get_config(), "name": ours.name}
    assert ours.get_config() == cfg
    # Keras's config builds ours
    assert type(ours).from_config(theirs.get_config()).get_config()["name"] == theirs.name


def test_metric_functions_match_keras():
    keras = _keras()
    t, p = _data("dense")
    for name in ("pearson_correlation", "concordance_correlation"):
        np.testing.assert_allclose(
            getattr(metrics, name)(t, p), np.asarray(getattr(keras.metrics, name)(t, p)), 1e-4
        )
    y, s = np.eye(3)[rng.integers(0, 3, 6)], rng.random((6, 3)).astype("float32")
    np.testing.assert_allclose(
        metrics.categorical_focal_crossentropy(y, s),
        np.asarray(keras.metrics.categorical_focal_crossentropy(y, s)), rtol=1e-5,
    )  # fmt: skip


# ------------------------------------------------------------- names and configs
@pytest.mark.parametrize(
    "obj",
    [metrics.IoU(3, [1]), metrics.MeanIoU(3), metrics.BinaryIoU(threshold=0.2),
     metrics.OneHotIoU(3, [0, 2]), metrics.OneHotMeanIoU(3), metrics.PearsonCorrelation(axis=0),
     metrics.ConcordanceCorrelation(), metrics.PrecisionAtRecall(0.3, class_id=1),
     metrics.RecallAtPrecision(0.4), metrics.SensitivityAtSpecificity(0.5, num_thresholds=9),
     metrics.SpecificityAtSensitivity(0.6)],
    ids=lambda o: type(o).__name__,
)  # fmt: skip
def test_config_round_trip(obj):
    back = metrics.deserialize(metrics.serialize(obj))
    assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_resolution_by_name():
    assert isinstance(metrics.get("pearson_correlation"), metrics.PearsonCorrelation)
    assert isinstance(metrics.get("ConcordanceCorrelation"), metrics.ConcordanceCorrelation)
    assert metrics.get("categorical_focal_crossentropy") is metrics.categorical_focal_crossentropy


# ------------------------------------------------------------------ compile / fit
class Net(callax.Model):
    def __init__(self, units, activation):
        super().__init__()
        self.dense = callax.layers.Dense(units, activation=activation)

    def call(self, x):
        return self.dense(x)


def test_fit_with_iou_and_operating_point_metrics():
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = Net(1, "sigmoid")
    model.compile(
        optimizer="adam", loss="binary_crossentropy",
        metrics=[metrics.BinaryIoU(), metrics.PrecisionAtRecall(0.5), "pearson_correlation"],
    )  # fmt: skip
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"binary_io_u", "precision_at_recall", "pearson_correlation"} <= set(hist.history)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    ref = metrics.PrecisionAtRecall(0.5)
    ref.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(logs["precision_at_recall"], ref.result(), rtol=1e-5)


def test_fit_with_one_hot_mean_iou():
    x = rng.normal(size=(48, 5)).astype("float32")
    y = np.eye(3)[rng.integers(0, 3, 48)].astype("float32")
    model = Net(3, "softmax")
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.OneHotMeanIoU(3), "categorical_focal_crossentropy"])  # fmt: skip
    hist = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert "one_hot_mean_io_u" in hist.history and "categorical_focal_crossentropy" in hist.history
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    ref = metrics.OneHotMeanIoU(3)
    ref.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(logs["one_hot_mean_io_u"], ref.result(), rtol=1e-5)


class Segmenter(callax.Model):
    def __init__(self):
        super().__init__()
        self.conv = callax.layers.Conv2D(3, 1, activation="softmax")

    def call(self, x):
        return self.conv(x)


def test_fit_segmentation_mean_iou_dense_predictions():
    """keras.io segmentation style: (B, H, W, 1) integer masks, (B, H, W, C) softmax."""
    x = rng.normal(size=(8, 6, 6, 2)).astype("float32")
    y = rng.integers(0, 3, (8, 6, 6, 1))
    model = Segmenter()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[metrics.MeanIoU(num_classes=3, sparse_y_pred=False)])  # fmt: skip
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    pred = np.asarray(model.predict(x, verbose=0)).argmax(-1).reshape(-1)
    want = _mean_iou(_cm(y.reshape(-1), pred, 3), range(3))
    np.testing.assert_allclose(logs["mean_io_u"], want, rtol=1e-5)
