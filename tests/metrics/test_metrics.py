"""Metrics against numpy formulas written here, accumulated over several
batches with sample weights."""

import numpy as np
import pytest

from callax import metrics

RNG = np.random.default_rng(0)


def _batches(n=3, b=7, c=4, kind="probs"):
    out = []
    for _ in range(n):
        labels = RNG.integers(0, c, b)
        logits = RNG.normal(size=(b, c))
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        out.append((labels, probs.astype("float32"), RNG.uniform(0, 2, b).astype("float32")))
    return out


def _run(metric, batches, weighted=True):
    for y_true, y_pred, sw in batches:
        metric.update_state(y_true, y_pred, sample_weight=sw if weighted else None)
    return np.asarray(metric.result())


def _weighted_mean(values, weights):
    return (values * weights).sum() / weights.sum()


@pytest.mark.parametrize("weighted", [False, True])
def test_accuracies(weighted):
    batches = _batches()
    labels = np.concatenate([b[0] for b in batches])
    probs = np.concatenate([b[1] for b in batches])
    sw = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(labels))
    onehot = np.eye(4)[labels]
    hits = (probs.argmax(-1) == labels).astype(float)
    np.testing.assert_allclose(
        _run(metrics.SparseCategoricalAccuracy(), batches, weighted), _weighted_mean(hits, sw),
        rtol=1e-6)  # fmt: skip
    cat = [(np.eye(4)[y], p, w) for y, p, w in batches]
    np.testing.assert_allclose(_run(metrics.CategoricalAccuracy(), cat, weighted),
                               _weighted_mean(hits, sw), rtol=1e-6)  # fmt: skip
    rank = (probs > probs[np.arange(len(labels)), labels][:, None]).sum(-1)
    for k in (1, 2, 3):
        want = _weighted_mean((rank < k).astype(float), sw)
        got = _run(metrics.SparseTopKCategoricalAccuracy(k=k), batches, weighted)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        got = _run(metrics.TopKCategoricalAccuracy(k=k), cat, weighted)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # binary, threshold 0.3, labels (B, 1) against predictions (B, 1)
    col = [(y[:, None] % 2, p[:, :1], w) for y, p, w in batches]
    bin_hits = ((probs[:, :1] > 0.3).astype(float) == (labels[:, None] % 2)).mean(-1)
    np.testing.assert_allclose(_run(metrics.BinaryAccuracy(threshold=0.3), col, weighted),
                               _weighted_mean(bin_hits, sw), rtol=1e-6)  # fmt: skip
    exact = [(y, (p.argmax(-1)), w) for y, p, w in batches]
    np.testing.assert_allclose(_run(metrics.Accuracy(), exact, weighted),
                               _weighted_mean(hits, sw), rtol=1e-6)  # fmt: skip
    assert onehot.shape == probs.shape


def test_accuracy_functions_per_sample():
    y = np.array([0, 2, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(y, p), [1, 1, 0])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(y[:, None], p), [1, 1, 0])
    np.testing.assert_array_equal(metrics.categorical_accuracy(np.eye(3)[y], p), [1, 1, 0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(y, p, k=2), [1, 1, 1])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(3)[y], p, k=1),
                                  [1, 1, 0])  # fmt: skip
    np.testing.assert_array_equal(
        metrics.binary_accuracy(np.array([[1], [0]]), np.array([[0.6], [0.6]])), [[1], [0]]
    )
    sorted_ids = np.argsort(-p, axis=-1)
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(y, sorted_ids, k=1, from_sorted_ids=True),
        [1, 1, 0])  # fmt: skip


def test_mean_and_sum_weights_broadcast_like_keras():
    values = RNG.normal(size=(4, 3))
    sw = RNG.uniform(0, 1, 4)
    m = metrics.Mean()
    m.update_state(values, sample_weight=sw)
    m.update_state(values[:2])
    # a (B,) weight scales each row's mean; unweighted rows count once
    want = ((values.mean(-1) * sw).sum() + values[:2].mean(-1).sum()) / (sw.sum() + 2)
    np.testing.assert_allclose(m.result(), want, rtol=1e-6)
    s = metrics.Sum()
    s.update_state(values, sample_weight=sw)
    s.update_state(5.0)
    np.testing.assert_allclose(s.result(), (values.sum(-1) * sw).sum() + 5.0, rtol=1e-6)
    full = RNG.uniform(0, 1, (4, 3))
    m = metrics.Mean()
    m.update_state(values, sample_weight=full)
    np.testing.assert_allclose(m.result(), (values * full).sum() / full.sum(), rtol=1e-6)
    assert float(metrics.Mean().result()) == 0.0  # empty: 0, not NaN


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics(weighted):
    batches = [(RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3)), RNG.uniform(0, 2, 5))
               for _ in range(3)]  # fmt: skip
    t = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    sw = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(t))
    err = t - p
    cases = {
        metrics.MeanSquaredError: _weighted_mean((err**2).mean(-1), sw),
        metrics.MeanAbsoluteError: _weighted_mean(np.abs(err).mean(-1), sw),
        metrics.RootMeanSquaredError: np.sqrt(_weighted_mean((err**2).mean(-1), sw)),
        metrics.MeanAbsolutePercentageError: _weighted_mean(
            100 * np.abs(err / np.abs(t)).mean(-1), sw),
        metrics.LogCoshError: _weighted_mean(np.log(np.cosh(err)).mean(-1), sw),
        metrics.CosineSimilarity: _weighted_mean(
            (t * p).sum(-1) / np.linalg.norm(t, axis=-1) / np.linalg.norm(p, axis=-1), sw),
    }  # fmt: skip
    for cls, want in cases.items():
        np.testing.assert_allclose(_run(cls(), batches, weighted), want, rtol=2e-5, err_msg=cls)


def _np_r2(t, p, w):
    w = np.broadcast_to(w[:, None], t.shape)
    mean = (w * t).sum(0) / w.sum(0)
    ss_tot = (w * (t - mean) ** 2).sum(0)
    ss_res = (w * (t - p) ** 2).sum(0)
    return 1 - ss_res / ss_tot, ss_tot


@pytest.mark.parametrize("weighted", [False, True])
def test_r2_score(weighted):
    batches = [(RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3)), RNG.uniform(0, 2, 6))
               for _ in range(3)]  # fmt: skip
    t = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(t))
    raw, ss_tot = _np_r2(t, p, w)
    np.testing.assert_allclose(_run(metrics.R2Score(), batches, weighted), raw.mean(), rtol=1e-4)
    np.testing.assert_allclose(_run(metrics.R2Score(class_aggregation=None), batches, weighted),
                               raw, rtol=1e-4)  # fmt: skip
    got = _run(metrics.R2Score(class_aggregation="variance_weighted_average"), batches, weighted)
    np.testing.assert_allclose(got, (raw * ss_tot).sum() / ss_tot.sum(), rtol=1e-4)
    n = t.size  # Keras counts every entry as a sample
    got = _run(metrics.R2Score(num_regressors=2), batches, weighted)
    np.testing.assert_allclose(got, 1 - (1 - raw.mean()) * (n - 1) / (n - 2 - 1), rtol=1e-4)
    # sklearn agrees on the unweighted single-output case
    sklearn = pytest.importorskip("sklearn.metrics")
    m = metrics.R2Score()
    m.update_state(t[:, 0], p[:, 0])
    np.testing.assert_allclose(m.result(), sklearn.r2_score(t[:, 0], p[:, 0]), rtol=1e-4)


def _np_counts(labels, preds, weights, thresholds):
    pos = preds[None, :] > np.asarray(thresholds)[:, None]
    lab = labels.astype(bool)[None, :]
    return {"tp": (pos & lab) @ weights, "fp": (pos & ~lab) @ weights,
            "fn": (~pos & lab) @ weights, "tn": (~pos & ~lab) @ weights}  # fmt: skip


def _binary_batches(n=3, b=20):
    return [(RNG.integers(0, 2, b), RNG.uniform(0, 1, b).astype("float32"),
             RNG.uniform(0, 2, b).astype("float32")) for _ in range(n)]  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True])
def test_precision_recall_and_counts(weighted):
    batches = _binary_batches()
    y = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(y))
    thresholds = [0.2, 0.5, 0.9]
    c = _np_counts(y, p, w, thresholds)
    got = _run(metrics.Precision(thresholds=thresholds), batches, weighted)
    np.testing.assert_allclose(got, c["tp"] / (c["tp"] + c["fp"]), rtol=1e-5)
    got = _run(metrics.Recall(thresholds=thresholds), batches, weighted)
    np.testing.assert_allclose(got, c["tp"] / (c["tp"] + c["fn"]), rtol=1e-5)
    got = _run(metrics.Precision(), batches, weighted)  # default threshold 0.5: a scalar
    assert got.shape == ()
    np.testing.assert_allclose(got, (c["tp"] / (c["tp"] + c["fp"]))[1], rtol=1e-5)
    for cls, key in [(metrics.TruePositives, "tp"), (metrics.FalsePositives, "fp"),
                     (metrics.TrueNegatives, "tn"), (metrics.FalseNegatives, "fn")]:  # fmt: skip
        np.testing.assert_allclose(_run(cls(thresholds=thresholds), batches, weighted), c[key],
                                   rtol=1e-5)  # fmt: skip
    # unsorted thresholds keep their order
    got = _run(metrics.Recall(thresholds=[0.9, 0.2]), batches, weighted)
    np.testing.assert_allclose(got, (c["tp"] / (c["tp"] + c["fn"]))[[2, 0]], rtol=1e-5)


def test_precision_recall_top_k_and_class_id():
    y = np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 1, 1]])
    p = np.array([[0.1, 0.5, 0.3, 0.8], [0.9, 0.2, 0.6, 0.1], [0.2, 0.4, 0.35, 0.3]])
    # top 2 per row are the predicted positives
    top2 = np.zeros_like(p, bool)
    np.put_along_axis(top2, np.argsort(-p, -1)[:, :2], True, -1)
    tp = (top2 & (y == 1)).sum()
    np.testing.assert_allclose(metrics.Precision(top_k=2)(y, p), tp / top2.sum(), rtol=1e-6)
    np.testing.assert_allclose(metrics.Recall(top_k=2)(y, p), tp / (y == 1).sum(), rtol=1e-6)
    col = 2
    pos = p[:, col] > 0.5
    np.testing.assert_allclose(metrics.Precision(class_id=col)(y, p),
                               (pos & (y[:, col] == 1)).sum() / pos.sum(), rtol=1e-6)  # fmt: skip


def _np_auc(y, p, w, num_thresholds=200, curve="ROC", method="interpolation"):
    eps = 1e-7
    th = np.array([0 - eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
                  + [1 + eps], np.float32)  # fmt: skip
    c = _np_counts(y, p, w, th)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    rec = tp / np.maximum(tp + fn, 1e-30)
    if curve == "ROC":
        x, yv = fp / np.maximum(fp + tn, 1e-30), rec
    else:
        x, yv = rec, np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-30), 0)
    if method == "interpolation":
        h = (yv[:-1] + yv[1:]) / 2
    elif method == "minoring":
        h = np.minimum(yv[:-1], yv[1:])
    else:
        h = np.maximum(yv[:-1], yv[1:])
    return ((x[:-1] - x[1:]) * h).sum()


@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_roc_and_pr(method, weighted):
    batches = _binary_batches(4, 50)
    y = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(y))
    got = _run(metrics.AUC(summation_method=method), batches, weighted)
    np.testing.assert_allclose(got, _np_auc(y, p, w, method=method), rtol=1e-5)
    if method != "interpolation":  # PR interpolation: compared with Keras and sklearn below
        got = _run(metrics.AUC(curve="PR", summation_method=method), batches, weighted)
        np.testing.assert_allclose(got, _np_auc(y, p, w, curve="PR", method=method), rtol=1e-5)


def test_auc_close_to_exact_area():
    sklearn = pytest.importorskip("sklearn.metrics")
    y = RNG.integers(0, 2, 2000)
    p = np.clip(0.3 * y + RNG.uniform(0, 0.7, 2000), 0, 1)
    w = RNG.uniform(0.5, 1.5, 2000)
    roc = metrics.AUC(num_thresholds=1000)
    roc.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(roc.result(), sklearn.roc_auc_score(y, p, sample_weight=w),
                               atol=2e-3)  # fmt: skip
    pr = metrics.AUC(num_thresholds=1000, curve="PR")
    pr.update_state(y, p)
    np.testing.assert_allclose(pr.result(), sklearn.average_precision_score(y, p), atol=1e-2)
    logits = metrics.AUC(from_logits=True)
    logits.update_state(y, np.log(p + 1e-6) - np.log1p(-p + 1e-6))
    np.testing.assert_allclose(logits.result(), roc.result(), atol=5e-3)


def test_auc_with_explicit_thresholds():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    m = metrics.AUC(thresholds=[0.3, 0.5])
    assert m.num_thresholds == 4
    m.update_state(y, p)
    th = np.array([-1e-7, 0.3, 0.5, 1 + 1e-7])
    c = _np_counts(y, p, np.ones(4), th)
    x, r = c["fp"] / (c["fp"] + c["tn"]), c["tp"] / (c["tp"] + c["fn"])
    np.testing.assert_allclose(m.result(), ((x[:-1] - x[1:]) * (r[:-1] + r[1:]) / 2).sum(),
                               rtol=1e-6)  # fmt: skip


def _np_f1(y, yp, w, average, beta=1.0):
    w = w[:, None]
    tp, fp, fn = (w * yp * y).sum(0), (w * yp * (1 - y)).sum(0), (w * (1 - yp) * y).sum(0)
    support = (w * y).sum(0)
    if average == "micro":
        tp, fp, fn, support = tp.sum(), fp.sum(), fn.sum(), support.sum()
    eps = 1e-7
    prec, rec = tp / (tp + fp + eps), tp / (tp + fn + eps)
    f = (1 + beta**2) * prec * rec / (beta**2 * prec + rec + eps)
    if average == "weighted":
        return (f * support / (support.sum() + eps)).sum()
    if average in ("micro", "macro"):
        return np.mean(f)
    return f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.4])
@pytest.mark.parametrize("weighted", [False, True])
def test_f1_and_fbeta(average, threshold, weighted):
    batches = [(RNG.integers(0, 2, (8, 3)).astype("float32"),
                RNG.uniform(0, 1, (8, 3)).astype("float32"), RNG.uniform(0, 2, 8))
               for _ in range(3)]  # fmt: skip
    y = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches]) if weighted else np.ones(len(y))
    yp = (p > threshold) if threshold else (p >= p.max(-1, keepdims=True))
    want = _np_f1(y, yp.astype(float), w, average)
    got = _run(metrics.F1Score(average=average, threshold=threshold), batches, weighted)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    got = _run(metrics.FBetaScore(average=average, beta=2.0, threshold=threshold), batches,
               weighted)  # fmt: skip
    np.testing.assert_allclose(got, _np_f1(y, yp.astype(float), w, average, 2.0), rtol=1e-5)


def test_loss_metrics_are_weighted_means_of_the_loss():
    from callax import losses

    y = RNG.integers(0, 3, 10)
    p = RNG.normal(size=(10, 3)).astype("float32")
    w = RNG.uniform(0, 1, 10)
    per = np.asarray(losses.sparse_categorical_crossentropy(y, p, from_logits=True))
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    m.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(m.result(), _weighted_mean(per, w), rtol=1e-5)
    # ignore_class entries leave the mean
    m = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    m.update_state(y, p)
    np.testing.assert_allclose(m.result(), per[y != 0].mean(), rtol=1e-5)


def test_reset_state():
    m = metrics.AUC()
    m.update_state([0, 1], [0.2, 0.9])
    m.reset_state()
    assert all(float(np.abs(np.asarray(v)).sum()) == 0 for v in m.variables)
    f = metrics.F1Score()
    f.update_state(np.eye(3), np.eye(3))
    f.reset_state()
    assert float(np.asarray(f.true_positives).sum()) == 0


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"F1Score 'f1_score': average must be.*'avg'"):
        metrics.F1Score(average="avg")
    with pytest.raises(ValueError, match=r"AUC 'auc': curve must be 'ROC' or 'PR'.*'XY'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match=r"AUC 'auc': num_thresholds must be > 1.*1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"Precision: thresholds must be in \[0, 1\].*1.5"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"F1Score 'f1_score' expects 2D.*\(4,\)"):
        metrics.F1Score().update_state(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'"):
        metrics.get("acuracy")
