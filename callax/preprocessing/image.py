"""``keras.preprocessing.image``: image file helpers and ``smart_resize``.

Example:
    >>> import numpy as np
    >>> from callax.preprocessing.image import smart_resize
    >>> smart_resize(np.ones((10, 20, 3)), (4, 4)).shape
    (4, 4, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.utils.image_utils import array_to_img, img_to_array, load_img, save_img

_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")


def smart_resize(
    x: Any,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    data_format: str = "channels_last",
    **kwargs: Any,
) -> Any:
    """Resizes images to ``size`` without distorting them: the largest centred
    crop with the target aspect ratio, then a resize (as ``tf.image.resize``,
    no antialiasing). ``x`` is ``(h, w, c)`` or ``(batch, h, w, c)`` (channels
    first with ``data_format="channels_first"``); returns a ``jax.Array``."""
    if kwargs:
        raise ValueError(f"smart_resize: unknown keyword arguments {sorted(kwargs)}.")
    if len(size) != 2:
        raise ValueError(f"smart_resize: size must be (height, width); received size={size!r}.")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"smart_resize: interpolation must be one of {_INTERPOLATIONS}; "
            f"received interpolation={interpolation!r}."
        )
    img = jnp.asarray(x)
    if img.ndim not in (3, 4):
        raise ValueError(
            "smart_resize: expected an image (height, width, channels) or a batch "
            f"(batch, height, width, channels); received shape {img.shape}."
        )
    first = data_format == "channels_first"
    height, width = (img.shape[-2], img.shape[-1]) if first else (img.shape[-3], img.shape[-2])
    target_h, target_w = int(size[0]), int(size[1])
    crop_h = max(min(height, int(width * target_h / target_w)), 1)
    crop_w = max(min(width, int(height * target_w / target_h)), 1)
    top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
    rows, cols = slice(top, top + crop_h), slice(left, left + crop_w)
    img = img[..., rows, cols] if first else img[..., rows, cols, :]
    shape = list(img.shape)
    if first:
        shape[-2:] = [target_h, target_w]
    else:
        shape[-3:-1] = [target_h, target_w]
    method = {"bicubic": "cubic", "area": "linear"}.get(interpolation, interpolation)
    if not jnp.issubdtype(img.dtype, jnp.floating):
        img = img.astype("float32")
    return jax.image.resize(img, tuple(shape), method, antialias=interpolation == "area")


__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
del np
