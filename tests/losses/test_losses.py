"""Losses against numpy formulas written here, at the edges (probabilities 0/1,
huge logits), under jit/grad, and by name/config."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from callax import losses

EPS = 1e-7


def _clip(p):
    # clipped in float32 as the losses compute (1 - 1e-7 rounds to 1 - 1.19e-7)
    return np.clip(np.asarray(p, np.float32), np.float32(EPS), np.float32(1 - EPS)).astype(
        np.float64
    )


RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ numpy refs
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_bce(t, p, from_logits=False, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    if from_logits:
        p = _sigmoid(p.astype(np.float64))
    p = _clip(p)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


def np_focal(t, p, gamma=2.0, alpha=0.25, balance=False, from_logits=False, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    if from_logits:
        p = _sigmoid(p.astype(np.float64))
    pc = _clip(p)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    p_t = t * p + (1 - t) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = (t * alpha + (1 - t) * (1 - alpha)) * out
    return out.mean(-1)


def np_cce(t, p, from_logits=False, ls=0.0):
    t = t * (1 - ls) + ls / t.shape[-1]
    if from_logits:
        p = _softmax(p.astype(np.float64))
    else:
        p = p / p.sum(-1, keepdims=True)
    return -(t * np.log(_clip(p))).sum(-1)


def np_scce(labels, p, from_logits=False):
    onehot = np.eye(p.shape[-1])[labels]
    return np_cce(onehot, p, from_logits)


NP_REGRESSION = {
    "mean_squared_error": lambda t, p: ((t - p) ** 2).mean(-1),
    "mean_absolute_error": lambda t, p: np.abs(t - p).mean(-1),
    "mean_absolute_percentage_error": lambda t, p: (
        100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    ),
    "mean_squared_logarithmic_error": lambda t, p: (
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2
    ).mean(-1),
    "huber": lambda t, p: np.where(
        np.abs(p - t) <= 1.0, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5
    ).mean(-1),
    "log_cosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "cosine_similarity": lambda t, p: (
        -(
            (t / np.linalg.norm(t, axis=-1, keepdims=True))
            * (p / np.linalg.norm(p, axis=-1, keepdims=True))
        ).sum(-1)
    ),
    "kl_divergence": lambda t, p: (
        np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))
    ).sum(-1),
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "hinge": lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1),
    "categorical_hinge": lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0),
}
CLASS_OF = {
    "mean_squared_error": losses.MeanSquaredError,
    "mean_absolute_error": losses.MeanAbsoluteError,
    "mean_absolute_percentage_error": losses.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": losses.MeanSquaredLogarithmicError,
    "huber": losses.Huber,
    "log_cosh": losses.LogCosh,
    "cosine_similarity": losses.CosineSimilarity,
    "kl_divergence": losses.KLDivergence,
    "poisson": losses.Poisson,
    "hinge": losses.Hinge,
    "squared_hinge": losses.SquaredHinge,
    "categorical_hinge": losses.CategoricalHinge,
}


def _data(name, shape=(6, 4)):
    if name in ("kl_divergence",):
        return _softmax(RNG.normal(size=shape)), _softmax(RNG.normal(size=shape))
    if name in ("hinge", "squared_hinge"):
        return RNG.integers(0, 2, shape).astype("float32"), RNG.normal(size=shape)
    if name == "categorical_hinge":
        return np.eye(shape[-1])[RNG.integers(0, shape[-1], shape[0])], RNG.normal(size=shape)
    if name in ("poisson", "mean_squared_logarithmic_error"):
        return RNG.uniform(0, 3, shape), RNG.uniform(0.1, 3, shape)
    return RNG.normal(size=shape), RNG.normal(size=shape)


def np_reduce(values, sample_weight, reduction):
    if sample_weight is not None:
        sw = np.asarray(sample_weight, np.float64)
        if sw.ndim == values.ndim + 1 and sw.shape[-1] == 1:
            # Keras: a rank-1 partner is expanded, otherwise the weight squeezed
            if values.ndim == 1:
                values = values[:, None]
            else:
                sw = sw[..., 0]
        sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
        values = values * sw
    if reduction in ("none", None):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return values.sum() / np.broadcast_to(sw, values.shape).sum()
    return values.sum() / values.size


REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "none", None, "mean_with_sample_weight"]
WEIGHTS = {
    "none": None,
    "scalar": 2.5,
    "per_sample": RNG.uniform(0, 2, 6),
    "per_sample_col": RNG.uniform(0, 2, (6, 1)),
}


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", sorted(NP_REGRESSION))
def test_function_matches_numpy(name):
    t, p = _data(name)
    got = getattr(losses, name)(t.astype("float32"), p.astype("float32"))
    np.testing.assert_allclose(got, NP_REGRESSION[name](t, p), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", sorted(WEIGHTS))
@pytest.mark.parametrize("name", sorted(NP_REGRESSION))
def test_class_reduction_and_weights(name, weight, reduction):
    t, p = _data(name)
    sw = WEIGHTS[weight]
    loss = CLASS_OF[name](reduction=reduction)
    got = loss(t, p, sample_weight=sw)
    want = np_reduce(NP_REGRESSION[name](t, p), sw, reduction)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_crossentropies_match_numpy(from_logits, ls, reduction):
    sw = RNG.uniform(0, 2, 5)
    # binary
    t = RNG.integers(0, 2, (5, 3)).astype("float32")
    p = RNG.normal(size=(5, 3)) if from_logits else RNG.uniform(0, 1, (5, 3))
    got = losses.BinaryCrossentropy(from_logits, ls, reduction=reduction)(t, p, sw)
    np.testing.assert_allclose(got, np_reduce(np_bce(t, p, from_logits, ls), sw, reduction),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    focal = losses.BinaryFocalCrossentropy(True, 0.3, 1.5, from_logits, ls, reduction=reduction)
    want = np_focal(t, p, 1.5, 0.3, True, from_logits, ls)
    np.testing.assert_allclose(focal(t, p, sw), np_reduce(want, sw, reduction), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    # categorical / sparse
    labels = RNG.integers(0, 4, 5)
    t = np.eye(4)[labels]
    p = RNG.normal(size=(5, 4)) if from_logits else _softmax(RNG.normal(size=(5, 4)))
    got = losses.CategoricalCrossentropy(from_logits, ls, reduction=reduction)(t, p, sw)
    np.testing.assert_allclose(got, np_reduce(np_cce(t, p, from_logits, ls), sw, reduction),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    got = losses.SparseCategoricalCrossentropy(from_logits, reduction=reduction)(labels, p, sw)
    np.testing.assert_allclose(got, np_reduce(np_scce(labels, p, from_logits), sw, reduction),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_sparse_labels_with_trailing_axis_and_time_axis():
    p = RNG.normal(size=(3, 5, 4))
    labels = RNG.integers(0, 4, (3, 5))
    want = np_scce(labels, p, True)
    fn = losses.sparse_categorical_crossentropy
    np.testing.assert_allclose(fn(labels, p, from_logits=True), want, rtol=1e-5)
    np.testing.assert_allclose(fn(labels[..., None], p, from_logits=True), want, rtol=1e-5)
    # class axis first: the same numbers
    moved = np.moveaxis(p, -1, 1)
    np.testing.assert_allclose(fn(labels, moved, from_logits=True, axis=1), want, rtol=1e-5)
    # per-timestep weights (3, 5) and per-sample weights (3,) on (3, 5) losses
    sw = RNG.uniform(0, 1, (3, 5))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(loss(labels, p, sw), (want * sw).mean(), rtol=1e-5)
    sw = RNG.uniform(0, 1, 3)
    np.testing.assert_allclose(loss(labels, p, sw), (want * sw[:, None]).mean(), rtol=1e-5)


def test_ignore_class_leaves_entries_out_of_the_mean():
    p = RNG.normal(size=(4, 6, 3))
    labels = RNG.integers(0, 3, (4, 6))
    labels[0, :3] = -1
    labels[2, 4] = -1
    valid = labels != -1
    per = np_scce(np.where(valid, labels, 0), p, True) * valid
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(loss(labels, p), per.sum() / valid.sum(), rtol=1e-5)
    none = losses.SparseCategoricalCrossentropy(True, -1, reduction="none")(labels, p)
    np.testing.assert_allclose(none, per, rtol=1e-5, atol=1e-7)
    # the function alone gives zeros at ignored entries
    fn = losses.sparse_categorical_crossentropy(labels, p, from_logits=True, ignore_class=-1)
    assert float(jnp.abs(fn[~valid]).max()) == 0.0


def test_extreme_probabilities_are_finite_with_finite_grads():
    t = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = np.array([[0.0, 1.0, 1.0, 0.0]])
    for fn in (losses.binary_crossentropy, losses.binary_focal_crossentropy):
        value = fn(t, p)
        assert np.isfinite(value).all()
        np.testing.assert_allclose(value, np_bce(t, p) if fn is losses.binary_crossentropy
                                   else np_focal(t, p), rtol=1e-5)  # fmt: skip
        assert np.isfinite(jax.grad(lambda q, f=fn: f(t, q).sum())(p)).all()
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    probs = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    value = losses.categorical_crossentropy(onehot, probs)
    np.testing.assert_allclose(value, np_cce(onehot, probs), rtol=1e-5)
    assert np.isfinite(jax.grad(lambda q: losses.categorical_crossentropy(onehot, q).sum())(
        probs)).all()  # fmt: skip
    value = losses.sparse_categorical_crossentropy(np.array([0, 1]), probs)
    assert np.isfinite(value).all() and value[0] > 10 and value[1] < 1e-5
    for fn in (losses.kl_divergence, losses.poisson):
        assert np.isfinite(fn(onehot, probs)).all()


def test_huge_logits_are_exact():
    logits = np.array([[200.0, -200.0]], "float32")
    # binary: the wrong side by 200 costs exactly 200
    bce = losses.binary_crossentropy(np.array([[0.0, 1.0]]), logits, from_logits=True)
    np.testing.assert_allclose(bce, [200.0], rtol=1e-6)
    cce = losses.categorical_crossentropy(np.array([[0.0, 1.0]]), logits, from_logits=True)
    np.testing.assert_allclose(cce, [400.0], rtol=1e-6)
    scce = losses.sparse_categorical_crossentropy(np.array([1]), logits, from_logits=True)
    np.testing.assert_allclose(scce, [400.0], rtol=1e-6)
    g = jax.grad(lambda x: losses.binary_crossentropy(np.array([[0.0, 1.0]]), x, True).sum())
    np.testing.assert_allclose(g(logits), [[0.5, -0.5]], rtol=1e-6)
    focal = losses.binary_focal_crossentropy(np.array([[1.0, 0.0]]), logits, from_logits=True)
    assert np.isfinite(focal).all()
    np.testing.assert_allclose(losses.log_cosh(np.zeros((1, 1)), np.array([[1000.0]])),
                               [1000.0 - np.log(2.0)], rtol=1e-6)  # fmt: skip


@pytest.mark.parametrize(
    "fn,kwargs",
    [
        (losses.binary_crossentropy, {"from_logits": True}),
        (losses.categorical_crossentropy, {"from_logits": True, "label_smoothing": 0.1}),
        (losses.huber, {"delta": 0.7}),
        (losses.log_cosh, {}),
        (losses.cosine_similarity, {}),
        (losses.binary_focal_crossentropy, {"from_logits": True}),
    ],
)
def test_gradients_match_finite_differences(fn, kwargs):
    t = RNG.integers(0, 2, (3, 4)).astype("float64")
    p = RNG.normal(size=(3, 4))
    # float32 finite differences: a coarse step and a matching tolerance
    check_grads(lambda q: fn(jnp.asarray(t, "float32"), q, **kwargs),
                (jnp.asarray(p, "float32"),), order=1, modes=["rev"], eps=1e-2, atol=5e-3,
                rtol=5e-3)  # fmt: skip


def test_sparse_gradient_matches_finite_differences():
    labels = jnp.asarray(RNG.integers(0, 4, 5))
    p = jnp.asarray(RNG.normal(size=(5, 4)), "float32")
    check_grads(lambda q: losses.sparse_categorical_crossentropy(labels, q, True), (p,),
                order=1, modes=["rev"], eps=1e-2, atol=5e-3, rtol=5e-3)  # fmt: skip


def test_losses_run_under_jit():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    labels = RNG.integers(0, 3, 8)
    p = RNG.normal(size=(8, 3)).astype("float32")
    sw = RNG.uniform(size=8).astype("float32")
    np.testing.assert_allclose(jax.jit(loss)(labels, p, sw), loss(labels, p, sw), rtol=1e-6)
    mse = losses.MeanSquaredError()
    np.testing.assert_allclose(jax.jit(mse)(p, p + 1.0), 1.0, rtol=1e-6)


def test_binary_labels_as_vector_against_column_output():
    t = RNG.integers(0, 2, 6).astype("float32")
    p = RNG.uniform(0.05, 0.95, (6, 1))
    want = np_bce(t[:, None], p).mean()
    np.testing.assert_allclose(losses.BinaryCrossentropy()(t, p), want, rtol=1e-5)
    np.testing.assert_allclose(losses.MeanSquaredError()(t, p), ((t[:, None] - p) ** 2).mean(),
                               rtol=1e-5)  # fmt: skip


def test_zero_sample_weights_give_zero_not_nan():
    t, p = np.ones((3, 2)), np.zeros((3, 2))
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(loss(t, p, sample_weight=np.zeros(3))) == 0.0


def test_custom_loss_subclass_and_dtype():
    class Cubic(losses.Loss):
        def call(self, y_true, y_pred):
            return jnp.mean((y_pred - y_true) ** 3, axis=-1)

    loss = Cubic(reduction="sum")
    assert loss.name == "cubic" and loss.dtype == "float32"
    assert Cubic().name == "cubic_1"
    got = loss(np.zeros((2, 2)), np.array([[1.0, 2.0], [0.0, 1.0]]))
    np.testing.assert_allclose(got, (1 + 8) / 2 + 1 / 2)
    half = Cubic(dtype="bfloat16")
    assert half.dtype == "bfloat16"
    assert half(np.zeros((2, 2)), np.ones((2, 2))).dtype == jnp.bfloat16


def test_errors_name_the_object_and_what_was_received():
    with pytest.raises(ValueError, match=r"MeanSquaredError 'mean_squared_error'.*reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*same shape.*\(2, 3\)"):
        losses.categorical_crossentropy(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Unknown loss 'msee'"):
        losses.get("msee")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*y_true.shape=\(2, 3\)"):
        losses.sparse_categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="must implement call"):
        losses.Loss()(np.zeros(2), np.zeros(2))


# -------------------------------------------------------- names and configs
def test_get_by_name_alias_class_and_config():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    for alias, fn in [("mape", "mean_absolute_percentage_error"), ("msle",
                      "mean_squared_logarithmic_error"), ("kld", "kl_divergence"),
                      ("bce", "binary_crossentropy"), ("cce", "categorical_crossentropy"),
                      ("scce", "sparse_categorical_crossentropy")]:  # fmt: skip
        assert losses.get(alias) is getattr(losses, fn)
    assert isinstance(losses.get("Huber"), losses.Huber)
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)
    obj = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(obj, losses.CategoricalCrossentropy) and obj.from_logits
    assert losses.get(None) is None
    assert losses.mse is losses.MSE is losses.mean_squared_error


ALL_CLASSES = [
    losses.MeanSquaredError(), losses.MeanAbsoluteError(reduction="sum"),
    losses.MeanAbsolutePercentageError(), losses.MeanSquaredLogarithmicError(name="m"),
    losses.Huber(delta=2.0), losses.LogCosh(), losses.CosineSimilarity(axis=1),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0),
    losses.CategoricalCrossentropy(axis=1), losses.SparseCategoricalCrossentropy(ignore_class=2),
    losses.KLDivergence(), losses.Poisson(reduction=None), losses.Hinge(),
    losses.SquaredHinge(), losses.CategoricalHinge(),
    losses.LossFunctionWrapper(losses.huber, name="h", delta=0.3),
]  # fmt: skip


@pytest.mark.parametrize("loss", ALL_CLASSES, ids=lambda x: type(x).__name__)
def test_config_round_trip(loss):
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == config
    t, p = RNG.integers(0, 2, (4, 3)).astype("float32"), RNG.uniform(0.1, 0.9, (4, 3))
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        t = RNG.integers(0, 3, 4)
    np.testing.assert_allclose(clone(t, p), loss(t, p), rtol=1e-6)


def test_function_serialization():
    config = losses.serialize(losses.poisson)
    assert config == {"module": "builtins", "class_name": "function", "config": "poisson",
                      "registered_name": "function"}  # fmt: skip
    assert losses.deserialize(config) is losses.poisson
    assert losses.deserialize("huber") is losses.huber
