"""Intersection over union: pairwise IoU tables and element-wise Complete IoU."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from callax.core import config
from callax.utils.bounding_boxes.converters import convert_format


def _check_rank(name: str, boxes: jnp.ndarray) -> None:
    if boxes.ndim not in (2, 3):
        raise ValueError(
            f"bounding_boxes.compute_iou: {name} must be (N, 4) or (batch, N, 4); "
            f"received {name} of shape {tuple(boxes.shape)}."
        )


def compute_iou(
    boxes1: Any,
    boxes2: Any,
    bounding_box_format: str,
    use_masking: bool = False,
    mask_val: float = -1,
    image_shape: Any = None,
) -> jnp.ndarray:
    """The IoU of every box of ``boxes1`` with every box of ``boxes2``:
    ``(M, N)`` for unbatched inputs, ``(batch, M, N)`` if either is batched.
    ``use_masking`` puts ``mask_val`` where a box has all coordinates below 0
    (padding). Relative formats need ``image_shape`` ``(height, width, channels)``.

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> a = np.array([[0.0, 0, 2, 2]])
        >>> b = np.array([[1.0, 1, 3, 3], [0, 0, 2, 2]])
        >>> np.round(np.asarray(bounding_boxes.compute_iou(a, b, "xyxy")), 4).tolist()
        [[0.1429, 1.0]]
    """
    boxes1, boxes2 = jnp.asarray(boxes1), jnp.asarray(boxes2)
    _check_rank("boxes1", boxes1)
    _check_rank("boxes2", boxes2)
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "bounding_boxes.compute_iou: relative formats need image_shape=(height, width, "
            f"channels); received bounding_box_format={bounding_box_format!r}, "
            "image_shape=None."
        )
    h, w = (None, None) if image_shape is None else (image_shape[0], image_shape[1])
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", height=h, width=w)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", height=h, width=w)
    # Pairwise: boxes1 along axis -2, boxes2 along axis -1 (batch axes broadcast).
    p = b1[..., :, None, :]
    q = b2[..., None, :, :]
    inter_w = jnp.maximum(jnp.minimum(p[..., 2], q[..., 2]) - jnp.maximum(p[..., 0], q[..., 0]), 0)
    inter_h = jnp.maximum(jnp.minimum(p[..., 3], q[..., 3]) - jnp.maximum(p[..., 1], q[..., 1]), 0)
    inter = inter_w * inter_h
    area1 = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1])
    area2 = (q[..., 2] - q[..., 0]) * (q[..., 3] - q[..., 1])
    iou = inter / (area1 + area2 - inter + config.epsilon())
    if not use_masking:
        return iou
    pad1 = (jnp.max(b1, axis=-1) < 0)[..., :, None]
    pad2 = (jnp.max(b2, axis=-1) < 0)[..., None, :]
    return jnp.where(pad1 | pad2, jnp.asarray(mask_val, iou.dtype), iou)


def compute_ciou(
    boxes1: Any, boxes2: Any, bounding_box_format: str, image_shape: Any = None
) -> jnp.ndarray:
    """Complete IoU of corresponding boxes (shapes ``(..., 4)``, broadcast):
    ``IoU - d^2 / c^2 - alpha * v``, with ``d`` the distance between centers,
    ``c`` the diagonal of the smallest enclosing box, ``v`` the aspect-ratio
    discrepancy ``4/pi^2 (atan(w2/h2) - atan(w1/h1))^2`` and
    ``alpha = v / (1 - IoU + v)`` (Zheng et al., 2020). Absolute formats only.

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> box = np.array([[0.0, 0, 2, 2]])
        >>> np.round(np.asarray(bounding_boxes.compute_ciou(box, box, "xyxy")), 4).tolist()
        [1.0]
    """
    if "rel" in bounding_box_format:
        raise ValueError(
            "bounding_boxes.compute_ciou supports absolute formats only; received "
            f"bounding_box_format={bounding_box_format!r}."
        )
    h, w = (None, None) if image_shape is None else (image_shape[0], image_shape[1])
    b1 = convert_format(jnp.asarray(boxes1), bounding_box_format, "xyxy", height=h, width=w)
    b2 = convert_format(jnp.asarray(boxes2), bounding_box_format, "xyxy", height=h, width=w)
    eps = config.epsilon()
    x1a, y1a, x2a, y2a = (b1[..., i] for i in range(4))
    x1b, y1b, x2b, y2b = (b2[..., i] for i in range(4))
    # eps in the heights keeps atan(w / h) finite for degenerate boxes.
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    inter = jnp.maximum(jnp.minimum(x2a, x2b) - jnp.maximum(x1a, x1b), 0) * jnp.maximum(
        jnp.minimum(y2a, y2b) - jnp.maximum(y1a, y1b), 0
    )
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / (union + eps)
    enclose_w = jnp.maximum(x2a, x2b) - jnp.minimum(x1a, x1b)
    enclose_h = jnp.maximum(y2a, y2b) - jnp.minimum(y1a, y1b)
    diagonal_sq = enclose_w**2 + enclose_h**2 + eps
    center_sq = ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2
    v = (4 / math.pi**2) * (jnp.arctan(w2 / h2) - jnp.arctan(w1 / h1)) ** 2
    alpha = v / (v - iou + (1 + eps))
    return iou - (center_sq / diagonal_sq + v * alpha)
