"""Bounding-box format conversion, clipping, cropping, padding and anchor deltas.

Formats (last axis of 4 numbers, case-insensitive):

- ``xyxy``: left, top, right, bottom; ``yxyx``: top, left, bottom, right
- ``xywh``: left, top, width, height
- ``center_xywh``: center x, center y, width, height; ``center_yxhw``: y, x, h, w
- ``rel_xyxy``, ``rel_yxyx``, ``rel_xywh``, ``rel_center_xywh``: the same with x
  divided by the image width and y by its height (needs ``height``/``width``).

Every conversion goes through absolute ``xyxy``; between two relative formats no
scaling happens at all (the image size cancels).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core import config

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
           "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh")  # fmt: skip


def _split(boxes: jnp.ndarray) -> list[jnp.ndarray]:
    return [boxes[..., i : i + 1] for i in range(4)]


def _join(*parts: jnp.ndarray) -> jnp.ndarray:
    return jnp.concatenate(parts, axis=-1)


def _layout_to_xyxy(layout: str, boxes: jnp.ndarray) -> jnp.ndarray:
    a, b, c, d = _split(boxes)
    if layout == "xyxy":
        return boxes
    if layout == "yxyx":
        return _join(b, a, d, c)
    if layout == "xywh":
        return _join(a, b, a + c, b + d)
    if layout == "center_xywh":
        return _join(a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0)
    # center_yxhw: (cy, cx, h, w)
    return _join(b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0)


def _xyxy_to_layout(layout: str, boxes: jnp.ndarray) -> jnp.ndarray:
    x1, y1, x2, y2 = _split(boxes)
    w, h = x2 - x1, y2 - y1
    if layout == "xyxy":
        return boxes
    if layout == "yxyx":
        return _join(y1, x1, y2, x2)
    if layout == "xywh":
        return _join(x1, y1, w, h)
    cx, cy = x1 + w / 2.0, y1 + h / 2.0
    if layout == "center_xywh":
        return _join(cx, cy, w, h)
    return _join(cy, cx, h, w)  # center_yxhw


def _scale_xyxy(boxes: jnp.ndarray, sx: Any, sy: Any, divide: bool = False) -> jnp.ndarray:
    x1, y1, x2, y2 = _split(boxes)
    if divide:
        return _join(x1 / sx, y1 / sy, x2 / sx, y2 / sy)
    return _join(x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def _check_format(name: str, value: Any) -> str:
    fmt = value.lower() if isinstance(value, str) else value
    if fmt not in FORMATS:
        raise ValueError(
            f"bounding_boxes: {name} must be one of {list(FORMATS)}; received {name}={value!r}."
        )
    return fmt


def convert_format(
    boxes: Any,
    source: str,
    target: str,
    height: Any = None,
    width: Any = None,
    dtype: Any = "float32",
) -> Any:
    """Converts boxes (an array ``(..., 4)``, or a dict whose ``"boxes"`` entry is
    one) from format ``source`` to ``target``; ``height``/``width`` (the image
    size) are needed when exactly one side is relative (``rel_*``). Returns
    ``dtype`` boxes (a dict comes back as a new dict with converted ``"boxes"``).

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> boxes = np.array([[10, 20, 30, 40]])
        >>> bounding_boxes.convert_format(boxes, "xyxy", "xywh").tolist()
        [[10.0, 20.0, 20.0, 20.0]]
        >>> bounding_boxes.convert_format(boxes, "xyxy", "rel_xyxy", height=200, width=100).tolist()
        [[0.10000000149011612, 0.10000000149011612, 0.30000001192092896, 0.20000000298023224]]
    """
    if isinstance(boxes, dict):
        out = dict(boxes)
        out["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return out
    src = _check_format("source", source)
    dst = _check_format("target", target)
    boxes = jnp.asarray(boxes)
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(
            "bounding_boxes.convert_format: boxes must have a last dimension of 4; "
            f"received boxes of shape {tuple(boxes.shape)}."
        )
    src_rel, dst_rel = src.startswith("rel_"), dst.startswith("rel_")
    if (src_rel or dst_rel) and (height is None or width is None):
        raise ValueError(
            "bounding_boxes.convert_format: height and width (the image size) are "
            f"required to convert between relative and absolute formats; received "
            f"source={source!r}, target={target!r}, height={height!r}, width={width!r}."
        )
    boxes = boxes.astype(dtype)
    if src == dst:
        return boxes
    if src_rel and dst_rel:  # the image size cancels out
        src, dst = src[4:], dst[4:]
        src_rel = dst_rel = False
    xyxy = _layout_to_xyxy(src[4:] if src_rel else src, boxes)
    if src_rel:
        xyxy = _scale_xyxy(xyxy, jnp.asarray(width, dtype), jnp.asarray(height, dtype))
    if dst_rel:
        xyxy = _scale_xyxy(xyxy, jnp.asarray(width, dtype), jnp.asarray(height, dtype), True)
        return _xyxy_to_layout(dst[4:], xyxy)
    return _xyxy_to_layout(dst, xyxy)


def _areas_xyxy(boxes: jnp.ndarray) -> jnp.ndarray:
    x1, y1, x2, y2 = _split(boxes)
    return ((x2 - x1) * (y2 - y1))[..., 0]


def clip_to_image_size(
    bounding_boxes: dict,
    height: Any = None,
    width: Any = None,
    bounding_box_format: str = "xyxy",
) -> dict:
    """Clips ``bounding_boxes["boxes"]`` (``xyxy`` or ``rel_xyxy``) to the image;
    ``labels`` of boxes left with no area become ``-1``. Returns a new dict.

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> out = bounding_boxes.clip_to_image_size(
        ...     {"boxes": np.array([[-5.0, 2, 8, 30], [20, 20, 30, 30]]),
        ...      "labels": np.array([1, 2])}, height=10, width=10)
        >>> out["boxes"].tolist(), out["labels"].tolist()
        ([[0.0, 2.0, 8.0, 10.0], [10.0, 10.0, 10.0, 10.0]], [1, -1])
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(
            "bounding_boxes.clip_to_image_size supports bounding_box_format 'xyxy' and "
            f"'rel_xyxy'; received {bounding_box_format!r}."
        )
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError(
            "bounding_boxes.clip_to_image_size: height and width are required for "
            f"'xyxy' boxes; received height={height!r}, width={width!r}."
        )
    boxes = jnp.asarray(bounding_boxes["boxes"])
    if bounding_box_format == "xyxy":
        w, h = jnp.asarray(width, boxes.dtype), jnp.asarray(height, boxes.dtype)
    else:
        w = h = jnp.asarray(1.0, boxes.dtype)
    x1, y1, x2, y2 = _split(boxes)
    boxes = _join(jnp.clip(x1, 0, w), jnp.clip(y1, 0, h), jnp.clip(x2, 0, w), jnp.clip(y2, 0, h))
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    labels = bounding_boxes.get("labels")
    if labels is not None:
        result["labels"] = jnp.where(_areas_xyxy(boxes) > 0, jnp.asarray(labels), -1)
    return result


def crop(
    boxes: Any, top: Any, left: Any, height: Any, width: Any, bounding_box_format: str = "xyxy"
) -> jnp.ndarray:
    """``xyxy`` boxes in the frame of the crop ``[top, top+height) x [left, left+width)``,
    clipped to it."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError(
            f"bounding_boxes.crop supports 'xyxy' boxes; received {bounding_box_format!r}."
        )
    x1, y1, x2, y2 = _split(jnp.asarray(boxes))
    return _join(
        jnp.clip(x1 - left, 0, width), jnp.clip(y1 - top, 0, height),
        jnp.clip(x2 - left, 0, width), jnp.clip(y2 - top, 0, height),
    )  # fmt: skip


def pad(boxes: Any, top: Any, left: Any, bounding_box_format: str = "xyxy") -> jnp.ndarray:
    """``xyxy`` boxes shifted by the padding added above (``top``) and left of the image."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError(
            f"bounding_boxes.pad supports 'xyxy' boxes; received {bounding_box_format!r}."
        )
    x1, y1, x2, y2 = _split(jnp.asarray(boxes))
    return _join(x1 + left, y1 + top, x2 + left, y2 + top)


def _variance(variance: Any) -> jnp.ndarray | None:
    if variance is None:
        return None
    v = jnp.asarray(variance, "float32")
    if v.shape[-1:] != (4,):
        raise ValueError(
            f"bounding_boxes: variance must have 4 values; received variance={variance!r}."
        )
    return v


def _check_center(name: str, value: str) -> None:
    if value not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            f"bounding_boxes: {name} must be 'center_xywh' or 'center_yxhw'; received "
            f"{name}={value!r}."
        )


def _image_hw(image_shape: Any) -> tuple[Any, Any]:
    if image_shape is None:
        return None, None
    return image_shape[0], image_shape[1]


def encode_box_to_deltas(
    anchors: Any,
    boxes: Any,
    anchor_format: str,
    box_format: str,
    encoding_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> jnp.ndarray:
    """Regression targets of ``boxes`` relative to ``anchors``: in the center
    format ``encoding_format``, ``(center - anchor_center) / anchor_size`` and
    ``log(size / anchor_size)``, divided by ``variance`` if given.

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> anchors = np.array([[0.0, 0, 10, 10]])
        >>> deltas = bounding_boxes.encode_box_to_deltas(
        ...     anchors, np.array([[5.0, 0, 15, 20]]), "xyxy", "xyxy")
        >>> np.round(np.asarray(deltas), 4).tolist()   # (dy, dx, log dh, log dw)
        [[0.5, 0.5, 0.6931, 0.0]]
    """
    _check_center("encoding_format", encoding_format)
    var = _variance(variance)
    h, w = _image_hw(image_shape)
    enc_anchors = convert_format(anchors, anchor_format, encoding_format, height=h, width=w)
    enc_boxes = convert_format(boxes, box_format, encoding_format, height=h, width=w)
    eps = config.epsilon()
    anchor_size = jnp.maximum(enc_anchors[..., 2:], eps)
    box_size = jnp.maximum(enc_boxes[..., 2:], eps)
    deltas = jnp.concatenate(
        [
            (enc_boxes[..., :2] - enc_anchors[..., :2]) / anchor_size,
            jnp.log(box_size / anchor_size),
        ],
        axis=-1,
    )
    return deltas if var is None else deltas / var


def decode_deltas_to_boxes(
    anchors: Any,
    boxes_delta: Any,
    anchor_format: str,
    box_format: str,
    encoded_format: str = "center_yxhw",
    variance: Any = None,
    image_shape: Any = None,
) -> Any:
    """The inverse of ``encode_box_to_deltas``: boxes in ``box_format``. ``anchors``
    and ``boxes_delta`` may be dicts of pyramid levels (decoded level by level).

    Example:
        >>> import numpy as np
        >>> from callax.utils import bounding_boxes
        >>> anchors = np.array([[0.0, 0, 10, 10]])
        >>> deltas = np.array([[0.5, 0.5, np.log(2.0), 0.0]])
        >>> bounding_boxes.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy").tolist()
        [[5.0, 0.0, 15.0, 20.0]]
    """
    _check_center("encoded_format", encoded_format)
    var = _variance(variance)
    h, w = _image_hw(image_shape)

    def decode(anchor: Any, delta: Any) -> jnp.ndarray:
        enc = convert_format(anchor, anchor_format, encoded_format, height=h, width=w)
        delta = jnp.asarray(delta)
        if var is not None:
            delta = delta * var
        centers = delta[..., :2] * enc[..., 2:] + enc[..., :2]
        sizes = jnp.exp(delta[..., 2:]) * enc[..., 2:]
        boxes = jnp.concatenate([centers, sizes], axis=-1)
        return convert_format(boxes, encoded_format, box_format, height=h, width=w)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchors[level], boxes_delta[level]) for level in anchors}
    return decode(anchors, boxes_delta)
