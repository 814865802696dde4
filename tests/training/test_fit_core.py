"""fit/evaluate/predict: accuracy, determinism, steps_per_execution, tracing, training flag."""

import jax
import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel

import callax as keras


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_fit_digits_reaches_95_percent(digits):
    xtr, ytr, xte, yte = digits
    keras.utils.set_random_seed(0)
    model = SimpleSequentialModel()
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    history = model.fit(xtr, ytr, batch_size=64, epochs=8, validation_split=0.1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(xte, yte, verbose=0)
    assert acc >= 0.95
    probs = model.predict(xte, verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (len(xte), 10)
    assert np.mean(probs.argmax(1) == yte) == pytest.approx(acc, abs=1e-6)


def _dropout_run(digits, steps_per_execution=1, batch_size=48):
    xtr, ytr, _, _ = digits
    keras.utils.set_random_seed(123)
    model = ConditionalModel()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  steps_per_execution=steps_per_execution)  # fmt: skip
    model.fit(xtr[:500], ytr[:500], batch_size=batch_size, epochs=2, verbose=0)  # shuffled
    return model


def test_same_seed_gives_bit_identical_weights(digits):
    a, b = _dropout_run(digits), _dropout_run(digits)
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)
    c = ConditionalModel.__new__(ConditionalModel)  # a different seed must differ
    keras.utils.set_random_seed(7)
    c = ConditionalModel()
    c.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    c.fit(digits[0][:500], digits[1][:500], batch_size=48, epochs=2, verbose=0)
    assert not np.array_equal(_weights(a)[0], _weights(c)[0])


def test_steps_per_execution_8_matches_1(digits):
    # 500 samples / 48 = 10 full batches + a ragged one: one scan of 8, then singles
    one, eight = _dropout_run(digits, 1), _dropout_run(digits, 8)
    assert eight._trainer.steps.trace_counts["train"] == 3  # scan, single full, ragged
    for w1, w8 in zip(_weights(one), _weights(eight)):
        np.testing.assert_allclose(w1, w8, rtol=1e-6, atol=1e-6)


def test_no_recompile_on_second_epoch_or_second_fit(digits):
    xtr, ytr, xte, yte = digits
    model = SimpleSequentialModel()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    counts = model._trainer.steps.trace_counts
    model.fit(xtr[:100], ytr[:100], batch_size=32, epochs=3, verbose=0)  # 3 full + ragged 4
    assert counts["train"] == 2
    model.fit(xtr[:100], ytr[:100], batch_size=32, epochs=2, verbose=0)
    assert counts["train"] == 2
    model.evaluate(xte, yte, batch_size=100, verbose=0)
    model.evaluate(xte, yte, batch_size=100, verbose=0)
    assert counts["test"] == 2
    model.predict(xte, batch_size=100, verbose=0)
    model.predict(xte, batch_size=100, verbose=0)
    assert counts["predict"] == 2


class FlagProbe(keras.layers.Dropout):
    """A Dropout that records the training flag it sees (at trace time)."""

    seen: list = []

    def call(self, inputs, training=False):
        FlagProbe.seen.append(training)
        return super().call(inputs, training=training)


class Block(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(8)
        self.drop = FlagProbe(0.5)

    def call(self, x):  # no `training` parameter, and none forwarded
        return self.drop(self.dense(x))


class NoTrainingArgModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.block(x))


def test_training_flag_reaches_nested_dropout():
    x = np.random.rand(16, 4).astype("float32")
    y = np.random.rand(16, 1).astype("float32")
    model = NoTrainingArgModel()
    model.compile(optimizer="sgd", loss="mse")
    FlagProbe.seen = []
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert FlagProbe.seen and all(f is True for f in FlagProbe.seen[1:])  # [0]: symbolic build
    FlagProbe.seen = []
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert FlagProbe.seen and all(f is False for f in FlagProbe.seen)
    # the probe really drops in training: predictions differ from a training forward pass
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    train_out, _ = model.stateless_call(tv, ntv, x, training=True)
    assert not np.allclose(np.asarray(train_out), model.predict(x, verbose=0))


def test_run_eagerly_runs_op_by_op_and_matches_jit():
    x = np.random.rand(20, 3).astype("float32")
    y = x.sum(1, keepdims=True)
    seen_types = []

    class Probe(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, kernel_initializer="ones")

        def call(self, x):
            seen_types.append(type(x).__name__)
            return self.dense(x)

    results, kinds = [], []
    for eager in (True, False):
        seen_types.clear()
        model = Probe()
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", run_eagerly=eager)
        model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
        results.append(_weights(model))
        kinds.append(list(seen_types[1:]))  # [0] is the symbolic build
    # eager: `call` runs for every step on concrete arrays; jit: traced once
    assert kinds[0] == ["ArrayImpl"] * 4
    assert kinds[1] == ["DynamicJaxprTracer"]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_state_written_back_and_donated_arrays_not_leaked(digits):
    xtr, ytr, _, _ = digits
    model = SimpleSequentialModel()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr[:128], ytr[:128], batch_size=32, epochs=1, verbose=0)
    for v in model.variables + model.optimizer.variables + model.metrics_variables:
        assert not v.value.is_deleted()
    assert int(np.asarray(model.optimizer.iterations)) == 4
    # metrics hold the epoch's values after fit, as in Keras
    assert 0 < float(model.metrics[0].result())
    jax.block_until_ready(model.predict(xtr[:5], verbose=0))


def test_fit_a_model_without_trainable_weights_runs_its_added_losses():
    """keras.io subclassing guide: a model made only of an add_loss layer fits."""

    class ActivityRegularization(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * keras.ops.mean(inputs))
            return inputs

    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, ActivityRegularization()(inputs))
    model.compile(optimizer="adam", loss="mse")
    x, y = np.full((4, 3), 2.0, "float32"), np.zeros((4, 3), "float32")
    history = model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [4.0 + 0.02] * 2, rtol=1e-5)
