"""callax.utils.bounding_boxes against numpy formulas and Keras 3's functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from callax.utils import bounding_boxes as bb

FORMATS = list(bb.converters.FORMATS)


def _boxes(n=5, seed=0):
    rng = np.random.default_rng(seed)
    x1, y1 = rng.uniform(0, 50, n), rng.uniform(0, 40, n)
    w, h = rng.uniform(1, 30, n), rng.uniform(1, 20, n)
    return np.stack([x1, y1, x1 + w, y1 + h], axis=-1).astype("float32")


def test_convert_format_matches_numpy_formulas():
    xyxy = _boxes()
    x1, y1, x2, y2 = xyxy.T
    expected = {
        "yxyx": np.stack([y1, x1, y2, x2], -1),
        "xywh": np.stack([x1, y1, x2 - x1, y2 - y1], -1),
        "center_xywh": np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1),
        "center_yxhw": np.stack([(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1], -1),
        "rel_xyxy": np.stack([x1 / 100, y1 / 80, x2 / 100, y2 / 80], -1),
    }
    for target, want in expected.items():
        got = bb.convert_format(xyxy, "xyxy", target, height=80, width=100)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-4, err_msg=target)


@pytest.mark.parametrize("source", FORMATS)
def test_every_format_round_trips(source):
    xyxy = _boxes(seed=1)
    boxes = bb.convert_format(xyxy, "xyxy", source, height=80, width=100)
    for target in FORMATS:
        there = bb.convert_format(boxes, source, target, height=80, width=100)
        back = bb.convert_format(there, target, "xyxy", height=80, width=100)
        np.testing.assert_allclose(np.asarray(back), xyxy, rtol=1e-5, atol=1e-3)


def test_dict_input_and_errors():
    data = {"boxes": _boxes(2), "labels": np.array([1, 2])}
    out = bb.convert_format(data, "xyxy", "xywh")
    assert out is not data and out["labels"] is data["labels"]
    assert out["boxes"].shape == (2, 4)
    with pytest.raises(ValueError, match="target must be one of.*'xxyy'"):
        bb.convert_format(_boxes(), "xyxy", "xxyy")
    with pytest.raises(ValueError, match="height and width.*rel_xyxy"):
        bb.convert_format(_boxes(), "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="last dimension of 4.*\\(2, 3\\)"):
        bb.convert_format(np.ones((2, 3)), "xyxy", "xywh")


def test_deltas_round_trip_and_formula():
    anchors = _boxes(6, seed=2)
    boxes = _boxes(6, seed=3)
    variance = [0.1, 0.1, 0.2, 0.2]
    deltas = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=variance)
    a = np.asarray(bb.convert_format(anchors, "xyxy", "center_yxhw"))
    b = np.asarray(bb.convert_format(boxes, "xyxy", "center_yxhw"))
    want = np.concatenate([(b[:, :2] - a[:, :2]) / a[:, 2:], np.log(b[:, 2:] / a[:, 2:])], -1)
    np.testing.assert_allclose(np.asarray(deltas), want / variance, rtol=1e-4, atol=1e-4)
    decoded = bb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy", variance=variance)
    np.testing.assert_allclose(np.asarray(decoded), boxes, rtol=1e-5, atol=1e-3)
    levels = bb.decode_deltas_to_boxes({"P3": anchors}, {"P3": deltas}, "xyxy", "xywh",
                                       variance=variance)  # fmt: skip
    assert set(levels) == {"P3"} and levels["P3"].shape == (6, 4)
    with pytest.raises(ValueError, match="variance must have 4 values"):
        bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[1.0, 1.0])
    with pytest.raises(ValueError, match="encoding_format must be 'center_xywh'"):
        bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding_format="xyxy")


def _iou_numpy(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            ih = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = iw * ih
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def test_compute_iou_pairwise_batched_and_masked():
    a, b = _boxes(4, seed=4), _boxes(3, seed=5)
    b[0] = a[1]  # one identical pair
    iou = np.asarray(bb.compute_iou(a, b, "xyxy"))
    np.testing.assert_allclose(iou, _iou_numpy(a, b), rtol=1e-5, atol=1e-6)
    assert iou[1, 0] == pytest.approx(1.0, abs=1e-6)
    batched = np.asarray(bb.compute_iou(np.stack([a, a]), b, "xyxy"))
    assert batched.shape == (2, 4, 3)
    np.testing.assert_allclose(batched[1], iou, rtol=1e-6)
    padded = b.copy()
    padded[2] = -1.0
    masked = np.asarray(bb.compute_iou(a, padded, "xyxy", use_masking=True, mask_val=-7))
    assert (masked[:, 2] == -7).all()
    yxyx = bb.convert_format(a, "xyxy", "yxyx")
    np.testing.assert_allclose(
        np.asarray(bb.compute_iou(yxyx, bb.convert_format(b, "xyxy", "yxyx"), "yxyx")),
        iou, rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    with pytest.raises(ValueError, match="image_shape"):
        bb.compute_iou(a, b, "rel_xyxy")


def test_compute_ciou_formula():
    a, b = _boxes(4, seed=6), _boxes(4, seed=7)
    got = np.asarray(bb.compute_ciou(a, b, "xyxy"))
    want = []
    for p, q in zip(a.astype("float64"), b.astype("float64")):
        iou = _iou_numpy([p], [q])[0, 0]
        d2 = ((p[0] + p[2]) / 2 - (q[0] + q[2]) / 2) ** 2 + (
            (p[1] + p[3]) / 2 - (q[1] + q[3]) / 2
        ) ** 2
        c2 = (max(p[2], q[2]) - min(p[0], q[0])) ** 2 + (max(p[3], q[3]) - min(p[1], q[1])) ** 2
        v = 4 / math.pi**2 * (math.atan((q[2] - q[0]) / (q[3] - q[1]))
                              - math.atan((p[2] - p[0]) / (p[3] - p[1]))) ** 2  # fmt: skip
        want.append(iou - d2 / c2 - v * v / (1 - iou + v))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert np.asarray(bb.compute_ciou(a, a, "xyxy")) == pytest.approx(1.0, abs=1e-5)


def test_clip_crop_pad():
    data = {"boxes": np.array([[-5.0, 2, 8, 30], [20, 20, 30, 30]]), "labels": np.array([1, 2])}
    out = bb.clip_to_image_size(data, height=10, width=10)
    assert np.asarray(out["boxes"]).tolist() == [[0, 2, 8, 10], [10, 10, 10, 10]]
    assert np.asarray(out["labels"]).tolist() == [1, -1]
    boxes = np.array([[10.0, 10, 30, 40]])
    assert np.asarray(bb.crop(boxes, top=5, left=15, height=20, width=10)).tolist() == [
        [0, 5, 10, 20]
    ]
    assert np.asarray(bb.pad(boxes, top=3, left=4)).tolist() == [[14, 13, 34, 43]]


@pytest.mark.slow
def test_equal_to_keras():
    keras = pytest.importorskip("keras", reason="Keras 3 is the test oracle")
    kb = keras.utils.bounding_boxes
    a, b = _boxes(5, seed=8), _boxes(5, seed=9)
    conversions = [(f, "xyxy") for f in FORMATS] + [("xyxy", f) for f in FORMATS]
    conversions += [("rel_xywh", "rel_center_xywh"), ("center_yxhw", "rel_yxyx")]
    for source, target in conversions:
        ours = bb.convert_format(a, source, target, height=80, width=100)
        theirs = kb.convert_format(a, source, target, height=80, width=100)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6,
                                   atol=1e-5, err_msg=f"{source}->{target}")  # fmt: skip
    pairs = [
        (bb.compute_iou(a, b, "xyxy"), kb.compute_iou(a, b, "xyxy")),
        (bb.compute_iou(a, b, "center_xywh", use_masking=True),
         kb.compute_iou(a, b, "center_xywh", use_masking=True)),
        (bb.compute_ciou(a, b, "xywh"), kb.compute_ciou(a, b, "xywh")),
        (bb.encode_box_to_deltas(a, b, "xyxy", "yxyx", variance=[0.1, 0.1, 0.2, 0.2]),
         kb.encode_box_to_deltas(a, b, "xyxy", "yxyx", variance=[0.1, 0.1, 0.2, 0.2])),
        (bb.decode_deltas_to_boxes(a, b / 100, "xyxy", "xywh", encoded_format="center_xywh"),
         kb.decode_deltas_to_boxes(a, b / 100, "xyxy", "xywh", encoded_format="center_xywh")),
    ]  # fmt: skip
    for ours, theirs in pairs:
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)
