"""``image_dataset_from_directory``: batches of images from a folder per class.

Keras returns a ``tf.data.Dataset``; callax returns a
:class:`~callax.utils.dataset_utils.BatchDataset` (a ``PyDataset``) with the same
batches, ``class_names`` and ``file_paths`` (see that module for the
differences). Images are decoded with Pillow and resized like
``tf.image.resize`` (half-pixel centres, no antialiasing) to float32 arrays.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from callax.utils import image_dataset_from_directory, save_img
    >>> root = tempfile.mkdtemp()
    >>> for cls in ("cat", "dog"):
    ...     os.makedirs(os.path.join(root, cls))
    ...     save_img(os.path.join(root, cls, "a.png"), np.ones((4, 4, 3)))  # doctest: +SKIP
    >>> ds = image_dataset_from_directory(root, image_size=(2, 2), verbose=False)  # doctest: +SKIP
    >>> ds.class_names, ds[0][0].shape  # doctest: +SKIP
    (['cat', 'dog'], (2, 2, 2, 3))
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np

from callax.utils import dataset_utils as du
from callax.utils.image_utils import _data_format, crop_box, pil_image

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = (
    "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic",
)  # fmt: skip
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _axis_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of linear interpolation with half-pixel centres."""
    coords = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    coords = np.clip(coords, 0, n_in - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    return low, high, (coords - low).astype("float32")


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of ``(h, w, c)`` as ``tf.image.resize`` (no antialias)."""
    y0, y1, wy = _axis_weights(image.shape[0], height)
    x0, x1, wx = _axis_weights(image.shape[1], width)
    rows = image[y0] * (1 - wy)[:, None, None] + image[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize with half-pixel centres (``tf.image.resize``)."""
    ys = np.minimum(
        np.floor((np.arange(height) + 0.5) * image.shape[0] / height), image.shape[0] - 1
    )
    xs = np.minimum(np.floor((np.arange(width) + 0.5) * image.shape[1] / width), image.shape[1] - 1)
    return image[ys.astype(int)][:, xs.astype(int)]


def resize_image(image: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """``image`` (``(h, w, c)`` float32) resized to ``size`` = ``(height, width)``."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    if interpolation == "bilinear":
        return resize_bilinear(image, height, width)
    if interpolation == "nearest":
        return resize_nearest(image, height, width)
    method = {"bicubic": "bicubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5",
              "mitchellcubic": "cubic", "gaussian": "linear", "area": "linear"}[interpolation]  # fmt: skip
    # area/gaussian average over the source pixels: jax's antialiased linear filter.
    antialias = interpolation in ("area", "gaussian")
    out = jax.image.resize(image, (height, width, image.shape[2]), method, antialias=antialias)
    return np.asarray(out, dtype="float32")


def _pad_to_aspect(image: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    pad_h = max(h, (w * height) // width)
    pad_w = max(w, (h * width) // height)
    out = np.zeros((pad_h, pad_w, image.shape[2]), dtype=image.dtype)
    top, left = (pad_h - h) // 2, (pad_w - w) // 2
    out[top : top + h, left : left + w] = image
    return out


def load_image(
    path: str,
    image_size: tuple[int, int],
    num_channels: int,
    interpolation: str,
    data_format: str,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
) -> np.ndarray:
    """One image file as a float32 array of ``image_size`` and ``num_channels``."""
    image = pil_image()
    with image.open(path) as img:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[num_channels]
        img.seek(0)  # the first frame of an animation (as expand_animations=False)
        x = np.asarray(img.convert(mode), dtype="float32")
    if x.ndim == 2:
        x = x[..., None]
    height, width = image_size
    if crop_to_aspect_ratio:
        left, top, right, bottom = crop_box(x.shape[1], x.shape[0], width, height)
        x = x[top:bottom, left:right]
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, height, width)
    x = resize_image(x, (height, width), interpolation)
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def image_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] | int = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
) -> Any:
    """Batches ``(images, labels)`` from ``directory/<class>/<image files>``.

    Arguments are Keras 3's. ``labels="inferred"`` takes the classes from the
    subdirectory names (sorted); ``label_mode`` gives labels as ``int`` (int32),
    ``categorical`` (one-hot) or ``binary`` (float32 ``(n, 1)``), or ``None``
    for images only. Images are float32 ``(batch, height, width, channels)``.
    ``subset="both"`` returns ``[training, validation]``. ``format`` is
    accepted for compatibility; the result is always a callax ``PyDataset``.
    """
    labels, label_mode = du.check_label_args(
        "image_dataset_from_directory", "image file", labels, class_names, label_mode
    )
    if color_mode not in _CHANNELS:
        raise ValueError(
            "image_dataset_from_directory: color_mode must be 'rgb', 'rgba' or 'grayscale'; "
            f"received color_mode={color_mode!r}."
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "image_dataset_from_directory: image_size must be a (height, width) pair; "
            f"received image_size={image_size!r}."
        )
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"image_dataset_from_directory: interpolation must be one of {_INTERPOLATIONS}; "
            f"received interpolation={interpolation!r}."
        )
    du.check_split_args(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_array, names = du.index_directory(
        directory, labels, ALLOWLIST_FORMATS, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose,
    )  # fmt: skip
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            "image_dataset_from_directory: label_mode='binary' needs exactly 2 classes; "
            f"received class_names={names}."
        )
    data_format = _data_format(data_format)
    size = (int(image_size[0]), int(image_size[1]))
    num_channels = _CHANNELS[color_mode]

    def read(paths: list[str], indices: np.ndarray) -> np.ndarray:
        return np.stack([
            load_image(paths[i], size, num_channels, interpolation, data_format,
                       crop_to_aspect_ratio, pad_to_aspect_ratio)
            for i in indices
        ])  # fmt: skip

    # Decoding runs in threads (Pillow releases the GIL), ahead of the training step.
    return du.subset_datasets(
        "image_dataset_from_directory",
        f"images found in directory {directory!r}; allowed formats: {ALLOWLIST_FORMATS}.",
        paths, label_array, names, label_mode, read, subset=subset,
        validation_split=validation_split, batch_size=batch_size, shuffle=shuffle, seed=seed,
        verbose=verbose, workers=min(4, os.cpu_count() or 1),
    )  # fmt: skip
