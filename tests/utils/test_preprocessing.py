"""keras.preprocessing names: smart_resize against Keras (exact), aliases."""

from __future__ import annotations

import numpy as np
import pytest

import callax


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("size", [(8, 8), (20, 5), (13, 21)])
def test_smart_resize_matches_keras(interpolation, size):
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).uniform(0, 255, (2, 13, 21, 3)).astype("float32")
    ours = callax.preprocessing.image.smart_resize(x, size, interpolation=interpolation)
    theirs = keras.preprocessing.image.smart_resize(x, size, interpolation=interpolation)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-4)
    chw = x[0].transpose(2, 0, 1)
    ours = callax.preprocessing.image.smart_resize(chw, size, interpolation=interpolation,
                                                   data_format="channels_first")  # fmt: skip
    theirs = keras.preprocessing.image.smart_resize(chw, size, interpolation=interpolation,
                                                    data_format="channels_first")  # fmt: skip
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-4)


def test_smart_resize_errors_and_names():
    with pytest.raises(ValueError, match="received shape"):
        callax.preprocessing.image.smart_resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="interpolation"):
        callax.preprocessing.image.smart_resize(np.ones((4, 4, 1)), (2, 2), interpolation="x")
    pre = callax.preprocessing
    assert pre.timeseries_dataset_from_array is callax.utils.timeseries_dataset_from_array
    assert pre.image_dataset_from_directory is callax.utils.image_dataset_from_directory
    assert pre.text_dataset_from_directory is callax.utils.text_dataset_from_directory
    assert pre.sequence.pad_sequences is callax.utils.pad_sequences
    assert pre.image.load_img is callax.utils.load_img
