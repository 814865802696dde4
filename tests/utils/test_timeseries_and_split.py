"""timeseries_dataset_from_array against the window formula written out in
numpy, and split_dataset against Keras's size rules."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax.utils import split_dataset, timeseries_dataset_from_array


def _reference(data, targets, length, stride, rate, start, end):
    data = data[start:end]
    targets = None if targets is None else targets[start:end]
    count = len(data) - (length - 1) * rate
    if targets is not None:
        count = min(count, len(targets))
    windows, ys = [], []
    for p in range(0, count, stride):
        windows.append([data[p + k * rate] for k in range(length)])
        if targets is not None:
            ys.append(targets[p])
    return np.array(windows), (None if targets is None else np.array(ys))


@pytest.mark.parametrize("length, stride, rate, batch, start, end", [
    (3, 1, 1, 4, None, None), (5, 2, 3, 7, None, None), (4, 3, 2, 2, 5, 40),
    (1, 1, 1, 128, 2, None), (6, 1, 4, 3, None, 30),
])  # fmt: skip
def test_windows_and_targets(length, stride, rate, batch, start, end):
    data = np.arange(50 * 2, dtype="float32").reshape(50, 2)
    targets = np.arange(50) * 10
    ds = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                       sampling_rate=rate, batch_size=batch,
                                       start_index=start, end_index=end)  # fmt: skip
    xs = np.concatenate([b[0] for b in ds])
    ys = np.concatenate([b[1] for b in ds])
    ref_x, ref_y = _reference(data, targets, length, stride, rate, start or 0, end or 50)
    np.testing.assert_array_equal(xs, ref_x)
    np.testing.assert_array_equal(ys, ref_y)
    assert all(len(b[0]) <= batch for b in ds)


def test_no_targets_unbatched_shuffled_and_short_targets():
    data = np.arange(20)
    ds = timeseries_dataset_from_array(data, None, 4, batch_size=None)
    assert len(ds) == 17 and ds[3].tolist() == [3, 4, 5, 6]
    # Batches answer .numpy() like tf.data tensors (keras.io examples call it).
    window = ds[3].numpy()
    assert type(window) is np.ndarray and window.tolist() == [3, 4, 5, 6]
    batched = timeseries_dataset_from_array(data, data, 4, batch_size=8)
    for x, y in batched.take(1):
        assert x.numpy().shape == (8, 4) and type(y[:2].numpy()) is np.ndarray
    shuffled = timeseries_dataset_from_array(data, data * 2, 4, batch_size=5, shuffle=True,
                                             seed=3)  # fmt: skip
    pairs = [(tuple(x), int(y)) for xb, yb in shuffled for x, y in zip(xb, yb)]
    assert sorted(pairs) == [(tuple(range(i, i + 4)), 2 * i) for i in range(17)]
    assert [p[1] for p in pairs] != sorted(p[1] for p in pairs)  # really shuffled
    short = timeseries_dataset_from_array(data, np.arange(5), 3, batch_size=100)
    assert short[0][0].shape == (5, 3)  # as many windows as targets


def test_timeseries_fit():
    data = np.random.default_rng(0).normal(size=(60, 3)).astype("float32")
    ds = timeseries_dataset_from_array(data, data[:, 0], 5, batch_size=16)
    model = callax.Sequential([callax.layers.Input((5, 3)), callax.layers.Flatten(),
                               callax.layers.Dense(1)])  # fmt: skip
    model.compile("sgd", "mse")
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"sampling_rate": 0}, "sampling_rate"), ({"sequence_stride": 0}, "sequence_stride"),
    ({"start_index": -1}, "start_index"), ({"start_index": 30}, "start_index"),
    ({"end_index": 30}, "end_index"), ({"start_index": 5, "end_index": 4}, "end_index"),
])  # fmt: skip
def test_timeseries_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        timeseries_dataset_from_array(np.arange(20), None, 3, **kwargs)


def test_split_arrays_tuples_dicts():
    x, y = np.arange(10).reshape(10, 1), np.arange(10) * 2
    (lx, ly), (rx, ry) = split_dataset((x, y), left_size=0.7)
    assert lx.shape == (7, 1) and ry.tolist() == [14, 16, 18]
    left, right = split_dataset({"a": x, "b": y}, right_size=2)
    assert left["a"].shape == (8, 1) and right["b"].tolist() == [16, 18]
    a, b = split_dataset(y)
    assert a.tolist() == [0, 2, 4, 6, 8] and b.tolist() == [10, 12, 14, 16, 18]
    (sl, _), (sr, _) = split_dataset((x, y), left_size=6, right_size=3, shuffle=True, seed=1)
    assert len(sl) == 6 and len(sr) == 3 and not set(sl[:, 0]) & set(sr[:, 0])


def test_split_sizes_follow_keras():
    keras = pytest.importorskip("keras")
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    from callax.utils.dataset_utils import _split_sizes

    for left, right in [(0.3, None), (None, 0.25), (3, None), (None, 4), (0.2, 0.5), (2, 5)]:
        assert _split_sizes(left, right, 11) == tuple(
            int(v) for v in _rescale_dataset_split_sizes(left, right, 11)
        )
    del keras
    for bad in [(1.5, None), (0, None), (12, None), (0.6, 0.6)]:
        with pytest.raises(ValueError):
            _split_sizes(*bad, 11)
    with pytest.raises(TypeError):
        _split_sizes("half", None, 11)


def test_split_pydataset_by_batches():
    class Batches(callax.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2, 1), float(i)), np.full((2,), float(i))

    left, right = split_dataset(Batches(), left_size=3)
    assert len(left) == 3 and len(right) == 2
    assert [float(b[1][0]) for b in right] == [3.0, 4.0]
    model = callax.Sequential([callax.layers.Input((1,)), callax.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(left, epochs=1, verbose=0)
