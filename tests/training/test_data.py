"""Data handling: validation errors, structures, generators, PyDataset, weights."""

import numpy as np
import pytest
from example3_multi_input import MultiInputModel

import callax as keras


class Net(keras.Model):
    def __init__(self, units=3, activation="softmax"):
        super().__init__()
        self.dense = keras.layers.Dense(units, activation=activation)

    def call(self, x):
        return self.dense(x)


def compiled(loss="sparse_categorical_crossentropy", **kw):
    model = Net(**kw)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=["accuracy"])
    return model


X = np.random.default_rng(0).random((20, 4)).astype("float32")
Y = np.arange(20) % 3


def test_length_mismatch_is_reported_before_any_step():
    model = compiled()
    with pytest.raises(ValueError, match=r"same number of samples.*x has 20.*y has 19"):
        model.fit(X, Y[:19], verbose=0)
    assert model._trainer.steps.trace_counts["train"] == 0


def test_sparse_labels_out_of_range():
    model = compiled()
    with pytest.raises(ValueError, match=r"integer labels in \[0, 3\).*from 0 to 5"):
        model.fit(X, np.where(Y == 2, 5, Y), verbose=0)
    with pytest.raises(ValueError, match="looks one-hot"):
        model.fit(X, np.eye(3)[Y], verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        compiled(loss="categorical_crossentropy").fit(X, Y, verbose=0)
    assert model._trainer.steps.trace_counts["train"] == 0


def test_nan_inputs_rejected_unless_allowed():
    model = compiled()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN.*index \(3, 1\).*allow_nan=True"):
        model.fit(bad, Y, verbose=0)
    history = model.fit(bad, Y, verbose=0, allow_nan=True)
    assert np.isnan(history.history["loss"][0])


def test_tuple_x_maps_to_positional_inputs_of_call():
    x1 = np.random.rand(32, 16).astype("float32")
    x2 = np.random.rand(32, 16).astype("float32")
    y = np.arange(32) % 10
    model = MultiInputModel()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit((x1, x2), y, batch_size=8, epochs=1, verbose=0)
    out = model.predict((x1, x2), verbose=0)
    np.testing.assert_allclose(out, np.asarray(model(x1, x2)), rtol=1e-5, atol=1e-6)
    assert model.predict_on_batch((x1, x2)).shape == (32, 10)


class TwoHeads(keras.Model):
    def __init__(self):
        super().__init__()
        self.a = keras.layers.Dense(1)
        self.b = keras.layers.Dense(3, activation="softmax")

    def call(self, inputs):
        h = keras.ops.concatenate([inputs["left"], inputs["right"]], axis=-1)
        return {"reg": self.a(h), "cls": self.b(h)}


def test_dict_inputs_and_outputs_with_per_output_losses_weights_metrics():
    x = {"left": X[:, :2], "right": X[:, 2:]}
    y = {"reg": X.sum(1, keepdims=True), "cls": Y}
    model = TwoHeads()
    model.compile(
        optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 2.0, "cls": 0.5}, metrics={"cls": ["accuracy"]},
    )  # fmt: skip
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(2.0 * logs["reg_loss"] + 0.5 * logs["cls_loss"], rel=1e-5)
    pred = model.predict(x, verbose=0)
    mse = np.mean((pred["reg"] - y["reg"]) ** 2)
    assert logs["reg_loss"] == pytest.approx(mse, rel=1e-5)
    acc = np.mean(pred["cls"].argmax(1) == Y)
    assert logs["cls_accuracy"] == pytest.approx(acc)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_generator_pydataset_and_arrays_agree():
    batches = [(X[i : i + 5], Y[i : i + 5]) for i in range(0, 20, 5)]

    class DS(keras.utils.PyDataset):
        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            return batches[i]

    results = []
    for data in ("arrays", "generator", "pydataset"):
        keras.utils.set_random_seed(1)
        model = compiled()
        if data == "arrays":
            model.fit(X, Y, batch_size=5, shuffle=False, epochs=1, verbose=0)
        elif data == "generator":
            model.fit((b for b in batches), epochs=1, verbose=0)
        else:
            model.fit(DS(workers=2), shuffle=False, epochs=1, verbose=0)
        results.append(model.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_generator_with_steps_per_epoch_continues_across_epochs():
    def forever():
        while True:
            for i in range(0, 20, 5):
                yield X[i : i + 5], Y[i : i + 5]

    model = compiled()
    history = model.fit(forever(), steps_per_epoch=3, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert int(np.asarray(model.optimizer.iterations)) == 9


def test_sample_weight_and_class_weight():
    model = compiled()
    w = (Y == 0).astype("float32")
    full = model.evaluate(X, Y, verbose=0, return_dict=True)["loss"]
    weighted = model.evaluate(X, Y, sample_weight=w, verbose=0, return_dict=True)["loss"]
    probs = model.predict(X, verbose=0)
    per_sample = -np.log(probs[np.arange(20), Y])
    assert full == pytest.approx(per_sample.mean(), rel=1e-5)
    assert weighted == pytest.approx((per_sample * w).sum() / 20, rel=1e-5)
    # class_weight {0: 1, others: 0} trains exactly like that sample weight
    a, b = compiled(), compiled()
    a(X[:1]), b(X[:1])
    b.set_weights(a.get_weights())
    a.fit(X, Y, sample_weight=w, shuffle=False, verbose=0)
    b.fit(X, Y, class_weight={0: 1.0, 1: 0.0, 2: 0.0}, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_validation_freq_initial_epoch_and_split():
    model = compiled()
    history = model.fit(X, Y, epochs=4, initial_epoch=1, validation_split=0.25,
                        validation_freq=[2, 4], verbose=0)  # fmt: skip
    assert history.epoch == [1, 2, 3]
    assert len(history.history["loss"]) == 3
    assert len(history.history["val_loss"]) == 2  # after epochs 2 and 4 (1-based)


def test_on_batch_methods_return_keras_shapes():
    model = compiled()
    out = model.train_on_batch(X, Y)
    assert isinstance(out, list) and len(out) == 2
    logs = model.train_on_batch(X, Y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert int(np.asarray(model.optimizer.iterations)) == 2
    assert isinstance(model.test_on_batch(X, Y), list)
    assert model.predict_on_batch(X).shape == (20, 3)
    loss_only = Net()
    loss_only.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(loss_only.evaluate(X, Y, verbose=0), float)


def test_uncompiled_fit_raises_clear_error():
    with pytest.raises(ValueError, match=r"must call `compile\(\)` before `fit\(\)`"):
        Net().fit(X, Y, verbose=0)


@pytest.mark.parametrize("spe", [1, 4])
def test_resident_epoch_sends_index_tables_not_per_step_indices(spe, monkeypatch):
    """Device-resident arrays: each step's batch is a row of an index table
    uploaded once per chunk of steps, and an epoch still visits every sample
    exactly once (across chunk boundaries, with a ragged last batch)."""
    import jax

    from callax.training import epoch_iterator as ei
    from callax.training.data_adapters import get_data_adapter

    monkeypatch.setattr(ei, "_TABLE_ROWS", 16)  # small tables: several per epoch
    n = 2 * ei._TABLE_ROWS * spe + 7  # more steps than one table holds
    x = np.arange(n, dtype="float32")[:, None]
    adapter = get_data_adapter(x, x, None, 1, True, None, caller="fit", allow_nan=False)
    iterator = ei.EpochIterator(adapter, steps_per_execution=spe, resident=True)
    seen, tables = [], set()
    for begin, end, data, steps in iterator:
        assert isinstance(data, ei.Gather) and data.row is not None
        assert data.row.dtype == np.int32 and data.row.shape == ()
        tables.add(id(data.idx))
        assert end - begin + 1 == steps
        rows = np.asarray(jax.device_get(data.take()[0])).reshape(-1)
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(n))
    assert 3 <= len(tables) <= 5  # a few uploads per epoch, not one per step
    assert all(ei._table_rows(shape) <= ei._TABLE_ROWS for shape in [(1,), (spe, 1)])
