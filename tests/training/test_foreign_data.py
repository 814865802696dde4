"""fit/evaluate/predict on data from torch, TensorFlow, grain and pandas.

Each source is checked against the same run on the equivalent numpy arrays
(same batches, shuffle off): the learned weights, the evaluated loss and the
predictions must agree to float tolerance.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from data_sources_cases import BATCH, TwoInputs, W, X, Y, assert_same_weights, fresh, split


def _torch():
    return pytest.importorskip("torch", reason="torch DataLoader/tensor inputs need torch")


def _tf():
    return pytest.importorskip("tensorflow", reason="tf.data inputs need TensorFlow")


def _grain():
    return pytest.importorskip("grain", reason="grain dataset inputs need grain")


def _pd():
    return pytest.importorskip("pandas", reason="DataFrame inputs need pandas")


def numpy_run(epochs=2, **fit_kw):
    """The reference: the same model trained on the numpy arrays."""
    model = fresh()
    fit_kw.setdefault("batch_size", BATCH)
    model.fit(X, Y, epochs=epochs, shuffle=False, verbose=0, **fit_kw)
    return model


# --------------------------------------------------------------------- torch


def test_torch_dataloader_fit_evaluate_predict_match_numpy():
    torch = _torch()
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=BATCH)
    model = fresh()
    history = model.fit(loader, epochs=2, verbose=0)
    reference = numpy_run(epochs=2)
    assert_same_weights(model, reference)
    assert len(history.history["loss"]) == 2
    loss = model.evaluate(loader, verbose=0)
    assert loss == pytest.approx(reference.evaluate(X, Y, batch_size=BATCH, verbose=0), rel=1e-5)
    x_only = DataLoader(TensorDataset(torch.tensor(X)), batch_size=BATCH)  # batches [x]
    np.testing.assert_allclose(model.predict(x_only, verbose=0),
                               reference.predict(X, verbose=0), rtol=1e-5, atol=1e-6)  # fmt: skip


def test_class_weight_applies_to_stream_batches_as_to_arrays():
    torch = _torch()
    from torch.utils.data import DataLoader, TensorDataset

    labels = (Y > np.median(Y)).astype("float32")  # classes 0/1, shape (n, 1)
    weights = {0: 1.0, 1: 3.0}
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(labels)), batch_size=BATCH)
    model = fresh()
    model.fit(loader, class_weight=weights, epochs=2, verbose=0)
    reference = fresh()
    reference.fit(X, labels, batch_size=BATCH, class_weight=weights, epochs=2, shuffle=False,
                  verbose=0)  # fmt: skip
    assert_same_weights(model, reference)
    unweighted = fresh()
    unweighted.fit(loader, epochs=2, verbose=0)
    assert not np.allclose(unweighted.get_weights()[0], model.get_weights()[0])


class _DictSamples:
    """A torch map-style dataset of ({"a", "b"}, y) samples (module level: the
    DataLoader's worker processes use it)."""

    def __init__(self, torch):
        self.x = torch.tensor(X)
        self.y = torch.tensor(Y)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"a": self.x[i, :2], "b": self.x[i, 2:]}, self.y[i]


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # torch's workers fork, as in Keras
def test_torch_dataloader_dict_batches_with_workers_to_a_multi_input_model():
    torch = _torch()
    from torch.utils.data import DataLoader

    loader = DataLoader(_DictSamples(torch), batch_size=BATCH, num_workers=2)
    model = fresh(TwoInputs, sample=split(X[:2]))
    model.fit(loader, epochs=2, verbose=0)
    reference = fresh(TwoInputs, sample=split(X[:2]))
    reference.fit(split(X), Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(model, reference)


def test_torch_tensors_as_arrays_batch_size_and_validation_split():
    torch = _torch()
    x = torch.tensor(X, requires_grad=True)  # detached at the edge
    model = fresh()
    history = model.fit(x, torch.tensor(Y), batch_size=4, epochs=2, shuffle=False,
                        validation_split=0.25, verbose=0)  # fmt: skip
    reference = fresh()
    ref_history = reference.fit(X, Y, batch_size=4, epochs=2, shuffle=False,
                                validation_split=0.25, verbose=0)  # fmt: skip
    assert_same_weights(model, reference)
    np.testing.assert_allclose(history.history["val_loss"], ref_history.history["val_loss"],
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_torch_bfloat16_tensor_converts_without_copying_through_float():
    torch = _torch()
    from callax.training.foreign_data import to_numpy

    t = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    a = to_numpy(t)
    assert a.dtype.name == "bfloat16"
    np.testing.assert_array_equal(a.astype("float32"), [1.5, -2.0, 3.25])
    plain = torch.arange(3.0)
    assert np.shares_memory(to_numpy(plain), plain.numpy())  # a view, not a copy


# ------------------------------------------------------------------ tf.data


def test_tf_dataset_fit_evaluate_predict_match_numpy():
    tf = _tf()
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(BATCH)
    model = fresh()
    model.fit(ds, epochs=2, verbose=0)
    reference = numpy_run(epochs=2)
    assert_same_weights(model, reference)
    assert model.evaluate(ds, verbose=0) == pytest.approx(
        reference.evaluate(X, Y, batch_size=BATCH, verbose=0), rel=1e-5
    )
    x_only = tf.data.Dataset.from_tensor_slices(X).batch(BATCH)  # elements are x
    np.testing.assert_allclose(model.predict(x_only, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_tf_dataset_endless_with_steps_per_epoch_continues_across_epochs():
    tf = _tf()
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(BATCH).repeat()  # 5 batches, forever
    model = fresh()
    model.fit(ds, steps_per_epoch=3, epochs=3, verbose=0)
    assert int(np.asarray(model.optimizer.iterations)) == 9
    # epochs read batches 0 1 2 | 3 4 0 | 1 2 3: one stream, as in Keras
    order = [0, 1, 2, 3, 4, 0, 1, 2, 3]
    rows = np.concatenate([np.arange(b * BATCH, (b + 1) * BATCH) for b in order])
    reference = fresh()
    reference.fit(X[rows], Y[rows], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert_same_weights(model, reference)


def test_tf_dataset_endless_without_steps_is_a_clear_error():
    tf = _tf()
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(BATCH).repeat()
    model = fresh()
    with pytest.raises(ValueError, match=r"fit: x is an endless tf.data.Dataset.*steps_per_epoch="):
        model.fit(ds, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data is an endless.*validation_steps="):
        model.fit(X, Y, validation_data=ds, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: x is an endless.*pass steps="):
        model.evaluate(ds, verbose=0)
    assert model.evaluate(ds, steps=2, verbose=0) > 0
    assert model.predict(ds, steps=2, verbose=0).shape == (2 * BATCH, 1)
    assert model._trainer.steps.trace_counts["train"] == 0  # failed before any step


def test_tf_dataset_dict_elements_and_sample_weight_tuples():
    tf = _tf()
    ds = tf.data.Dataset.from_tensor_slices((split(X), Y)).batch(BATCH)
    model = fresh(TwoInputs, sample=split(X[:2]))
    model.fit(ds, epochs=2, verbose=0)
    reference = fresh(TwoInputs, sample=split(X[:2]))
    reference.fit(split(X), Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(model, reference)
    # (x, y, sample_weight) elements
    weighted = tf.data.Dataset.from_tensor_slices((X, Y, W)).batch(BATCH)
    model = fresh()
    model.fit(weighted, epochs=2, verbose=0)
    assert_same_weights(model, numpy_run(epochs=2, sample_weight=W))


def test_foreign_sources_as_validation_data():
    tf, torch = _tf(), _torch()
    from torch.utils.data import DataLoader, TensorDataset

    xv, yv = X[:16], Y[:16]
    reference = numpy_run(epochs=1)
    expected = reference.evaluate(xv, yv, batch_size=BATCH, verbose=0)
    sources = {
        "tf.data": tf.data.Dataset.from_tensor_slices((xv, yv)).batch(BATCH),
        "torch": DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), batch_size=BATCH),
    }
    for name, source in sources.items():
        model = fresh()
        history = model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False,
                            validation_data=source, verbose=0)  # fmt: skip
        assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-5), name


# -------------------------------------------------------------------- grain


def test_grain_map_iter_datasets_and_dataloader_match_numpy():
    grain = _grain()
    samples = [(X[i], Y[i]) for i in range(len(X))]
    map_ds = grain.MapDataset.source(samples).batch(BATCH)
    loader = grain.DataLoader(
        data_source=samples,
        sampler=grain.samplers.IndexSampler(len(samples), shuffle=False, num_epochs=1),
        operations=[grain.transforms.Batch(BATCH)], worker_count=0,
    )  # fmt: skip
    reference = numpy_run(epochs=2)
    for source in (map_ds, map_ds.to_iter_dataset(), loader):
        model = fresh()
        model.fit(source, epochs=2, verbose=0)
        assert_same_weights(model, reference)
    np.testing.assert_allclose(model.predict(map_ds, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    endless = grain.MapDataset.source(samples).repeat().batch(BATCH)
    with pytest.raises(ValueError, match="endless grain"):
        fresh().fit(endless, verbose=0)
    assert fresh().fit(endless, steps_per_epoch=2, verbose=0).history["loss"]


# ------------------------------------------------------------------- pandas


def test_pandas_dataframe_and_series_are_array_data():
    pd = _pd()
    df, series = pd.DataFrame(X, columns=list("abcd")), pd.Series(Y[:, 0])
    model = fresh()
    history = model.fit(df, series.to_frame(), batch_size=4, epochs=2, shuffle=False,
                        validation_split=0.25, verbose=0)  # fmt: skip
    reference = fresh()
    ref_history = reference.fit(X, Y, batch_size=4, epochs=2, shuffle=False,
                                validation_split=0.25, verbose=0)  # fmt: skip
    assert_same_weights(model, reference)
    assert history.history["val_loss"] == pytest.approx(ref_history.history["val_loss"], rel=1e-5)
    np.testing.assert_allclose(model.predict(df, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert model.evaluate(df, series.to_frame(), verbose=0) == pytest.approx(
        reference.evaluate(X, Y, verbose=0), rel=1e-5
    )
    # shuffled: the same permutation as for numpy under the same seed
    from callax.utils import set_random_seed

    runs = []
    for x, y in ((df, series.to_frame()), (X, Y)):
        m = fresh()
        set_random_seed(3)
        m.fit(x, y, batch_size=4, epochs=2, shuffle=True, verbose=0)
        runs.append(m)
    assert_same_weights(*runs)


def test_dict_of_dataframes_feeds_a_multi_input_model():
    pd = _pd()
    x = {k: pd.DataFrame(v) for k, v in split(X).items()}
    model = fresh(TwoInputs, sample=split(X[:2]))
    model.fit(x, pd.Series(Y[:, 0]), batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    reference = fresh(TwoInputs, sample=split(X[:2]))
    reference.fit(split(X), Y[:, 0], batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(model, reference)


# --------------------------------------------------------- any iterable


class _ArrayLike:
    """Not numpy, but numpy can read it (``__array__``)."""

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a if dtype is None else self.a.astype(dtype)


class _Batches:
    """A re-iterable of (x, y) batches of array-likes, with a length."""

    def __len__(self):
        return len(X) // BATCH

    def __iter__(self):
        for i in range(len(self)):
            rows = slice(i * BATCH, (i + 1) * BATCH)
            yield _ArrayLike(X[rows]), _ArrayLike(Y[rows])


def test_any_iterable_of_numpy_convertible_batches():
    model = fresh()
    history = model.fit(_Batches(), epochs=2, verbose=0)
    assert_same_weights(model, numpy_run(epochs=2))
    assert len(history.history["loss"]) == 2


def test_one_shot_generator_stops_training_with_a_warning_when_exhausted():
    model = fresh()
    batches = ((X[i : i + BATCH], Y[i : i + BATCH]) for i in range(0, len(X), BATCH))
    with pytest.warns(UserWarning, match="ran out of data after 0 batches"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert history.epoch == [0]  # epoch 1 used the whole generator; training stopped
    assert_same_weights(model, numpy_run(epochs=1))


def test_libraries_are_never_imported_to_classify_data():
    """A program that does not use torch/TensorFlow/pandas/grain never loads them."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import callax as keras
        x = np.random.rand(16, 3).astype("float32")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        model.fit(x, x[:, :1], verbose=0)
        model.fit(((x, x[:, :1]) for _ in range(2)), verbose=0)
        model.predict((x[i : i + 4] for i in range(0, 16, 4)), verbose=0)
        model.fit({"x": x}["x"], x[:, :1], validation_split=0.5, verbose=0)
        loaded = [m for m in ("torch", "tensorflow", "pandas", "grain") if m in sys.modules]
        assert not loaded, loaded
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_plain_numpy_fit_keeps_the_device_resident_path():
    from callax.training.data_adapters import ArrayDataAdapter, get_data_adapter
    from callax.training.epoch_iterator import EpochIterator, Gather

    adapter = get_data_adapter(X, Y, None, BATCH, True)
    assert type(adapter) is ArrayDataAdapter
    item = next(iter(EpochIterator(adapter, resident=True)))
    assert isinstance(item[2], Gather)  # rows gathered on the device, no host batches
