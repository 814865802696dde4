"""ctc_loss / ctc_decode: against brute force over all alignments, and Keras 3."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import ops

rng = np.random.default_rng(3)
T, C = 5, 4  # small enough to enumerate all C**T alignments
LOGITS = rng.normal(size=(3, T, C)).astype("float32") * 2
LENGTHS = np.array([5, 3, 4], "int32")


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _collapse(path, blank):
    out = [k for k, _ in itertools.groupby(path)]
    return tuple(k for k in out if k != blank)


def _label_probs(logits, length, blank):
    """log P(labels | x) for every label sequence, by summing all alignments."""
    logp = _log_softmax(logits.astype("float64"))[:length]
    probs: dict = {}
    for path in itertools.product(range(C), repeat=length):
        p = np.exp(sum(logp[t, k] for t, k in enumerate(path)))
        key = _collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + p
    return {k: np.log(v) for k, v in probs.items()}


@pytest.mark.parametrize("blank", [0, C - 1])
def test_ctc_loss_is_the_alignment_sum(blank):
    labels = [k for k in range(C) if k != blank]
    target = np.array([[labels[0], labels[1], 0], [labels[2], 0, 0], [labels[0], labels[0], 0]])
    target_length = np.array([2, 1, 2], "int32")
    loss = np.asarray(ops.ctc_loss(target, LOGITS, target_length, LENGTHS, mask_index=blank))
    for b in range(3):
        table = _label_probs(LOGITS[b], LENGTHS[b], blank)
        expected = -table[tuple(target[b, : target_length[b]])]
        np.testing.assert_allclose(loss[b], expected, rtol=1e-4)
    keras = pytest.importorskip("keras")
    np.testing.assert_allclose(
        loss,
        keras.ops.ctc_loss(target, LOGITS, target_length, LENGTHS, mask_index=blank),
        rtol=1e-4,
    )


def test_ctc_loss_gradients():
    target = np.array([[1, 2], [3, 3]], "int32")
    check_grads(
        lambda x: ops.ctc_loss(target, x, np.array([2, 2]), np.array([5, 4])),
        (LOGITS[:2],), 1, rtol=2e-2,
    )  # fmt: skip


def _np_greedy(logits, length, blank, merge):
    best = list(np.argmax(logits[:length], -1))
    if merge:
        best = [k for k, _ in itertools.groupby(best)]
    return [k for k in best if k != blank]


@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("blank", [0, 2])
def test_greedy(merge_repeated, blank):
    paths, scores = ops.ctc_decode(LOGITS, LENGTHS, merge_repeated=merge_repeated, mask_index=blank)
    assert paths.shape == (1, 3, T) and scores.shape == (3, 1)
    for b in range(3):
        expected = _np_greedy(LOGITS[b], LENGTHS[b], blank, merge_repeated)
        assert paths[0, b].tolist() == expected + [-1] * (T - len(expected))
        np.testing.assert_allclose(scores[b, 0], -LOGITS[b, : LENGTHS[b]].max(-1).sum(), 1e-5)
    keras = pytest.importorskip("keras")
    k_paths, k_scores = keras.ops.ctc_decode(
        LOGITS, LENGTHS, merge_repeated=merge_repeated, mask_index=blank
    )
    np.testing.assert_array_equal(paths, k_paths)
    np.testing.assert_allclose(scores, k_scores, rtol=1e-5)


@pytest.mark.parametrize("blank", [0, C - 1])
def test_beam_search_wide_beam_is_exact(blank):
    """With a beam as wide as the number of prefixes, prefix beam search is exact:
    the top paths are the most probable label sequences, with their log-probs."""
    top = 3
    paths, scores = ops.ctc_decode(
        LOGITS, LENGTHS, strategy="beam_search", beam_width=200, top_paths=top, mask_index=blank
    )
    assert paths.shape == (top, 3, T) and scores.shape == (3, top)
    for b in range(3):
        table = sorted(_label_probs(LOGITS[b], LENGTHS[b], blank).items(), key=lambda kv: -kv[1])
        for i in range(top):
            labels, logp = table[i]
            row = paths[i, b].tolist()
            assert row == list(labels) + [-1] * (T - len(labels))
            np.testing.assert_allclose(scores[b, i], logp, rtol=1e-4)


@pytest.mark.parametrize("beam_width,top_paths", [(2, 1), (3, 2), (16, 4)])
def test_beam_search_matches_keras(beam_width, top_paths):
    keras = pytest.importorskip("keras")
    logits = rng.normal(size=(4, 8, 6)).astype("float32") * 3
    lengths = np.array([8, 6, 1, 7], "int32")
    kw = {"strategy": "beam_search", "beam_width": beam_width, "top_paths": top_paths}
    paths, scores = ops.ctc_decode(logits, lengths, **kw)
    k_paths, k_scores = keras.ops.ctc_decode(logits, lengths, **kw)
    np.testing.assert_array_equal(paths, k_paths)
    np.testing.assert_allclose(scores, k_scores, rtol=1e-4)


def test_symbolic_and_errors():
    x = callax.Input((T, C))
    n = callax.Input((), dtype="int32")
    model = callax.Model([x, n], ops.ctc_decode(x, n)[0])
    np.testing.assert_array_equal(model([LOGITS, LENGTHS]), ops.ctc_decode(LOGITS, LENGTHS)[0])
    with pytest.raises(ValueError, match="strategy 'greedy' or 'beam_search'"):
        ops.ctc_decode(LOGITS, LENGTHS, strategy="best")
