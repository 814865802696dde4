"""Bounding-box utilities under Keras 3's ``keras.utils.bounding_boxes`` names.

Format conversion (``convert_format``: ``xyxy``, ``yxyx``, ``xywh``,
``center_xywh``, ``center_yxhw`` and the relative ``rel_*`` forms), clipping,
cropping and padding, anchor-delta encoding/decoding for detection heads, and
IoU / Complete-IoU, as KerasHub's detection models (RetinaNet, D-FINE) call them.
``affine_transform`` is not provided.

Example:
    >>> import numpy as np
    >>> from callax.utils import bounding_boxes
    >>> boxes = np.array([[10, 20, 30, 40]])
    >>> bounding_boxes.convert_format(boxes, "xyxy", "center_xywh").tolist()
    [[20.0, 30.0, 20.0, 20.0]]
"""

from callax.utils.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
    crop,
    decode_deltas_to_boxes,
    encode_box_to_deltas,
    pad,
)
from callax.utils.bounding_boxes.iou import compute_ciou, compute_iou

__all__ = [
    "clip_to_image_size", "compute_ciou", "compute_iou", "convert_format", "crop",
    "decode_deltas_to_boxes", "encode_box_to_deltas", "pad",
]  # fmt: skip
