"""The keras.src shims against Keras's own functions (Keras as test-only oracle)."""

import io
import zipfile

import ml_dtypes
import numpy as np
import pytest

import callax
from callax.keras_compat.shims import backend_utils, data_adapter_utils
from callax.keras_compat.shims.backend import get_keras_mask, set_keras_mask
from callax.keras_compat.shims.saving_lib import H5IOStore


def _write(store_cls, target, **kw):
    store = store_cls(target, mode="w", **kw)
    entry = store.make("lora")
    entry["rank"] = 4
    entry = store.make("lora/0")
    entry["lora_kernel_a"] = callax.Variable(np.arange(6.0).reshape(2, 3))
    entry["half"] = np.array([1.5, -2.0], dtype=ml_dtypes.bfloat16)
    store.make("unused")  # no assignment: no group
    store.close()


def _read(store_cls, target, **kw):
    store = store_cls(target, mode="r", **kw)
    rank = int(store.get("lora")["rank"][()])
    entry = store.get("lora/0")
    values = (rank, entry["lora_kernel_a"], entry["half"], sorted(entry.keys()), "half" in entry)
    missing = len(store.get("nothing/here")), store.has_path("unused")
    store.close()
    return values, missing


def _check(values, missing):
    rank, kernel, half, keys, has_half = values
    assert rank == 4 and keys == ["half", "lora_kernel_a"] and has_half
    np.testing.assert_array_equal(kernel, np.arange(6.0).reshape(2, 3))
    assert half.dtype == ml_dtypes.bfloat16 and half.astype(np.float32).tolist() == [1.5, -2.0]
    assert missing == (0, False)


def test_h5iostore_files_read_both_ways_with_keras(tmp_path):
    pytest.importorskip("h5py")
    saving_lib = pytest.importorskip("keras.src.saving.saving_lib")
    ours, theirs = tmp_path / "ours.lora.h5", tmp_path / "theirs.lora.h5"
    _write(H5IOStore, ours)
    _check(*_read(saving_lib.H5IOStore, ours))
    _write(saving_lib.H5IOStore, theirs)
    _check(*_read(H5IOStore, theirs))


def test_h5iostore_in_memory_and_in_an_archive(tmp_path):
    pytest.importorskip("h5py")
    buf = io.BytesIO()
    _write(H5IOStore, buf)
    _check(*_read(H5IOStore, buf))
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        _write(H5IOStore, "model.weights.h5", archive=archive)
    with zipfile.ZipFile(tmp_path / "a.zip", "r") as archive:
        assert archive.namelist() == ["model.weights.h5"]
        _check(*_read(H5IOStore, "model.weights.h5", archive=archive))


def test_h5iostore_errors(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(ValueError, match=r"mode must be 'r' or 'w'; received mode='a'"):
        H5IOStore(tmp_path / "x.h5", mode="a")
    with pytest.raises(TypeError, match=r"path_or_io must be .*; received int"):
        H5IOStore(3)
    store = H5IOStore(tmp_path / "x.h5", mode="w")
    with pytest.raises(ValueError, match=r"H5IOStore.get: the store is open for writing"):
        store.get("a")
    store.make("a")["v"] = np.ones(2)
    store.close()
    store = H5IOStore(tmp_path / "x.h5", mode="r")
    with pytest.raises(KeyError, match=r"entry 'a' has no value 'w'; it holds \['v'\]"):
        store.get("a")["w"]
    with pytest.raises(ValueError, match=r"cannot set 'v', the store is open for reading"):
        store["v"] = 1
    store.close()


def test_masks_as_keras_reads_them():
    emb = callax.layers.Embedding(5, 2, mask_zero=True)
    y = emb(np.array([[3, 0, 1]]))
    assert get_keras_mask(y).tolist() == [[True, False, True]]
    z = callax.ops.ones((2,))
    assert get_keras_mask(z) is None
    set_keras_mask(z, np.array([True, False]))
    assert get_keras_mask(z).tolist() == [True, False]
    set_keras_mask(z, None)
    assert get_keras_mask(z) is None


@pytest.mark.parametrize(
    "y",
    [np.array([0, 2, 1, 2]), np.array([[0], [2], [1], [3]]), np.eye(4)[[3, 1, 0, 2]],
     np.array([0.9, 2.2, 1.0, 5.0])],
)  # fmt: skip
def test_class_weight_to_sample_weights_matches_keras(y):
    utils = pytest.importorskip("keras.src.trainers.data_adapters.data_adapter_utils")
    class_weight = {0: 0.5, 2: 3.0, 3: 0.25}
    ours = data_adapter_utils.class_weight_to_sample_weights(y, class_weight)
    theirs = utils.class_weight_to_sample_weights(y, class_weight)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_in_grain_data_pipeline():
    grain = pytest.importorskip("grain", reason="grain is an optional integration")
    assert backend_utils.in_grain_data_pipeline() is False
    seen = grain.MapDataset.range(2).map(lambda i: backend_utils.in_grain_data_pipeline())
    assert list(seen) == [True, True]
