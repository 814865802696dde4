"""Categorical focal / generalized CE, Dice, Tversky, Circle and CTC: numpy
formulas, the Keras 3 oracle, configs, and use in compile/fit."""

import warnings

import jax
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import losses

EPS = 1e-7
rng = np.random.default_rng(0)


def _probs(shape):
    x = rng.random(shape).astype("float32") + 0.05
    return x / x.sum(-1, keepdims=True)


def _onehot(n, c):
    return np.eye(c, dtype="float32")[rng.integers(0, c, n)]


# ------------------------------------------------------------------ numpy formulas
def test_categorical_focal_matches_numpy():
    y, p = _onehot(6, 4), _probs((6, 4))
    alpha, gamma = np.array([0.1, 0.2, 0.3, 0.4], "float32"), 1.5
    pc = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    want = np.sum(alpha * (1 - pc) ** gamma * -y * np.log(pc), -1)
    got = losses.categorical_focal_crossentropy(y, p, alpha=alpha, gamma=gamma)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_categorical_focal_logits_and_smoothing():
    y, z = _onehot(5, 3), rng.normal(size=(5, 3)).astype("float32")
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    ys = y * 0.8 + 0.2 / 3
    pc = np.clip(p, EPS, 1 - EPS)
    want = np.sum(0.25 * (1 - pc) ** 2 * -ys * np.log(pc), -1)
    got = losses.categorical_focal_crossentropy(y, z, from_logits=True, label_smoothing=0.2)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_categorical_focal_warns_on_one_column():
    with pytest.warns(SyntaxWarning, match="binary_focal_crossentropy"):
        losses.categorical_focal_crossentropy(np.ones((2, 1)), np.ones((2, 1)))


def test_generalized_ce_matches_numpy():
    labels, p = rng.integers(0, 4, 7), _probs((7, 4))
    want = (1 - p[np.arange(7), labels] ** 0.3) / 0.3
    np.testing.assert_allclose(
        losses.categorical_generalized_cross_entropy(labels, p, q=0.3), want, rtol=1e-5
    )
    loss = losses.CategoricalGeneralizedCrossEntropy(q=0.3)
    np.testing.assert_allclose(loss(labels[:, None], p), want.mean(), rtol=1e-5)


def test_generalized_ce_rejects_bad_q():
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\); received q=1.5"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_dice_and_tversky_match_numpy():
    y = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    p = rng.random((3, 4, 4, 1)).astype("float32")
    ax = (1, 2, 3)
    inter = (y * p).sum(ax)
    np.testing.assert_allclose(
        losses.dice(y, p, axis=ax), 1 - 2 * inter / (y.sum(ax) + p.sum(ax) + EPS), rtol=1e-5
    )
    whole = 1 - 2 * (y * p).sum() / (y.sum() + p.sum() + EPS)
    np.testing.assert_allclose(losses.Dice()(y, p), whole, rtol=1e-5)
    fp, fn = (y * (1 - p)).sum(ax), ((1 - y) * p).sum(ax)
    want = 1 - inter / (inter + 0.3 * fp + 0.7 * fn + EPS)
    np.testing.assert_allclose(losses.tversky(y, p, 0.3, 0.7, axis=ax), want, rtol=1e-5)
    # alpha = beta = 0.5 is Dice
    np.testing.assert_allclose(losses.tversky(y, p, axis=ax), losses.dice(y, p, axis=ax), 1e-5)


def _circle_numpy(labels, emb, gamma=80.0, margin=0.4):
    d = np.maximum(1 - emb @ emb.T, 0)
    pos = (labels[:, None] == labels[None, :]) & ~np.eye(len(labels), dtype=bool)
    neg = labels[:, None] != labels[None, :]
    ap, an = np.maximum(margin + d, 0), np.maximum(1 + margin - d, 0)
    out = []
    for i in range(len(labels)):
        lp = -gamma * ap[i][pos[i]] * (margin - d[i][pos[i]])
        ln = gamma * an[i][neg[i]] * ((1 - margin) - d[i][neg[i]])
        lse = lambda v: np.log(np.sum(np.exp(v - v.max()))) + v.max() if v.size else -np.inf  # noqa: E731
        out.append(np.logaddexp(0, lse(lp) + lse(ln)))
    return np.array(out)


def test_circle_matches_numpy():
    labels = np.array([0, 0, 1, 1, 2, 2])
    emb = rng.normal(size=(6, 5)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    want = _circle_numpy(labels, emb, gamma=10.0)
    np.testing.assert_allclose(losses.circle(labels, emb, gamma=10.0), want, rtol=1e-4)
    # zero-loss queries are masked out of the mean
    np.testing.assert_allclose(
        losses.Circle(gamma=10.0)(labels, emb), want[want > 0].mean(), rtol=1e-4
    )


def _ctc_numpy(labels, logits):
    """Forward algorithm in probability space (float64) over the blank-extended labels."""
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    prob = np.exp(logp.astype("float64"))
    seq = [int(v) for v in labels if v != 0]
    ext = [0]
    for s in seq:
        ext += [s, 0]
    alpha = np.zeros(len(ext))
    alpha[0] = prob[0, 0]
    if len(ext) > 1:
        alpha[1] = prob[0, ext[1]]
    for t in range(1, len(prob)):
        new = np.zeros_like(alpha)
        for s in range(len(ext)):
            a = alpha[s] + (alpha[s - 1] if s > 0 else 0)
            if s > 1 and ext[s] != 0 and ext[s] != ext[s - 2]:
                a += alpha[s - 2]
            new[s] = a * prob[t, ext[s]]
        alpha = new
    return -np.log(alpha[-1] + (alpha[-2] if len(ext) > 1 else 0))


def test_ctc_matches_forward_algorithm():
    labels = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [1, 3, 1, 2]])
    logits = rng.normal(size=(3, 9, 4)).astype("float32")
    want = np.array([_ctc_numpy(lab, lg) for lab, lg in zip(labels, logits)])
    np.testing.assert_allclose(losses.ctc(labels, logits), want, rtol=1e-4)
    np.testing.assert_allclose(losses.CTC()(labels, logits), want.mean(), rtol=1e-4)


def test_ctc_rejects_bad_ranks():
    with pytest.raises(ValueError, match=r"ctc: y_true .*received y_true.shape=\(3,\)"):
        losses.ctc(np.zeros(3), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"ctc: y_pred .*received y_pred.shape=\(3, 4\)"):
        losses.ctc(np.zeros((3, 2)), np.zeros((3, 4)))


def test_gradients_are_finite_and_correct():
    y, p = _onehot(4, 3), _probs((4, 3))
    check_grads(
        lambda q: losses.categorical_focal_crossentropy(y, q), (p,), order=1, atol=1e-2, rtol=1e-2
    )
    labels = np.array([[1, 2, 0]])
    logits = rng.normal(size=(1, 5, 3)).astype("float32")
    g = jax.grad(lambda z: losses.ctc(labels, z).sum())(logits)
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


# ------------------------------------------------------------------- names, configs
NAMES = [
    ("CategoricalFocalCrossentropy", "categorical_focal_crossentropy"),
    ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy"),
    ("Dice", "dice"),
    ("Tversky", "tversky"),
    ("Circle", "circle"),
    ("CTC", "ctc"),
]


@pytest.mark.parametrize("cls_name,fn_name", NAMES)
def test_resolved_by_name_and_round_trip(cls_name, fn_name):
    obj = losses.get(cls_name)
    assert type(obj).__name__ == cls_name and obj.name == fn_name
    assert losses.get(fn_name) is getattr(losses, fn_name)
    back = losses.deserialize(losses.serialize(obj))
    assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_configs_carry_arguments():
    cfg = losses.CategoricalFocalCrossentropy(
        alpha=0.5, gamma=3.0, label_smoothing=0.1
    ).get_config()
    assert cfg["alpha"] == 0.5 and cfg["gamma"] == 3.0 and cfg["label_smoothing"] == 0.1
    assert losses.Tversky(0.2, 0.8, axis=(1, 2)).get_config()["axis"] == (1, 2)
    assert losses.Circle(gamma=5.0).get_config()["gamma"] == 5.0
    assert losses.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}


# --------------------------------------------------------------------- Keras oracle
def _keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize(
    "cls_name,kwargs,make",
    [
        ("CategoricalFocalCrossentropy", {"alpha": 0.4, "gamma": 1.5}, "onehot"),
        ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
        ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, "sparse"),
        ("Dice", {}, "mask"),
        ("Dice", {"axis": (1, 2)}, "mask"),
        ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}, "mask"),
        ("Circle", {"gamma": 20.0}, "embed"),
        ("CTC", {}, "ctc"),
    ],
)
def test_matches_keras(cls_name, kwargs, make):
    keras = _keras()
    if make == "onehot":
        y, p = _onehot(8, 5), _probs((8, 5))
    elif make == "logits":
        y, p = _onehot(8, 5), rng.normal(size=(8, 5)).astype("float32")
    elif make == "sparse":
        y, p = rng.integers(0, 5, 8), _probs((8, 5))
    elif make == "mask":
        y = (rng.random((4, 6, 6)) > 0.5).astype("float32")
        p = rng.random((4, 6, 6)).astype("float32")
    elif make == "embed":
        y = rng.integers(0, 3, 10)
        p = rng.normal(size=(10, 4)).astype("float32")
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    else:
        y = np.array([[1, 2, 0, 0], [2, 2, 3, 0], [4, 0, 0, 0]])
        p = rng.normal(size=(3, 10, 5)).astype("float32")
    sw = rng.random(y.shape[0]).astype("float32")
    ours = getattr(losses, cls_name)(**kwargs)
    theirs = getattr(keras.losses, cls_name)(**kwargs)
    np.testing.assert_allclose(ours(y, p), np.asarray(theirs(y, p)), rtol=2e-5, atol=1e-6)
    if cls_name not in ("Dice", "Tversky") or "axis" in kwargs:
        np.testing.assert_allclose(
            ours(y, p, sample_weight=sw), np.asarray(theirs(y, p, sample_weight=sw)), rtol=2e-5,
            atol=1e-6,
        )  # fmt: skip
    assert ours.get_config() == theirs.get_config()
    # Keras's config builds our class and ours builds Keras's
    assert getattr(losses, cls_name).from_config(theirs.get_config()).get_config() == (
        ours.get_config()
    )


@pytest.mark.parametrize("fn_name", ["categorical_focal_crossentropy", "dice", "tversky"])
def test_functions_match_keras(fn_name):
    keras = _keras()
    y, p = _onehot(6, 4), _probs((6, 4))
    np.testing.assert_allclose(
        getattr(losses, fn_name)(y, p), np.asarray(getattr(keras.losses, fn_name)(y, p)),
        rtol=2e-5,
    )  # fmt: skip


# ----------------------------------------------------------------- compile and fit
class Classifier(callax.Model):
    def __init__(self, units=4):
        super().__init__()
        self.dense = callax.layers.Dense(units, activation="softmax")

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize(
    "loss", ["categorical_focal_crossentropy", "CategoricalFocalCrossentropy", "dice",
             losses.Tversky(alpha=0.3, beta=0.7)],
)  # fmt: skip
def test_fit_by_name_and_object(loss):
    x = rng.normal(size=(32, 6)).astype("float32")
    y = _onehot(32, 4)
    model = Classifier()
    model.compile(optimizer=callax.optimizers.Adam(0.05), loss=loss)
    hist = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_fit_generalized_ce_with_sparse_labels():
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 4, 32)
    model = Classifier()
    model.compile(optimizer=callax.optimizers.Adam(0.05), loss="CategoricalGeneralizedCrossEntropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)
        hist = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


class Sequence(callax.Model):
    def __init__(self):
        super().__init__()
        self.dense = callax.layers.Dense(5)

    def call(self, x):
        return self.dense(x)


def test_fit_ctc_by_object():
    x = rng.normal(size=(16, 8, 3)).astype("float32")
    y = np.tile(np.array([[1, 2, 0]]), (16, 1))
    model = Sequence()
    model.compile(optimizer=callax.optimizers.Adam(0.05), loss=losses.CTC())
    hist = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_saved_model_revives_loss_and_metric_objects(tmp_path):
    """compile_from_config deserializes saved Loss/Metric objects (a config dict is
    not a per-output mapping)."""
    inp = callax.Input((6,))
    model = callax.Model(inp, callax.layers.Dense(4, activation="softmax")(inp))
    model.compile(
        optimizer=callax.optimizers.Adafactor(0.05),
        loss=losses.CategoricalFocalCrossentropy(gamma=3.0),
        metrics=[callax.metrics.OneHotMeanIoU(4)],
    )
    x, y = rng.normal(size=(16, 6)).astype("float32"), _onehot(16, 4)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = callax.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, losses.CategoricalFocalCrossentropy)
    assert loaded.loss.gamma == 3.0
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5)
