"""fit / evaluate / predict data: lengths, dtypes, NaN/Inf, empty, ragged, dict
keys, generators, validation_split, class_weight, sample_weight, batch_size."""

from __future__ import annotations

import numpy as np
from fault_case import OK, C, compiled, dense_model, fit, x

import callax

L = callax.layers
V = ValueError
T = TypeError


def _dict_model():
    i = callax.Input((2,), name="a")
    return compiled(callax.Model({"a": i}, L.Dense(1, name="d")(i), name="net"))


def _two_out_model():
    i = callax.Input((2,), name="a")
    out = {"p": L.Dense(1, name="p")(i), "q": L.Dense(1, name="q")(i)}
    return compiled(callax.Model(i, out, name="net"))


def _classifier():
    return dense_model(3, loss="sparse_categorical_crossentropy")


def _gen_raises():
    yield x(2, 2), x(2, 1)
    raise RuntimeError("boom in the user's generator")


def _gen_bad_features():
    yield x(2, 2), x(2, 1)
    yield x(2, 3), x(2, 1)


def _gen_varying_batch():
    yield x(2, 2), x(2, 1)
    yield x(3, 2), x(3, 1)


def _gen_scalar():
    yield 5


def _gen_x_only():
    for _ in range(2):
        yield (x(2, 2),)


def _history_len(n):
    def check(history):
        lengths = {k: len(v) for k, v in history.history.items()}
        assert all(v == n for v in lengths.values()), lengths

    return check


def _nan_x():
    return np.array([[1.0, np.nan], [0.0, 1.0]], "float32")


def _inf_y():
    return np.array([[np.inf], [1.0]], "float32")


def _stop_history(h):
    assert h.history == {} or all(len(v) == 0 for v in h.history.values()), h.history


# fmt: off
CASES = [
    # Lengths
    C("fit-x-y-length-mismatch", lambda: fit(dense_model(), x(4, 2), x(5, 1)), V, "fit", "x has 4", "y has 5"),
    C("fit-sample-weight-length", lambda: fit(dense_model(), x(4, 2), x(4, 1), sample_weight=x(3)), V, "sample_weight has 3", "x has 4"),
    C("evaluate-x-y-length-mismatch", lambda: dense_model().evaluate(x(4, 2), x(3, 1), verbose=0), V, "evaluate", "x has 4", "y has 3"),
    C("train-on-batch-length-mismatch", lambda: dense_model().train_on_batch(x(4, 2), x(3, 1)), V, "train_on_batch", "x has 4", "y has 3"),
    C("test-on-batch-length-mismatch", lambda: dense_model().test_on_batch(x(4, 2), x(3, 1)), V, "test_on_batch", "x has 4", "y has 3"),
    C("fit-ragged-list-of-inputs", lambda: fit(dense_model(), [[1, 2], [3]], x(2, 1)), V, "x[0] has 2", "x[1] has 1"),
    # Shapes and dtypes
    C("fit-wrong-feature-dim", lambda: fit(dense_model(), x(4, 3), x(4, 1)), V, "(None, 2)", "(4, 3)"),
    C("fit-validation-wrong-feature-dim", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_data=(x(4, 3), x(4, 1))), V, "(4, 3)"),
    C("fit-validation-data-scalar", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_data=5), V, "validation_data", "scalar"),
    C("fit-validation-data-4-tuple", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_data=(x(4, 2), x(4, 1), x(4), 1)), V, "(x, y, sample_weight)", "4 elements"),
    C("predict-on-batch-str", lambda: dense_model().predict_on_batch("x"), (V, T), "predict_on_batch", "'x'"),
    C("fit-string-features", lambda: fit(dense_model(), np.array([["a", "b"]] * 4), x(4, 1)), (V, T), "str"),
    C("fit-sparse-loss-string-labels", lambda: fit(_classifier(), x(4, 2), np.array(["a", "b", "a", "c"])), (V, T), "label", "str"),
    # NaN / Inf (the existing checks)
    C("fit-nan-in-x", lambda: fit(dense_model(), _nan_x(), x(2, 1)), V, "NaN", "x", "index (0, 1)", "allow_nan"),
    C("fit-nan-in-validation-x", lambda: fit(dense_model(), x(2, 2), x(2, 1), validation_data=(_nan_x(), x(2, 1))), V, "validation_data", "NaN"),
    C("evaluate-nan-in-x", lambda: dense_model().evaluate(_nan_x(), x(2, 1), verbose=0), V, "evaluate", "NaN"),
    OK("fit-inf-in-y-accepted", lambda: fit(dense_model(), x(2, 2), _inf_y()), _history_len(1)),
    OK("predict-nan-accepted", lambda: dense_model().predict(_nan_x(), verbose=0), lambda y: y.shape == (2, 1) or (_ for _ in ()).throw(AssertionError(y.shape))),
    OK("fit-nan-allowed", lambda: fit(dense_model(), _nan_x(), x(2, 1), allow_nan=True), _history_len(1)),
    # Empty data and sizes (H1 rows)
    C("fit-zero-samples", lambda: fit(dense_model(), x(0, 2), x(0, 1)), V, "fit", "0", "sample"),
    C("predict-zero-samples", lambda: dense_model().predict(x(0, 2), verbose=0), V, "predict", "0", "sample"),
    C("fit-none-x", lambda: fit(dense_model(), None, x(4, 1)), (V, T), "x", "None"),
    C("predict-negative-batch-size", lambda: dense_model().predict(x(4, 2), batch_size=-4, verbose=0), V, "batch_size", "-4"),
    C("fit-zero-batch-size", lambda: fit(dense_model(), x(4, 2), x(4, 1), batch_size=0), V, "batch_size", "0"),
    C("fit-float-batch-size", lambda: fit(dense_model(), x(4, 2), x(4, 1), batch_size=2.5), (V, T), "batch_size", "2.5"),
    C("fit-str-batch-size", lambda: fit(dense_model(), x(4, 2), x(4, 1), batch_size="8"), (V, T), "batch_size", "'8'"),
    # Dicts
    C("fit-dict-x-wrong-key", lambda: fit(_dict_model(), {"b": x(4, 2)}, x(4, 1)), V, "'net'", "lacks ['a']", "['b']"),
    C("fit-dict-y-wrong-key", lambda: fit(_two_out_model(), x(4, 2), {"p": x(4, 1), "r": x(4, 1)}), (V, KeyError), "'r'"),
    # Generators
    C("fit-generator-raises", lambda: fit(dense_model(), _gen_raises()), RuntimeError, "boom in the user's generator"),
    C("fit-generator-inconsistent-features", lambda: fit(dense_model(), _gen_bad_features()), V, "(2, 3)"),
    OK("fit-generator-varying-batch-size", lambda: fit(dense_model(), _gen_varying_batch()), _history_len(1)),
    C("fit-generator-yields-scalar", lambda: fit(dense_model(), _gen_scalar()), V, "(x, y)", "x only: int"),
    C("fit-generator-x-only-with-loss", lambda: fit(dense_model(), _gen_x_only()), V, "y", "loss"),
    # validation_split
    C("fit-validation-split-above-one", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_split=1.5), V, "validation_split", "(0, 1)", "1.5"),
    C("fit-validation-split-negative", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_split=-0.1), V, "validation_split", "-0.1"),
    C("fit-validation-split-one", lambda: fit(dense_model(), x(4, 2), x(4, 1), validation_split=1.0), V, "validation_split", "1.0"),
    C("fit-validation-split-generator", lambda: fit(dense_model(), _gen_varying_batch(), validation_split=0.5), V, "validation_split"),
    # class_weight
    C("fit-class-weight-list", lambda: fit(_classifier(), x(4, 2), np.zeros(4), class_weight=[1, 2]), (T, V), "class_weight", "dict", "list"),
    C("fit-class-weight-str-value", lambda: fit(_classifier(), x(4, 2), np.zeros(4), class_weight={0: 1, 1: "x"}), (T, V), "class_weight", "'x'"),
    C("fit-class-weight-multi-output", lambda: fit(_two_out_model(), x(4, 2), {"p": x(4, 1), "q": x(4, 1)}, class_weight={0: 1.0}), V, "class_weight"),
    # Other fit arguments
    C("fit-unknown-kwarg", lambda: dense_model().fit(x(4, 2), x(4, 1), bogus=1), T, "bogus"),
    C("fit-bad-verbose", lambda: fit(dense_model(), x(4, 2), x(4, 1), verbose="loud"), V, "verbose", "loud"),
    OK("fit-zero-epochs", lambda: fit(dense_model(), x(4, 2), x(4, 1), epochs=0), _stop_history),
    OK("fit-initial-epoch-past-epochs", lambda: fit(dense_model(), x(4, 2), x(4, 1), initial_epoch=3, epochs=2), _stop_history),
    C("fit-uncompiled", lambda: fit(dense_model(loss=None), x(4, 2), x(4, 1)), V, "compile()", "fit()"),
    C("evaluate-uncompiled", lambda: dense_model(loss=None).evaluate(x(4, 2), x(4, 1), verbose=0), V, "compile()", "evaluate()"),
    OK("predict-uncompiled", lambda: dense_model(loss=None).predict(x(4, 2), verbose=0), lambda y: y.shape == (4, 1) or (_ for _ in ()).throw(AssertionError(y.shape))),
]
# fmt: on
