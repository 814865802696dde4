"""Image ops (``keras.ops.image``): resizing, cropping, padding, colour spaces,
geometric resampling, patches and blurring, on ``jax.numpy`` / ``jax.image``.

Every function takes one image (rank 3) or a batch (rank 4), laid out by
``data_format``: ``"channels_last"`` (``(..., height, width, channels)``, the
default from ``callax.config.image_data_format()``) or ``"channels_first"``.

Example:
    >>> import numpy as np
    >>> from callax import ops
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> ops.image.resize(x, (2, 2), interpolation="area")[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> ops.image.crop_images(x, 1, 1, target_height=2, target_width=2)[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import config
from callax.core.seed_generator import draw_key
from callax.ops.dispatch import op

__all__ = [
    "rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "resize", "affine_transform",
    "map_coordinates", "extract_patches", "pad_images", "crop_images", "gaussian_blur",
    "elastic_transform", "extract_patches_3d", "scale_and_translate", "perspective_transform",
    "sobel_edges", "ssim",
]  # fmt: skip

_RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_ORDERS = {"nearest": 0, "bilinear": 1}


# ------------------------------------------------------------------ helpers
def _data_format(data_format: str | None, who: str) -> str:
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"ops.image.{who}: data_format must be 'channels_last' or 'channels_first'; "
            f"received data_format={data_format!r}."
        )
    return data_format


def _images(images: Any, who: str) -> jax.Array:
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"ops.image.{who}: expected images of rank 3 (one image) or 4 (a batch); "
            f"received images with shape {tuple(images.shape)}."
        )
    return images


def _to_nhwc(images: jax.Array, data_format: str) -> tuple[jax.Array, Any]:
    """Images as a ``(batch, height, width, channels)`` array, and the function
    that puts a result of that layout back into the caller's layout."""
    unbatched = images.ndim == 3
    x = images[None] if unbatched else images
    if data_format == "channels_first":
        x = jnp.transpose(x, (0, 2, 3, 1))

    def back(y):
        if data_format == "channels_first":
            y = jnp.transpose(y, (0, 3, 1, 2))
        return y[0] if unbatched else y

    return x, back


def _restore_dtype(result: jax.Array, dtype: Any) -> jax.Array:
    """Back to the input dtype: integers are rounded and saturated (as Keras), so
    resizing uint8 images never wraps around."""
    if result.dtype == dtype:
        return result
    if jnp.issubdtype(dtype, jnp.integer):
        info = jnp.iinfo(dtype)
        result = jnp.clip(jnp.round(result), info.min, info.max)
    return result.astype(dtype)


def _float(images: jax.Array) -> jax.Array:
    return images if jnp.issubdtype(images.dtype, jnp.floating) else images.astype(jnp.float32)


# ------------------------------------------------------------ colour spaces
@op
def rgb_to_grayscale(images: Any, data_format: str | None = None) -> jax.Array:
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B`` as one channel (as ``tf.image``);
    a one-channel input comes back unchanged.

    Example:
        >>> from callax import ops
        >>> ops.image.rgb_to_grayscale(ops.ones((2, 2, 3))).shape
        (2, 2, 1)
    """
    images = _images(images, "rgb_to_grayscale")
    axis = -1 if _data_format(data_format, "rgb_to_grayscale") == "channels_last" else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "ops.image.rgb_to_grayscale: expected 3 (RGB) or 1 (grayscale) channels; "
            f"received images with shape {tuple(images.shape)}."
        )
    if images.shape[axis] == 1:
        return images
    x = _float(images)
    weights = jnp.array([0.2989, 0.5870, 0.1140], x.dtype)
    gray = jnp.expand_dims(jnp.tensordot(x, weights, axes=((axis % x.ndim,), (0,))), axis)
    return gray.astype(images.dtype)


def _split_channels(images: jax.Array, axis: int) -> list[jax.Array]:
    return [jnp.take(images, i, axis=axis) for i in range(3)]


def _float_images(images: Any, who: str) -> jax.Array:
    images = _images(images, who)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(
            f"ops.image.{who}: expected images of a float dtype; received dtype {images.dtype}."
        )
    return images


@op
def rgb_to_hsv(images: Any, data_format: str | None = None) -> jax.Array:
    """RGB in ``[0, 1]`` to hue, saturation, value (each in ``[0, 1]``).

    Example:
        >>> from callax import ops
        >>> ops.image.rgb_to_hsv(ops.array([[[0.0, 0.0, 1.0]]])).tolist()
        [[[0.6666666865348816, 1.0, 1.0]]]
    """
    images = _float_images(images, "rgb_to_hsv")
    axis = -1 if _data_format(data_format, "rgb_to_hsv") == "channels_last" else -3
    eps = jnp.finfo(images.dtype).eps
    images = jnp.where(jnp.abs(images) < eps, 0.0, images)
    r, g, b = _split_channels(images, axis)
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    # Hue: which channel is the maximum picks the sector (red 0, green 1/3, blue 2/3).
    scale = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, scale * (b - r) + 2.0 / 6.0, scale * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, scale * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0)
    hue = hue + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=axis).astype(images.dtype)


@op
def hsv_to_rgb(images: Any, data_format: str | None = None) -> jax.Array:
    """Hue, saturation, value (each in ``[0, 1]``) to RGB; inverse of ``rgb_to_hsv``.

    Example:
        >>> from callax import ops
        >>> ops.image.hsv_to_rgb(ops.array([[[0.0, 1.0, 1.0]]])).tolist()
        [[[1.0, 0.0, 0.0]]]
    """
    images = _float_images(images, "hsv_to_rgb")
    axis = -1 if _data_format(data_format, "hsv_to_rgb") == "channels_last" else -3
    hue, saturation, value = _split_channels(images, axis)
    sector = jnp.mod(hue, 1.0) * 6.0
    red = jnp.clip(jnp.abs(sector - 3.0) - 1.0, 0.0, 1.0)
    green = jnp.clip(2.0 - jnp.abs(sector - 2.0), 0.0, 1.0)
    blue = jnp.clip(2.0 - jnp.abs(sector - 4.0), 0.0, 1.0)
    planes = [value * (1.0 - saturation + saturation * c) for c in (red, green, blue)]
    return jnp.stack(planes, axis=axis).astype(images.dtype)


# ------------------------------------------------------------------ resize
def _aspect_crop(height: int, width: int, th: int, tw: int) -> tuple[int, int, int, int]:
    """The largest centred window of the target aspect ratio: (top, left, h, w)."""
    ch = max(min(height, int(float(width * th) / tw)), 1)
    cw = max(min(width, int(float(height * tw) / th)), 1)
    return int(float(height - ch) / 2), int(float(width - cw) / 2), ch, cw


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights ``(n_out, n_in)``: each output pixel averages the input pixels its
    footprint ``[i * s, (i + 1) * s)`` covers (``s = n_in / n_out``), each weighted
    by the length of the overlap (``tf.image.resize(..., "area")``)."""
    scale = n_in / n_out
    lo = np.arange(n_out)[:, None] * scale
    hi = lo + scale
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / scale


def _resize_area(x: jax.Array, th: int, tw: int) -> jax.Array:
    mh = jnp.asarray(_area_matrix(x.shape[1], th), x.dtype)
    mw = jnp.asarray(_area_matrix(x.shape[2], tw), x.dtype)
    hi = jax.lax.Precision.HIGHEST  # exact averages, also on accelerators
    return jnp.einsum("ih,jw,nhwc->nijc", mh, mw, x, precision=hi)


@op
def resize(
    images: Any,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> jax.Array:
    """Resizes images to ``size = (height, width)``.

    Args:
        images: one image (rank 3) or a batch (rank 4).
        size: the output ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"lanczos3"``,
            ``"lanczos5"`` (``jax.image.resize``, half-pixel centres) or ``"area"``
            (each output pixel averages the input area it covers).
        antialias: low-pass filter when downsampling (not for ``"nearest"``/``"area"``).
        crop_to_aspect_ratio: first crop the largest centred window of the target
            aspect ratio, so nothing is distorted.
        pad_to_aspect_ratio: first pad the short side evenly with ``fill_value``.
        fill_mode: only ``"constant"`` (as Keras).
        fill_value: the padding value for ``pad_to_aspect_ratio``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Integer images come back in their dtype, rounded and saturated.

    Example:
        >>> from callax import ops
        >>> ops.image.resize(ops.ones((2, 4, 4, 3)), (2, 2)).shape
        (2, 2, 2, 3)
    """
    if len(size) != 2:
        raise ValueError(
            f"ops.image.resize: size must be (height, width), two integers; received size={size!r}."
        )
    th, tw = int(size[0]), int(size[1])
    if th <= 0 or tw <= 0:
        raise ValueError(
            f"ops.image.resize: size must have a positive height and width; received size={size!r}."
        )
    if interpolation not in _RESIZE_METHODS:
        raise ValueError(
            f"ops.image.resize: interpolation must be one of {_RESIZE_METHODS}; received "
            f"interpolation={interpolation!r}."
        )
    if fill_mode != "constant":
        raise ValueError(
            f"ops.image.resize: only fill_mode='constant' is supported; received "
            f"fill_mode={fill_mode!r}."
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "ops.image.resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can "
            "be True; received both True."
        )
    images = _images(images, "resize")
    x, back = _to_nhwc(images, _data_format(data_format, "resize"))
    n, h, w, c = x.shape
    if crop_to_aspect_ratio:
        top, left, ch, cw = _aspect_crop(h, w, th, tw)
        x = x[:, top : top + ch, left : left + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        # The same margin on both sides (an odd difference loses one row, as Keras).
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        pads = ((0, 0), (top, top), (0, 0), (0, 0)) if top > 0 else (
            ((0, 0), (0, 0), (left, left), (0, 0)) if left > 0 else None)  # fmt: skip
        if pads is not None:
            x = jnp.pad(x, pads, constant_values=jnp.asarray(fill_value, x.dtype))
    if interpolation == "area":
        out = _resize_area(_float(x), th, tw)
    else:
        method = "cubic" if interpolation == "bicubic" else interpolation
        aa = antialias and interpolation != "nearest"
        out = jax.image.resize(x, (x.shape[0], th, tw, c), method=method, antialias=aa)
    return back(_restore_dtype(out, images.dtype))


# ------------------------------------------------------ geometric resampling
@op
def map_coordinates(
    inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant", fill_value: float = 0
) -> jax.Array:
    """Samples ``inputs`` at ``coordinates`` (one array of positions per input
    axis), by nearest (``order=0``) or linear (``order=1``) interpolation; points
    outside are filled by ``fill_mode`` (``"constant"`` with ``fill_value``,
    ``"nearest"``, ``"wrap"``, ``"mirror"`` or ``"reflect"``).

    Example:
        >>> from callax import ops
        >>> ops.image.map_coordinates(ops.array([0.0, 10.0, 20.0]), [[0.5, 1.25]], 1).tolist()
        [5.0, 12.5]
    """
    inputs = jnp.asarray(inputs)
    coordinates = jnp.asarray(coordinates)
    if coordinates.ndim < 2 or coordinates.shape[0] != inputs.ndim:
        raise ValueError(
            "ops.image.map_coordinates: coordinates must have rank >= 2 and one leading entry "
            f"per input axis ({inputs.ndim}); received coordinates with shape "
            f"{tuple(coordinates.shape)}."
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"ops.image.map_coordinates: fill_mode must be one of {_FILL_MODES}; received "
            f"fill_mode={fill_mode!r}."
        )
    if order not in (0, 1):
        raise ValueError(
            f"ops.image.map_coordinates: order must be 0 or 1; received order={order!r}."
        )
    coords = [coordinates[i] for i in range(inputs.ndim)]
    return jax.scipy.ndimage.map_coordinates(
        inputs, coords, order=order, mode=fill_mode, cval=fill_value
    )


@op
def affine_transform(
    images: Any,
    transform: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0,
    data_format: str | None = None,
) -> jax.Array:
    """Applies projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``: the
    output pixel ``(x, y)`` takes the input at ``((a0 x + a1 y + a2) / k,
    (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1`` (the ``tf.image``
    convention; ``x`` is the column). ``transform`` is one vector of 8 or a batch.

    Example:
        >>> import numpy as np
        >>> from callax import ops
        >>> x = np.arange(9.0).reshape(3, 3, 1)
        >>> shift = [1, 0, 1, 0, 1, 0, 0, 0]  # read one column to the right
        >>> ops.image.affine_transform(x, shift)[:, :, 0].tolist()
        [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0], [7.0, 8.0, 0.0]]
    """
    if interpolation not in _ORDERS:
        raise ValueError(
            "ops.image.affine_transform: interpolation must be 'nearest' or 'bilinear'; "
            f"received interpolation={interpolation!r}."
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"ops.image.affine_transform: fill_mode must be one of {_FILL_MODES}; received "
            f"fill_mode={fill_mode!r}."
        )
    images = _images(images, "affine_transform")
    transform = jnp.asarray(transform)
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(
            "ops.image.affine_transform: expected transform of shape (8,) or (batch, 8); "
            f"received transform with shape {tuple(transform.shape)}."
        )
    x, back = _to_nhwc(images, _data_format(data_format, "affine_transform"))
    n, h, w, _ = x.shape
    t = jnp.broadcast_to(transform.reshape(-1, 8), (n, 8)).astype(jnp.float32)
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                              jnp.arange(w, dtype=jnp.float32), indexing="ij")  # fmt: skip
    order = _ORDERS[interpolation]
    compute = _float(x)

    def warp(image, t):
        k = t[6] * cols + t[7] * rows + 1.0
        src_x = (t[0] * cols + t[1] * rows + t[2]) / k
        src_y = (t[3] * cols + t[4] * rows + t[5]) / k

        def channel(plane):
            return jax.scipy.ndimage.map_coordinates(
                plane, [src_y, src_x], order=order, mode=fill_mode, cval=fill_value
            )

        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

    out = jax.vmap(warp)(compute, t)
    return back(_restore_dtype(out, images.dtype))


# --------------------------------------------------------- crop, pad, patches
def _two_of(a: int | None, b: int | None, target: int | None, names: tuple, who: str) -> list:
    """Checks that exactly two of (a, b, target) are given, none negative."""
    given = [a, b, target]
    if given.count(None) != 1:
        raise ValueError(
            f"ops.image.{who}: give exactly two of {', '.join(names)}; received "
            + ", ".join(f"{k}={v}" for k, v in zip(names, given))
            + "."
        )
    for name, value in zip(names, given):
        if value is not None and value < 0:
            raise ValueError(f"ops.image.{who}: {name} must be >= 0; received {name}={value}.")
    return given


def _box_arguments(who: str, kind: str, images: Any, data_format: Any, edges: tuple) -> tuple:
    """``pad_images``/``crop_images``' common start: the images as NHWC (and the
    way back), then per axis the checked ``[start, end, target]`` from ``edges``
    (``top, left, bottom, right, target_height, target_width`` as given, ``kind``
    ``"padding"`` or ``"cropping"`` naming them in errors)."""
    top, left, bottom, right, height, width = edges
    x, back = _to_nhwc(_images(images, who), _data_format(data_format, who))
    rows = _two_of(top, bottom, height, (f"top_{kind}", f"bottom_{kind}", "target_height"), who)
    cols = _two_of(left, right, width, (f"left_{kind}", f"right_{kind}", "target_width"), who)
    return x, back, rows, cols


@op
def pad_images(
    images: Any,
    top_padding: int | None = None,
    left_padding: int | None = None,
    bottom_padding: int | None = None,
    right_padding: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> jax.Array:
    """Pads images with zeros; per axis give two of the two paddings and the target size.

    Example:
        >>> from callax import ops
        >>> ops.image.pad_images(ops.ones((15, 25, 3)), 2, 3, target_height=20,
        ...                      target_width=30).shape
        (20, 30, 3)
    """
    edges = (top_padding, left_padding, bottom_padding, right_padding, target_height, target_width)
    x, back, (top, bottom, th), (left, right, tw) = _box_arguments(
        "pad_images", "padding", images, data_format, edges
    )
    _, h, w, _ = x.shape
    top = th - bottom - h if top is None else top
    bottom = th - top - h if bottom is None else bottom
    left = tw - right - w if left is None else left
    right = tw - left - w if right is None else right
    for name, value in (("top_padding", top), ("bottom_padding", bottom),
                        ("left_padding", left), ("right_padding", right)):  # fmt: skip
        if value < 0:
            raise ValueError(
                f"ops.image.pad_images: the target size is smaller than the images "
                f"({h}x{w}): {name} would be {value}."
            )
    return back(jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))))


@op
def crop_images(
    images: Any,
    top_cropping: int | None = None,
    left_cropping: int | None = None,
    bottom_cropping: int | None = None,
    right_cropping: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> jax.Array:
    """Crops images; per axis give two of the two croppings and the target size.

    Example:
        >>> from callax import ops
        >>> ops.image.crop_images(ops.ones((2, 10, 10, 3)), 2, 3, target_height=5,
        ...                       target_width=4).shape
        (2, 5, 4, 3)
    """
    edges = (
        top_cropping,
        left_cropping,
        bottom_cropping,
        right_cropping,
        target_height,
        target_width,
    )
    x, back, (top, bottom, th), (left, right, tw) = _box_arguments(
        "crop_images", "cropping", images, data_format, edges
    )
    _, h, w, _ = x.shape
    top = h - th - bottom if top is None else top
    th = h - top - bottom if th is None else th
    left = w - tw - right if left is None else left
    tw = w - left - right if tw is None else tw
    for name, value, start, length, size in (("top_cropping", top, top, th, h),
                                             ("left_cropping", left, left, tw, w)):  # fmt: skip
        if start < 0 or length < 0 or start + length > size:
            raise ValueError(
                f"ops.image.crop_images: the crop does not fit in images of size {h}x{w}; "
                f"received {name}={value} with a crop of {length}."
            )
    return back(x[:, top : top + th, left : left + tw])


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(
            f"ops.image.extract_patches: {name} must be an int or {n} ints; received "
            f"{name}={value!r}."
        )
    return value


@op
def extract_patches(
    images: Any,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> jax.Array:
    """Patches of ``size`` (2 numbers: images; 3: volumes), each flattened into
    the channel axis in ``(patch rows, patch cols[, ...], channels)`` order.

    Args:
        size: the patch size (an int means a 2D square patch).
        strides: steps between patches (default: ``size``, no overlap).
        dilation_rate: spacing of the pixels within a patch.
        padding: ``"valid"`` or ``"same"``.

    Example:
        >>> from callax import ops
        >>> ops.image.extract_patches(ops.ones((2, 20, 20, 3)), (5, 5)).shape
        (2, 4, 4, 75)
    """
    if not isinstance(size, int) and (
        not isinstance(size, (tuple, list)) or len(size) not in (2, 3)
    ):
        raise ValueError(
            "ops.image.extract_patches: size must be an int or a tuple of 2 (images) or 3 "
            f"(volumes) ints; received size={size!r}."
        )
    dims = 2 if isinstance(size, int) else len(size)
    size = _tuple(size, dims, "size")
    strides = size if not strides else _tuple(strides, dims, "strides")
    dilation = _tuple(dilation_rate, dims, "dilation_rate")
    if padding.lower() not in ("valid", "same"):
        raise ValueError(
            f"ops.image.extract_patches: padding must be 'valid' or 'same'; received "
            f"padding={padding!r}."
        )
    x = jnp.asarray(images)
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"ops.image.extract_patches: {dims}D patches need inputs of rank {dims + 1} or "
            f"{dims + 2}; received input with shape {tuple(x.shape)}."
        )
    unbatched = x.ndim == dims + 1
    x = x[None] if unbatched else x
    channels_first = _data_format(data_format, "extract_patches") == "channels_first"
    if not channels_first:
        x = jnp.moveaxis(x, -1, 1)
    channels = x.shape[1]
    # conv_general_dilated_patches copies pixels (no arithmetic), in (channel,
    # *window) order; reorder to (*window, channel) as keras.ops does.
    patches = jax.lax.conv_general_dilated_patches(
        x, size, strides, padding.upper(), rhs_dilation=dilation
    )
    spatial = patches.shape[2:]
    patches = patches.reshape((x.shape[0], channels, int(np.prod(size))) + spatial)
    patches = jnp.swapaxes(patches, 1, 2).reshape((x.shape[0], -1) + spatial)
    if not channels_first:
        patches = jnp.moveaxis(patches, 1, -1)
    return patches[0] if unbatched else patches


# ------------------------------------------------------------------- blur
def _gaussian_1d(size: int, sigma: Any, dtype: Any) -> jax.Array:
    x = jnp.arange(size, dtype=dtype) - (size - 1) / 2
    kernel = jnp.exp(-0.5 * (x / sigma) ** 2)
    return kernel / jnp.sum(kernel)


@op
def gaussian_blur(
    images: Any,
    kernel_size: Sequence[int] = (3, 3),
    sigma: Sequence[float] = (1.0, 1.0),
    data_format: str | None = None,
) -> jax.Array:
    """Blurs each channel with a Gaussian kernel of ``kernel_size = (height,
    width)`` and standard deviations ``sigma = (along height, along width)``;
    zero padding keeps the size.

    Example:
        >>> from callax import ops
        >>> ops.image.gaussian_blur(ops.ones((1, 5, 5, 3))).shape
        (1, 5, 5, 3)
    """
    images = _images(images, "gaussian_blur")
    kh, kw = _tuple(kernel_size, 2, "kernel_size") if not isinstance(kernel_size, int) else (
        kernel_size, kernel_size)  # fmt: skip
    sigma = (sigma, sigma) if isinstance(sigma, (int, float)) else tuple(sigma)
    x, back = _to_nhwc(images, _data_format(data_format, "gaussian_blur"))
    x = _float(x)
    kernel = jnp.outer(_gaussian_1d(kh, sigma[0], x.dtype), _gaussian_1d(kw, sigma[1], x.dtype))
    channels = x.shape[-1]
    kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
    out = jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=channels, precision=jax.lax.Precision.HIGHEST,
    )  # fmt: skip
    return back(_restore_dtype(out, images.dtype))


@op
def elastic_transform(
    images: Any,
    alpha: float = 20.0,
    sigma: float = 5.0,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    seed: Any = None,
    data_format: str | None = None,
) -> jax.Array:
    """Elastic deformation: each pixel reads the input ``alpha`` times a smooth
    random displacement away, the field being Gaussian noise (std ``sigma``)
    blurred by a Gaussian of std ``sigma`` (kernel ``int(6 sigma) | 1``). Rows
    and columns get independent fields; every image its own.

    Args:
        seed: an int (the same field every call), a ``callax.random.SeedGenerator``,
            a JAX key, or ``None`` (the global random stream).

    Example:
        >>> from callax import ops
        >>> ops.image.elastic_transform(ops.ones((2, 8, 8, 3)), seed=0).shape
        (2, 8, 8, 3)
    """
    if interpolation not in _ORDERS:
        raise ValueError(
            "ops.image.elastic_transform: interpolation must be 'nearest' or 'bilinear'; "
            f"received interpolation={interpolation!r}."
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"ops.image.elastic_transform: fill_mode must be one of {_FILL_MODES}; received "
            f"fill_mode={fill_mode!r}."
        )
    images = _images(images, "elastic_transform")
    x, back = _to_nhwc(images, _data_format(data_format, "elastic_transform"))
    compute = _float(x)
    n, h, w, _ = x.shape
    key = jax.random.wrap_key_data(jnp.asarray(draw_key(seed), jnp.uint32), impl="threefry2x32")
    noise = jax.random.normal(key, (n, h, w, 2), compute.dtype) * sigma
    size = int(6 * sigma) | 1
    field = gaussian_blur(noise, (size, size), (sigma, sigma), "channels_last") * alpha
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=compute.dtype),
                              jnp.arange(w, dtype=compute.dtype), indexing="ij")  # fmt: skip
    order = _ORDERS[interpolation]

    def warp(image, displacement):
        coords = [rows + displacement[..., 0], cols + displacement[..., 1]]

        def channel(plane):
            return jax.scipy.ndimage.map_coordinates(
                plane, coords, order=order, mode=fill_mode, cval=fill_value
            )

        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

    out = jax.vmap(warp)(compute, field)
    return back(_restore_dtype(out, images.dtype))


@op
def extract_patches_3d(
    volumes: Any,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> jax.Array:
    """``extract_patches`` for volumes: ``size`` is an int or ``(depth, height, width)``.

    Example:
        >>> from callax import ops
        >>> ops.image.extract_patches_3d(ops.ones((2, 6, 6, 6, 1)), 3).shape
        (2, 2, 2, 2, 27)
    """
    size = (size,) * 3 if isinstance(size, int) else tuple(size)
    return extract_patches(volumes, size, strides, dilation_rate, padding, data_format)


@op
def scale_and_translate(
    images: Any,
    output_shape: Sequence[int],
    scale: Any,
    translation: Any,
    spatial_dims: Sequence[int],
    method: str,
    antialias: bool = True,
) -> jax.Array:
    """Resamples ``images`` to ``output_shape``, an input location ``x`` along
    ``spatial_dims[i]`` landing at ``x * scale[i] + translation[i]``
    (``jax.image.scale_and_translate``; ``method`` ``"linear"``, ``"cubic"``,
    ``"lanczos3"``, ``"lanczos5"`` or their ``bi``/``tri`` names).

    Example:
        >>> from callax import ops
        >>> x = ops.ones((4, 4, 1))
        >>> ops.image.scale_and_translate(x, (8, 8, 1), [2.0, 2.0], [0.0, 0.0], (0, 1),
        ...                               "bilinear").shape
        (8, 8, 1)
    """
    names = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic", "tricubic": "cubic"}
    if names.get(method, method) not in ("linear", "cubic", "lanczos3", "lanczos5"):
        raise ValueError(
            "ops.image.scale_and_translate: method must be linear, bilinear, trilinear, cubic, "
            f"bicubic, tricubic, lanczos3 or lanczos5; received method={method!r}."
        )
    return jax.image.scale_and_translate(
        _float(jnp.asarray(images)), tuple(output_shape), tuple(spatial_dims),
        jnp.asarray(scale, jnp.float32), jnp.asarray(translation, jnp.float32),
        names.get(method, method), antialias,
    )  # fmt: skip


def _homography(start: jax.Array, end: jax.Array) -> jax.Array:
    """The 8 projective coefficients mapping each ``end`` corner (output) onto
    its ``start`` corner (input): 8 linear equations per image."""
    ex, ey, sx, sy = end[..., 0], end[..., 1], start[..., 0], start[..., 1]
    zero, one = jnp.zeros_like(ex), jnp.ones_like(ex)
    rows_x = jnp.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1)
    rows_y = jnp.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1)
    a = jnp.concatenate([rows_x, rows_y], axis=-2)
    b = jnp.concatenate([sx, sy], axis=-1)[..., None]
    return jnp.linalg.solve(a, b)[..., 0]


@op
def perspective_transform(
    images: Any,
    start_points: Any,
    end_points: Any,
    interpolation: str = "bilinear",
    fill_value: float = 0,
    data_format: str | None = None,
) -> jax.Array:
    """Warps images so that the 4 ``start_points`` (``(x, y)`` corners, shape
    ``(4, 2)`` or ``(batch, 4, 2)``) move to ``end_points``; outside is ``fill_value``.

    Example:
        >>> import numpy as np
        >>> from callax import ops
        >>> corners = np.array([[0, 0], [3, 0], [0, 3], [3, 3]], "float32")
        >>> x = np.arange(16.0).reshape(4, 4, 1)
        >>> bool((ops.image.perspective_transform(x, corners, corners) == x).all())
        True
    """
    start = jnp.asarray(start_points, jnp.float32)
    end = jnp.asarray(end_points, jnp.float32)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or points.shape[-2:] != (4, 2):
            raise ValueError(
                f"ops.image.perspective_transform: {name} must have shape (4, 2) or "
                f"(batch, 4, 2); received {name} with shape {tuple(points.shape)}."
            )
    if start.shape != end.shape:
        raise ValueError(
            "ops.image.perspective_transform: start_points and end_points must have the same "
            f"shape; received {tuple(start.shape)} and {tuple(end.shape)}."
        )
    return affine_transform(images, _homography(start, end), interpolation, "constant",
                            fill_value, data_format)  # fmt: skip


@op
def sobel_edges(images: Any, data_format: str | None = None) -> jax.Array:
    """Sobel gradients of each channel (zero padding), stacked on a new last
    axis as ``[d/dy, d/dx]``.

    Example:
        >>> from callax import ops
        >>> ops.image.sobel_edges(ops.ones((2, 5, 5, 3))).shape
        (2, 5, 5, 3, 2)
    """
    images = _images(images, "sobel_edges")
    x, back = _to_nhwc(images, _data_format(data_format, "sobel_edges"))
    x = _float(x)
    smooth, diff = jnp.array([1.0, 2.0, 1.0], x.dtype), jnp.array([-1.0, 0.0, 1.0], x.dtype)
    channels = x.shape[-1]

    def conv(kernel):
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
        return back(jax.lax.conv_general_dilated(
            x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels, precision=jax.lax.Precision.HIGHEST))  # fmt: skip

    return jnp.stack([conv(jnp.outer(diff, smooth)), conv(jnp.outer(smooth, diff))], axis=-1)


@op
def ssim(
    image1: Any,
    image2: Any,
    max_val: float = 1.0,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_format: str | None = None,
) -> jax.Array:
    """Structural similarity (Wang et al., 2004) of two images or batches: local
    means, variances and covariance under a ``filter_size`` Gaussian window
    (``filter_sigma``, valid positions only), combined as
    ``(2 mu1 mu2 + c1)(2 s12 + c2) / ((mu1^2 + mu2^2 + c1)(s1^2 + s2^2 + c2))`` with
    ``c1 = (k1 max_val)^2``, ``c2 = (k2 max_val)^2``, averaged over positions and
    channels. Returns one value per image (a scalar for one image).

    Example:
        >>> import numpy as np
        >>> from callax import ops
        >>> image = np.random.default_rng(0).random((16, 16, 3)).astype("float32")
        >>> round(float(ops.image.ssim(image, image)), 4)
        1.0
    """
    a, b = _images(image1, "ssim"), _images(image2, "ssim")
    if a.shape != b.shape:
        raise ValueError(
            f"ops.image.ssim: image1 and image2 must have the same shape; received "
            f"image1 shape {tuple(a.shape)} and image2 shape {tuple(b.shape)}."
        )
    if not isinstance(filter_size, (int, np.integer)) or filter_size < 1 or filter_size % 2 == 0:
        raise ValueError(
            f"ops.image.ssim: filter_size must be an odd int >= 1; received "
            f"filter_size={filter_size!r}."
        )
    fmt = _data_format(data_format, "ssim")
    dtype = a.dtype
    unbatched = a.ndim == 3
    x, _ = _to_nhwc(a, fmt)
    y, _ = _to_nhwc(b, fmt)
    x, y = _float(x), _float(y).astype(_float(x).dtype)
    if x.shape[1] < filter_size or x.shape[2] < filter_size:
        raise ValueError(
            f"ops.image.ssim: images must be at least filter_size={filter_size} pixels high "
            f"and wide; received images of height {x.shape[1]} and width {x.shape[2]}."
        )
    g = _gaussian_1d(int(filter_size), filter_sigma, x.dtype)
    channels = x.shape[-1]
    kernel = jnp.tile(jnp.outer(g, g)[:, :, None, None], (1, 1, 1, channels))

    def window_mean(z):
        return jax.lax.conv_general_dilated(
            z, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels, precision=jax.lax.Precision.HIGHEST,
        )  # fmt: skip

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = window_mean(x), window_mean(y)
    s11 = window_mean(x * x) - mu1 * mu1
    s22 = window_mean(y * y) - mu2 * mu2
    s12 = window_mean(x * y) - mu1 * mu2
    num = (2 * mu1 * mu2 + c1) * (2 * s12 + c2)
    den = (mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)
    result = jnp.mean(num / den, axis=(1, 2, 3))
    result = result[0] if unbatched else result
    return result.astype(dtype) if jnp.issubdtype(dtype, jnp.floating) else result
