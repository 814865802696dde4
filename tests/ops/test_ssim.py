"""ops.image.ssim against Keras 3's (same images) and a direct numpy formula."""

import os

import numpy as np
import pytest

from callax import ops

R = np.random.default_rng(0)
A = R.random((2, 20, 24, 3)).astype("float32")
B = np.clip(A + 0.1 * R.standard_normal(A.shape), 0, 1).astype("float32")


def _keras_ops():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras.ops


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"filter_size": 3, "filter_sigma": 0.8}, {"k1": 0.02, "k2": 0.05, "max_val": 2.0}],
)
def test_matches_keras(kwargs):
    kops = _keras_ops()
    np.testing.assert_allclose(
        ops.image.ssim(A, B, **kwargs), kops.image.ssim(A, B, **kwargs), rtol=1e-5, atol=1e-6
    )
    first = np.transpose(A[0], (2, 0, 1)), np.transpose(B[0], (2, 0, 1))
    np.testing.assert_allclose(
        ops.image.ssim(*first, data_format="channels_first", **kwargs),
        kops.image.ssim(*first, data_format="channels_first", **kwargs),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


def test_numpy_formula_with_box_like_window_of_one_pixel():
    # filter_size=1: the window is the pixel itself, so sigma terms vanish
    got = np.asarray(ops.image.ssim(A, B, filter_size=1))
    c1, c2 = 0.01**2, 0.03**2
    want = ((2 * A * B + c1) * c2 / ((A * A + B * B + c1) * c2)).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_identical_images_and_integer_images():
    np.testing.assert_allclose(ops.image.ssim(A, A), [1.0, 1.0], atol=1e-5)
    u, v = (A * 255).astype("uint8"), (B * 255).astype("uint8")
    # Keras casts the result back to uint8 (giving 0); callax returns the float value
    got = float(ops.image.ssim(u[0], v[0], max_val=255.0))
    want = float(ops.image.ssim(u[0].astype("float32"), v[0].astype("float32"), max_val=255.0))
    assert abs(got - want) < 1e-6 and 0.5 < got < 1


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        ops.image.ssim(A, B[:, :10])
    with pytest.raises(ValueError, match="odd int"):
        ops.image.ssim(A, B, filter_size=4)
    with pytest.raises(ValueError, match="at least filter_size"):
        ops.image.ssim(A[:, :5], B[:, :5])
