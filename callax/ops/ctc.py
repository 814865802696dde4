"""Connectionist temporal classification (``keras.ops.nn.ctc_loss`` / ``ctc_decode``).

``output``/``inputs`` are ``(batch, time, classes)`` scores; ``mask_index`` is the
blank class. Decoding returns Keras's layout: ``(top_paths, batch, time)`` class
indices padded with ``-1``, and per-path scores ``(batch, top_paths)``.

Example:
    >>> from callax import ops
    >>> logits = ops.log(ops.array([[[0.1, 0.9, 0.0], [0.1, 0.9, 0.0], [0.9, 0.1, 0.0],
    ...                             [0.1, 0.0, 0.9]]]) + 1e-6)
    >>> paths, scores = ops.ctc_decode(logits, ops.array([4]))
    >>> paths[0].tolist()
    [[1, 2, -1, -1]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from callax.ops.dispatch import op

__all__ = ["ctc_loss", "ctc_decode"]


@op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC negative log-likelihood per sequence, ``(batch,)``.

    ``target``: ``(batch, max_label_length)`` int labels; ``output``: logits
    ``(batch, time, classes)``; the lengths say how much of each row is real.
    """
    output = jnp.asarray(output)
    output = output.astype(jnp.result_type(output.dtype, jnp.float32))
    target = jnp.asarray(target, jnp.int32)
    time = jnp.arange(output.shape[1])
    logit_pad = (time[None, :] >= jnp.asarray(output_length)[:, None]).astype(output.dtype)
    labels = jnp.arange(target.shape[1])
    label_pad = (labels[None, :] >= jnp.asarray(target_length)[:, None]).astype(output.dtype)
    import optax  # imported on first use: keeps `import callax` lean

    return optax.ctc_loss(output, logit_pad, target, label_pad, blank_id=mask_index)


def _greedy(inputs, lengths, merge_repeated, blank):
    batch, time, _ = inputs.shape
    best = jnp.argmax(inputs, axis=-1)
    beyond = jnp.arange(time)[None, :] >= lengths[:, None]
    best = jnp.where(beyond, blank, best)
    # The score is minus the summed best raw scores (as Keras): the NLL for log-probs.
    scores = -jnp.sum(jnp.where(beyond, 0.0, jnp.max(inputs, axis=-1)), axis=1, keepdims=True)
    if merge_repeated:
        repeat = jnp.pad(best[:, 1:] == best[:, :-1], ((0, 0), (1, 0)))
        best = jnp.where(repeat, blank, best)
    keep = best != blank
    # Compact the kept labels to the front of each row (a stable sort on "dropped").
    order = jnp.argsort(~keep, axis=1, stable=True)
    labels = jnp.take_along_axis(jnp.where(keep, best, -1), order, axis=1)
    return labels[None].astype(jnp.int32), scores


def _beam_search_one(logp, length, beam_width, top_paths, blank):
    """Prefix beam search over one sequence ``logp`` (time, classes) of log-probs.

    Each beam is a distinct label prefix with two scores: ending in blank (``pb``)
    and ending in its last label (``pn``). A step proposes, per beam, the same
    prefix (blank, or a repeat of the last label) and every one-label extension;
    an extension that equals another beam's prefix is merged into that beam.
    """
    time, classes = logp.shape
    ninf = jnp.array(-jnp.inf, logp.dtype)
    paths = jnp.full((beam_width, time), -1, jnp.int32)
    lens = jnp.zeros((beam_width,), jnp.int32)
    pb = jnp.full((beam_width,), ninf).at[0].set(0.0)  # the empty prefix
    pn = jnp.full((beam_width,), ninf)
    label_ids = jnp.arange(classes)
    beam_ids = jnp.arange(beam_width)

    def step(state, inputs):
        paths, lens, pb, pn = state
        x, active = inputs
        last = jnp.where(lens > 0, paths[beam_ids, jnp.maximum(lens - 1, 0)], -1)
        total = jnp.logaddexp(pb, pn)
        # Same prefix: a blank ends it in blank; repeating the last label keeps it.
        same_pb = total + x[blank]
        same_pn = jnp.where(lens > 0, pn + x[jnp.maximum(last, 0)], ninf)
        # Extensions by each non-blank label c: after a blank any c is new; the last
        # label can only be re-emitted after a blank.
        ext = jnp.where(label_ids[None, :] == last[:, None], pb[:, None], total[:, None])
        ext = ext + x[None, :]
        ext = jnp.where(label_ids[None, :] == blank, ninf, ext)
        # Merge extensions equal to an existing beam: beam m is prefix(b) + c when
        # m minus its last label equals b and its last label is c.
        parent = jnp.where(jnp.arange(time)[None, :] < (lens - 1)[:, None], paths, -1)
        is_parent = jnp.all(parent[:, None, :] == paths[None, :, :], axis=-1)  # (m, b)
        is_parent &= (lens[:, None] == lens[None, :] + 1) & jnp.isfinite(total)[:, None]
        hit = is_parent[:, :, None] & (label_ids[None, None, :] == last[:, None, None])
        merged = jnp.where(hit, ext[None], ninf)  # (m, b, c)
        same_pn = jnp.logaddexp(same_pn, jax.scipy.special.logsumexp(merged, axis=(1, 2)))
        ext = jnp.where(jnp.any(hit, axis=0), ninf, ext)
        # Keep the best beam_width of the beam_width * (1 + classes) candidates.
        cand_total = jnp.concatenate([jnp.logaddexp(same_pb, same_pn), ext.ravel()])
        best = jax.lax.top_k(cand_total, beam_width)[1]
        is_ext = best >= beam_width
        src = jnp.where(is_ext, (best - beam_width) // classes, best)
        label = (best - beam_width) % classes
        new_lens = lens[src] + is_ext
        new_paths = paths[src]
        new_paths = jnp.where(
            is_ext[:, None] & (jnp.arange(time)[None, :] == lens[src][:, None]),
            label[:, None],
            new_paths,
        )
        new_pb = jnp.where(is_ext, ninf, same_pb[src])
        new_pn = jnp.where(is_ext, cand_total[best], same_pn[src])
        new = (new_paths, new_lens, new_pb, new_pn)
        return jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, state), None

    active = jnp.arange(time) < jnp.maximum(length, 1)  # Keras always reads step 0
    (paths, lens, pb, pn), _ = jax.lax.scan(step, (paths, lens, pb, pn), (logp, active))
    total = jnp.logaddexp(pb, pn)
    order = jnp.argsort(-total, stable=True)[:top_paths]
    return paths[order], total[order]


@op
def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decodes CTC scores ``(batch, time, classes)`` into label sequences.

    ``strategy="greedy"`` takes the best class per step (merging repeats, dropping
    blanks); ``"beam_search"`` runs a prefix beam search on ``log_softmax(inputs)``
    and returns the ``top_paths`` best label sequences with their log-probabilities.
    """
    inputs = jnp.asarray(inputs)
    inputs = inputs.astype(jnp.result_type(inputs.dtype, jnp.float32))
    lengths = jnp.asarray(sequence_lengths, jnp.int32)
    blank = inputs.shape[-1] - 1 if mask_index is None else int(mask_index)
    if strategy == "greedy":
        return _greedy(inputs, lengths, merge_repeated, blank)
    if strategy == "beam_search":
        if top_paths > beam_width:
            raise ValueError(
                f"ctc_decode expects top_paths <= beam_width. "
                f"Received: top_paths={top_paths}, beam_width={beam_width}"
            )
        logp = jax.nn.log_softmax(inputs, axis=-1)
        paths, scores = jax.vmap(
            lambda lp, n: _beam_search_one(lp, n, beam_width, top_paths, blank)
        )(logp, lengths)
        return jnp.transpose(paths, (1, 0, 2)), scores
    raise ValueError(
        f"ctc_decode expects strategy 'greedy' or 'beam_search'. Received: strategy={strategy!r}"
    )
