"""Images to and from arrays: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

Pillow is an optional dependency (``pip install callax[image]``); these functions
import it on first use and say how to install it when it is missing.

Example:
    >>> import numpy as np
    >>> from callax.utils import array_to_img, img_to_array
    >>> x = np.zeros((2, 3, 3), "float32"); x[0, 0] = 1.0
    >>> img = array_to_img(x)  # doctest: +SKIP
    >>> img_to_array(img).shape  # doctest: +SKIP
    (2, 3, 3)
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Any

import numpy as np

from callax.core import config

_RESAMPLE = {
    "nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC",
    "hamming": "HAMMING", "box": "BOX", "lanczos": "LANCZOS",
}  # fmt: skip


def pil_image() -> Any:
    """``PIL.Image``, or an ImportError naming the extra that installs it."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            "This image utility needs Pillow, an optional dependency of callax: install it "
            "with `pip install callax[image]` (or `pip install pillow`)."
        ) from e
    return Image


def _data_format(data_format: str | None) -> str:
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "data_format must be 'channels_last' or 'channels_first'; "
            f"received data_format={data_format!r}."
        )
    return data_format


def img_to_array(img: Any, data_format: str | None = None, dtype: str | None = None) -> np.ndarray:
    """A PIL image as a 3D array ``(height, width, channels)`` (channels first
    when ``data_format="channels_first"``), of ``dtype`` (default ``floatx()``)."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[np.newaxis] if data_format == "channels_first" else x[..., np.newaxis]
    raise ValueError(f"img_to_array: unsupported image shape; received shape {x.shape}.")


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: str | None = None
) -> Any:
    """A 3D array ``(height, width, channels)`` as a PIL image: 1 channel gives
    mode ``L`` (``I`` above 255), 3 ``RGB``, 4 ``RGBA``. With ``scale`` the
    values are stretched to 0-255 first."""
    image = pil_image()
    data_format = _data_format(data_format)
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(
            "array_to_img: expected an image array of rank 3 (height, width, channels); "
            f"received shape {x.shape}."
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported channel number {channels}; expected 1, 3 or 4.")


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Saves an image array to ``path`` (format from the extension unless
    ``file_format``); RGBA saved as JPEG drops the alpha channel with a warning."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    fmt = file_format
    if fmt is None and isinstance(path, (str, os.PathLike)):
        fmt = os.path.splitext(os.fspath(path))[1][1:] or None
    if img.mode == "RGBA" and fmt is not None and fmt.lower() in ("jpg", "jpeg"):
        warnings.warn("The JPEG format does not support RGBA images; converting to RGB.",
                      stacklevel=2)  # fmt: skip
        img = img.convert("RGB")
    if file_format is None and fmt is not None and fmt.lower() == "jpg":
        file_format = "jpeg"
    img.save(path, format=file_format, **kwargs)


def crop_box(width: int, height: int, target_width: int, target_height: int) -> tuple:
    """The centred ``(left, top, right, bottom)`` box of the target aspect ratio."""
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return left, top, left + crop_width, top + crop_height


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Loads an image file (path, ``pathlib.Path`` or bytes stream) as a PIL image.

    Args:
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``(height, width)`` to resize to, or ``None``.
        interpolation: ``nearest``, ``bilinear``, ``bicubic``, ``hamming``,
            ``box`` or ``lanczos``.
        keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.
    """
    image = pil_image()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, os.PathLike)):
        with open(os.fspath(path), "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(
            "load_img: path must be a file path or an io.BytesIO stream; "
            f"received {type(path).__name__}."
        )
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(
            "load_img: color_mode must be 'grayscale', 'rgb' or 'rgba'; "
            f"received color_mode={color_mode!r}."
        )
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            if interpolation not in _RESAMPLE:
                raise ValueError(
                    f"load_img: interpolation must be one of {', '.join(_RESAMPLE)}; "
                    f"received interpolation={interpolation!r}."
                )
            resample = getattr(image.Resampling, _RESAMPLE[interpolation])
            box = crop_box(*img.size, *size) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img
