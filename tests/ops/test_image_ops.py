"""callax.ops.image: numpy formulas written here, and Keras 3 (JAX backend) as oracle."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import ops

RNG = np.random.default_rng(0)
IMGS = RNG.random((2, 6, 8, 3)).astype("float32")


def _keras():
    return pytest.importorskip("keras")


def _close(a, b, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=atol)


# ------------------------------------------------------------------ resize
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "lanczos3",
                                           "lanczos5"])  # fmt: skip
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("size", [(3, 4), (9, 13)])
def test_resize_matches_keras(interpolation, antialias, size):
    keras = _keras()
    ours = ops.image.resize(IMGS, size, interpolation=interpolation, antialias=antialias)
    theirs = keras.ops.image.resize(IMGS, size, interpolation=interpolation, antialias=antialias)
    assert ours.shape == (2, *size, 3)
    _close(ours, theirs)


@pytest.mark.parametrize("flag", ["crop_to_aspect_ratio", "pad_to_aspect_ratio"])
@pytest.mark.parametrize("size", [(4, 4), (3, 9), (8, 3)])
def test_resize_aspect_ratio_matches_keras(flag, size):
    keras = _keras()
    kw = {flag: True, **({"fill_value": 0.5} if flag == "pad_to_aspect_ratio" else {})}
    _close(ops.image.resize(IMGS, size, **kw), keras.ops.image.resize(IMGS, size, **kw))
    _close(ops.image.resize(IMGS[0], size, **kw), keras.ops.image.resize(IMGS[0], size, **kw))


def test_resize_channels_first_unbatched_and_uint8_match_keras():
    keras = _keras()
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    _close(ops.image.resize(chw, (4, 5), data_format="channels_first"),
           keras.ops.image.resize(chw, (4, 5), data_format="channels_first"))  # fmt: skip
    _close(ops.image.resize(IMGS[1], (4, 5)), keras.ops.image.resize(IMGS[1], (4, 5)))
    u8 = (IMGS * 255).astype("uint8")
    ours = ops.image.resize(u8, (4, 11))
    assert ours.dtype == jnp.uint8
    np.testing.assert_array_equal(ours, keras.ops.image.resize(u8, (4, 11)))


def test_resize_area_is_average_pooling_and_overlap_weighted():
    x = RNG.random((1, 4, 6, 2)).astype("float32")
    pooled = x.reshape(1, 2, 2, 3, 2, 2).mean(axis=(2, 4))
    _close(ops.image.resize(x, (2, 3), interpolation="area"), pooled)
    # 3 -> 2 along one axis: output 0 covers [0, 1.5): pixel 0 fully, pixel 1 half.
    y = np.array([0.0, 3.0, 6.0], "float32").reshape(1, 3, 1, 1)
    out = ops.image.resize(y, (2, 1), interpolation="area").ravel()
    _close(out, [(0.0 + 0.5 * 3.0) / 1.5, (0.5 * 3.0 + 6.0) / 1.5])


def test_resize_bad_arguments():
    with pytest.raises(
        ValueError, match=r"interpolation must be one of.*received interpolation='cubic'"
    ):  # noqa: E501
        ops.image.resize(IMGS, (2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match=r"rank 3 .* or 4 .*received images with shape \(4, 4\)"):
        ops.image.resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="only one of crop_to_aspect_ratio"):
        ops.image.resize(IMGS, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"size must be \(height, width\)"):
        ops.image.resize(IMGS, (2,))


def test_resize_is_differentiable_and_jits():
    f = jax.jit(lambda x: ops.image.resize(x, (3, 3)).sum())
    g = jax.grad(f)(jnp.asarray(IMGS))
    assert g.shape == IMGS.shape and np.isfinite(g).all()
    # bilinear downsampling by 2 with half-pixel centres averages 2x2 blocks
    x = RNG.random((1, 4, 4, 1)).astype("float32")
    _close(ops.image.resize(x, (2, 2)), x.reshape(1, 2, 2, 2, 2, 1).mean(axis=(2, 4)))


# ---------------------------------------------------------- colour spaces
def test_grayscale_formula_and_keras():
    keras = _keras()
    gray = ops.image.rgb_to_grayscale(IMGS)
    _close(gray[..., 0], IMGS @ np.array([0.2989, 0.5870, 0.1140], "float32"))
    _close(gray, keras.ops.image.rgb_to_grayscale(IMGS))
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    assert ops.image.rgb_to_grayscale(chw, data_format="channels_first").shape == (2, 1, 6, 8)
    with pytest.raises(ValueError, match=r"3 \(RGB\) or 1.*shape \(2, 6, 8, 2\)"):
        ops.image.rgb_to_grayscale(IMGS[..., :2])


def test_hsv_round_trip_colorsys_and_keras():
    import colorsys

    keras = _keras()
    hsv = np.asarray(ops.image.rgb_to_hsv(IMGS))
    ref = np.array([colorsys.rgb_to_hsv(*p) for p in IMGS.reshape(-1, 3)]).reshape(IMGS.shape)
    _close(hsv, ref)
    _close(hsv, keras.ops.image.rgb_to_hsv(IMGS))
    _close(ops.image.hsv_to_rgb(hsv), IMGS)
    _close(ops.image.hsv_to_rgb(hsv), keras.ops.image.hsv_to_rgb(hsv))
    with pytest.raises(ValueError, match="float dtype; received dtype int32"):
        ops.image.rgb_to_hsv(np.ones((2, 2, 3), "int32"))


# ------------------------------------------------------ geometric resampling
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_matches_keras(fill_mode, interpolation):
    keras = _keras()
    t = np.array([[0.9, -0.2, 1.3, 0.25, 1.1, -0.7, 0, 0],
                  [1.2, 0.1, -2.0, -0.1, 0.8, 1.5, 0, 0]], "float32")  # fmt: skip
    kw = {"interpolation": interpolation, "fill_mode": fill_mode, "fill_value": 0.25}
    _close(ops.image.affine_transform(IMGS, t, **kw),
           keras.ops.image.affine_transform(IMGS, t, **kw))  # fmt: skip
    _close(ops.image.affine_transform(IMGS[0], t[0], **kw),
           keras.ops.image.affine_transform(IMGS[0], t[0], **kw))  # fmt: skip


def test_affine_transform_projective_and_errors():
    # with c0 != 0 the source column is x' = (a0 x + a2) / (c0 x + 1)
    x = np.arange(8.0, dtype="float32").reshape(1, 1, 8, 1)
    t = np.array([2.0, 0, 0, 0, 1, 0, 0.5, 0], "float32")
    out = np.asarray(ops.image.affine_transform(x, t, interpolation="bilinear")).ravel()
    cols = np.arange(8.0)
    _close(out, np.interp(2 * cols / (0.5 * cols + 1), cols, cols))
    with pytest.raises(ValueError, match=r"transform of shape \(8,\).*shape \(6,\)"):
        ops.image.affine_transform(IMGS, np.ones(6))
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        ops.image.affine_transform(IMGS, np.ones(8), interpolation="bicubic")


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_keras(fill_mode, order):
    keras = _keras()
    x = RNG.random((5, 7)).astype("float32")
    coords = RNG.uniform(-3, 9, size=(2, 4, 6)).astype("float32")
    _close(ops.image.map_coordinates(x, coords, order, fill_mode, 0.5),
           keras.ops.image.map_coordinates(x, coords, order, fill_mode, 0.5))  # fmt: skip


def test_map_coordinates_linear_formula_and_errors():
    x = np.array([[0.0, 1.0], [2.0, 3.0]], "float32")
    assert float(ops.image.map_coordinates(x, [[0.5], [0.5]], 1)[0]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match=r"one leading entry per input axis \(2\).*\(1, 3\)"):
        ops.image.map_coordinates(x, [[0.5, 1.0, 0.0]], 1)
    with pytest.raises(ValueError, match="order must be 0 or 1; received order=3"):
        ops.image.map_coordinates(x, [[0.5], [0.5]], 3)


# --------------------------------------------------------- crop, pad, patches
def test_pad_and_crop_images_match_numpy_and_keras():
    keras = _keras()
    padded = ops.image.pad_images(IMGS, 1, 2, target_height=10, target_width=11)
    ref = np.pad(IMGS, ((0, 0), (1, 3), (2, 1), (0, 0)))
    np.testing.assert_array_equal(padded, ref)
    np.testing.assert_array_equal(
        ops.image.pad_images(IMGS[0], bottom_padding=2, right_padding=1, target_height=9,
                             target_width=9), np.pad(IMGS[0], ((1, 2), (0, 1), (0, 0))))  # fmt: skip
    kw = {"top_cropping": 1, "right_cropping": 2, "target_height": 4, "target_width": 3}
    cropped = ops.image.crop_images(IMGS, **kw)
    np.testing.assert_array_equal(cropped, IMGS[:, 1:5, 3:6])
    np.testing.assert_array_equal(cropped, keras.ops.image.crop_images(IMGS, **kw))
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    np.testing.assert_array_equal(
        ops.image.crop_images(chw, 1, 1, 1, 1, data_format="channels_first"),
        chw[:, :, 1:-1, 1:-1])  # fmt: skip


def test_pad_and_crop_bad_arguments():
    with pytest.raises(ValueError, match="give exactly two of top_padding, bottom_padding"):
        ops.image.pad_images(IMGS, 1, 1, 1, 1, target_height=9)
    with pytest.raises(ValueError, match="top_cropping must be >= 0; received top_cropping=-1"):
        ops.image.crop_images(IMGS, -1, 0, target_height=2, target_width=2)
    with pytest.raises(ValueError, match="does not fit"):
        ops.image.crop_images(IMGS, 4, 0, target_height=4, target_width=2)


@pytest.mark.parametrize("kw", [
    {"size": (2, 3)}, {"size": 3, "strides": 1}, {"size": (2, 2), "padding": "same",
                                                   "strides": (2, 3)},
    {"size": (2, 2), "strides": 1, "dilation_rate": 2},
], ids=str)  # fmt: skip
def test_extract_patches_matches_keras_and_numpy(kw):
    keras = _keras()
    ours = ops.image.extract_patches(IMGS, **kw)
    _close(ours, keras.ops.image.extract_patches(IMGS, **kw))
    _close(ops.image.extract_patches(IMGS[0], **kw), ours[0])
    if kw == {"size": (2, 3)}:  # first patch: rows 0-1, cols 0-2, flattened (row, col, channel)
        np.testing.assert_array_equal(ours[:, 0, 0], IMGS[:, :2, :3].reshape(2, -1))


def test_extract_patches_3d_and_channels_first():
    keras = _keras()
    vol = RNG.random((2, 4, 6, 6, 2)).astype("float32")
    _close(ops.image.extract_patches(vol, (2, 3, 3)),
           keras.ops.image.extract_patches(vol, (2, 3, 3)))  # fmt: skip
    chw = np.transpose(IMGS, (0, 3, 1, 2))
    _close(ops.image.extract_patches(chw, 2, data_format="channels_first"),
           np.transpose(ops.image.extract_patches(IMGS, 2), (0, 3, 1, 2)))  # fmt: skip
    with pytest.raises(
        ValueError, match=r"size must be an int or a tuple of 2.*size=\(1, 2, 3, 4\)"
    ):  # noqa: E501
        ops.image.extract_patches(IMGS, (1, 2, 3, 4))


# ------------------------------------------------------------------- blur
def test_gaussian_blur_matches_numpy_and_keras():
    keras = _keras()
    ours = ops.image.gaussian_blur(IMGS, (3, 3), (1.0, 1.0))
    # Keras 3.15's JAX backend needs the data format spelled out.
    _close(ours, keras.ops.image.gaussian_blur(IMGS, (3, 3), (1.0, 1.0),
                                               data_format="channels_last"))  # fmt: skip
    # numpy: separable kernel, height uses kernel_size[0]/sigma[0], zero padding
    kh, kw, sh, sw = 5, 3, 1.5, 0.7

    def g(n, s):
        k = np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / s) ** 2)
        return k / k.sum()

    k2 = np.outer(g(kh, sh), g(kw, sw))
    pad = np.pad(IMGS, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    ref = np.zeros_like(IMGS)
    for i in range(kh):
        for j in range(kw):
            ref += k2[i, j] * pad[:, i : i + 6, j : j + 8]
    _close(ops.image.gaussian_blur(IMGS, (kh, kw), (sh, sw)), ref)
    _close(ops.image.gaussian_blur(IMGS[0], (kh, kw), (sh, sw)), ref[0])


def test_ops_accept_variables_and_symbolic_inputs():
    v = callax.Variable(IMGS)
    _close(ops.image.resize(v, (3, 4)), ops.image.resize(IMGS, (3, 4)))
    inp = callax.Input((6, 8, 3))
    out = ops.image.resize(inp, (3, 4))
    assert tuple(out.shape) == (None, 3, 4, 3)
    model = callax.Model(inp, ops.image.rgb_to_grayscale(out))
    _close(model(IMGS), ops.image.rgb_to_grayscale(ops.image.resize(IMGS, (3, 4))))


def test_elastic_transform_identity_seeding_and_smoothness():
    x = jnp.asarray(IMGS)
    _close(ops.image.elastic_transform(x, alpha=0.0, seed=1), IMGS)
    a = ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=1)
    np.testing.assert_array_equal(a, ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=1))
    assert not np.allclose(a, ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=2))
    assert not np.allclose(a, IMGS)
    # a constant image stays constant (reflect fill); uint8 stays uint8
    flat = np.full((1, 6, 6, 2), 3.0, "float32")
    _close(ops.image.elastic_transform(flat, seed=0), flat)
    u8 = (IMGS * 255).astype("uint8")
    assert ops.image.elastic_transform(u8, seed=0).dtype == jnp.uint8
    # a horizontal ramp: the displacement field moves values by a bounded amount
    ramp = np.broadcast_to(np.arange(8.0, dtype="float32")[None, None, :, None], (1, 6, 8, 1))
    moved = np.asarray(ops.image.elastic_transform(ramp, alpha=1.0, sigma=2.0, seed=0,
                                                   fill_mode="nearest"))  # fmt: skip
    assert 0 < np.abs(moved - ramp).max() < 2.0
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        ops.image.elastic_transform(x, fill_mode="edge")


def test_sobel_scale_translate_patches_3d_match_keras():
    keras = _keras()
    _close(ops.image.sobel_edges(IMGS), keras.ops.image.sobel_edges(IMGS))
    # numpy: d/dx of a horizontal ramp is 8 (1 * 2 + 2 * 2 + 1 * 2) away from the border
    ramp = np.broadcast_to(np.arange(8.0, dtype="float32")[None, None, :, None], (1, 6, 8, 1))
    edges = np.asarray(ops.image.sobel_edges(ramp))
    np.testing.assert_allclose(edges[0, 1:-1, 1:-1, 0, 1], 8.0)
    np.testing.assert_allclose(edges[0, 1:-1, 1:-1, 0, 0], 0.0)
    args = ((2, 12, 16, 3), [2.0, 2.0], [0.5, -1.0], (1, 2))
    for method in ("bilinear", "bicubic", "lanczos3"):
        _close(ops.image.scale_and_translate(IMGS, *args, method),
               keras.ops.image.scale_and_translate(IMGS, *args, method))  # fmt: skip
    vol = RNG.random((2, 4, 6, 6, 2)).astype("float32")
    _close(ops.image.extract_patches_3d(vol, 2, strides=(1, 2, 2)),
           keras.ops.image.extract_patches_3d(vol, 2, strides=(1, 2, 2)))  # fmt: skip


def test_perspective_transform_matches_keras_and_shifts():
    keras = _keras()
    start = np.array([[0, 0], [7, 0], [0, 5], [7, 5]], "float32")
    end = np.array([[1, 0.5], [6, 0], [0, 5], [7, 4]], "float32")
    starts, ends = np.stack([start, start]), np.stack([end, end[::-1]])
    for interpolation in ("bilinear", "nearest"):
        ours = ops.image.perspective_transform(IMGS, starts, ends, interpolation, 0.5)
        _close(ours, keras.ops.image.perspective_transform(IMGS, starts, ends, interpolation, 0.5))
        _close(ops.image.perspective_transform(IMGS[0], start, end, interpolation, 0.5), ours[0])
    # moving every corner one column right shifts the image one column right
    shifted = ops.image.perspective_transform(IMGS, start, start + [1.0, 0.0])
    _close(np.asarray(shifted)[:, :, 1:], IMGS[:, :, :-1])
    np.testing.assert_array_equal(np.asarray(shifted)[:, :, 0], 0.0)
    with pytest.raises(ValueError, match=r"start_points must have shape \(4, 2\).*\(3, 2\)"):
        ops.image.perspective_transform(IMGS, start[:3], end[:3])
