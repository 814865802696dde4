"""compile arguments: unknown loss/metric/optimizer names, losses per output,
loss_weights; and the losses/optimizers/metrics registries."""

from __future__ import annotations

from fault_case import OK, C, compiled, dense_model, fit, x

import callax

L = callax.layers
V = ValueError
T = TypeError


def _two_outputs(as_dict=False):
    i = callax.Input((2,), name="a")
    p, q = L.Dense(1, name="p")(i), L.Dense(1, name="q")(i)
    return callax.Model(i, {"p": p, "q": q} if as_dict else [p, q], name="net")


def _fit_compiled(model, y, **compile_kwargs):
    compiled(model, **compile_kwargs)
    return fit(model, x(4, 2), y)


def _seq():
    return dense_model(loss=None)


# fmt: off
CASES = [
    C("compile-unknown-optimizer", lambda: compiled(_seq(), optimizer="adamx"), V, "optimizer", "adamx", "adam"),
    C("compile-int-optimizer", lambda: compiled(_seq(), optimizer=5), V, "optimizer", "5"),
    C("compile-unknown-loss-then-fit", lambda: _fit_compiled(_seq(), x(4, 1), loss="msex"), V, "loss", "msex"),
    C("compile-int-loss-then-fit", lambda: _fit_compiled(_seq(), x(4, 1), loss=5), (V, T), "loss", "5"),
    C("compile-unknown-metric-then-fit", lambda: _fit_compiled(_seq(), x(4, 1), metrics=["accurasy"]), V, "metric", "accurasy"),
    C("compile-int-metric-then-fit", lambda: _fit_compiled(_seq(), x(4, 1), metrics=[5]), (V, T), "metric", "5"),
    C("compile-loss-list-too-long", lambda: _fit_compiled(_two_outputs(), [x(4, 1)] * 2, loss=["mse"] * 3), V, "loss", "one entry per model output", "3 entries"),
    C("compile-loss-list-too-short", lambda: _fit_compiled(_two_outputs(), [x(4, 1)] * 2, loss=["mse"]), V, "loss", "2", "1"),
    C("compile-loss-dict-unknown-key", lambda: _fit_compiled(_two_outputs(True), {"p": x(4, 1), "q": x(4, 1)}, loss={"r": "mse"}), V, "loss", "'r'", "['p', 'q']"),
    C("compile-metrics-dict-unknown-key", lambda: _fit_compiled(_two_outputs(True), {"p": x(4, 1), "q": x(4, 1)}, loss="mse", metrics={"r": ["mae"]}), V, "metrics", "'r'"),
    C("compile-loss-weights-too-long", lambda: _fit_compiled(_seq(), x(4, 1), loss_weights=[1.0, 2.0]), V, "loss_weights", "1", "2"),
    C("compile-loss-weights-unknown-key", lambda: _fit_compiled(_two_outputs(True), {"p": x(4, 1), "q": x(4, 1)}, loss_weights={"r": 1.0}), V, "loss_weights", "'r'"),
    C("compile-loss-weights-str", lambda: _fit_compiled(_seq(), x(4, 1), loss_weights="heavy"), (V, T), "loss_weights", "heavy"),
    C("compile-unknown-kwarg", lambda: compiled(_seq(), bogus=1), T, "bogus"),
    OK("fit-y-dict-missing-output-skips-its-loss", lambda: _fit_compiled(_two_outputs(True), {"p": x(4, 1)}), lambda h: len(h.history["loss"]) == 1 or (_ for _ in ()).throw(AssertionError(h.history))),
    C("fit-y-list-for-single-output", lambda: _fit_compiled(_seq(), [x(4, 1), x(4, 1)]), V, "y"),
    C("optimizers-get-unknown", lambda: callax.optimizers.get("nope"), V, "optimizer", "nope", "sgd"),
    C("losses-get-unknown", lambda: callax.losses.get("nope"), V, "loss", "nope"),
    C("metrics-get-unknown", lambda: callax.metrics.get("nope"), V, "metric", "nope"),
    C("activations-get-unknown", lambda: callax.activations.get("nope"), V, "activation", "nope"),
    C("initializers-get-unknown", lambda: callax.initializers.get("nope"), V, "initializer", "nope"),
    C("optimizers-get-bad-config", lambda: callax.optimizers.get({"class_name": "Nope", "config": {}}), (V, T), "Nope"),
]
# fmt: on
