"""compile(metrics=...) accepts every kind of identifier Keras accepts."""

import numpy as np

import callax


def test_function_and_data_shaped_metrics_in_evaluate_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.random((200, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 1))).astype("float32")
    model = callax.Sequential([callax.Input((6,)), callax.layers.Dense(1)])
    model.compile(
        "sgd", "mse",
        metrics=["mae", callax.metrics.mean_squared_error, callax.metrics.R2Score()],
    )  # fmt: skip
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    err = pred - y
    assert set(logs) == {"loss", "mae", "mean_squared_error", "r2_score"}
    np.testing.assert_allclose(logs["mae"], np.abs(err).mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["mean_squared_error"], (err**2).mean(), rtol=1e-5)
    r2 = 1 - (err**2).sum() / ((y - y.mean()) ** 2).sum()
    np.testing.assert_allclose(logs["r2_score"], r2, rtol=1e-4)


def test_f1_score_in_fit_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.random((300, 4)).astype("float32")
    y = (x.sum(1, keepdims=True) > 2).astype("float32")
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[callax.metrics.F1Score(threshold=0.5)])
    model.fit(x, y, epochs=2, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0) > 0.5
    t = y > 0.5
    tp, fp, fn = (p & t).sum(), (p & ~t).sum(), (~p & t).sum()
    expected = 2 * tp / max(2 * tp + fp + fn, 1)
    np.testing.assert_allclose(np.ravel(logs["f1_score"])[0], expected, rtol=1e-4, atol=1e-6)


def test_fit_with_ema_ends_with_averaged_weights():
    rng = np.random.default_rng(2)
    x = rng.random((64, 3)).astype("float32")
    y = x.sum(1, keepdims=True).astype("float32")
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    opt = callax.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    model.compile(opt, "mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    averages = [np.asarray(v.value) for v in opt._model_variables_moving_average]
    for w, avg in zip(model.get_weights(), averages):
        np.testing.assert_array_equal(w, avg)
