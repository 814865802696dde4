"""``ops.rearrange``: einops-style axis reordering, merging and splitting.

A pattern ``"in -> out"`` names each axis; parentheses group axes that are merged
(on the right) or split (on the left, with the sizes given as keyword arguments,
one size per group may be inferred); ``...`` stands for any number of axes.

Example:
    >>> from callax import ops
    >>> x = ops.zeros((2, 6, 5))
    >>> ops.rearrange(x, "b (h w) c -> b c h w", h=2).shape
    (2, 5, 2, 3)
    >>> ops.rearrange(x, "b ... -> (b ...)").shape
    (60,)
"""

from __future__ import annotations

import math
import re

import jax.numpy as jnp

from callax.ops.dispatch import op

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S")
_ELLIPSIS = "…"  # internal name of the ellipsis "axis"


def _parse(side: str, pattern: str) -> tuple[list[list[str]], set[int]]:
    """The groups of one side of a pattern (``"b (h w)"`` -> ``[["b"], ["h", "w"]]``)
    and the positions of a bare ``...`` (its axes stay separate, unlike ``(...)``)."""
    groups: list[list[str]] = []
    loose: set[int] = set()
    current: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses. Received: pattern={pattern!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced ')'. Received: pattern={pattern!r}")
            groups.append(current)
            current = None
        elif token == "..." or token.isidentifier():
            name = _ELLIPSIS if token == "..." else token
            if current is not None:
                current.append(name)
            else:
                loose.update([len(groups)] if name == _ELLIPSIS else [])
                groups.append([name])
        else:
            raise ValueError(
                f"rearrange: unexpected {token!r} in the pattern. Received: pattern={pattern!r}"
            )
    if current is not None:
        raise ValueError(f"rearrange: unbalanced '('. Received: pattern={pattern!r}")
    return groups, loose


@op
def rearrange(tensor, pattern: str, **axes_lengths: int):
    """Rearranges the axes of ``tensor`` as the einops ``pattern`` says."""
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange expects a pattern 'in -> out'. Received: pattern={pattern!r}")
    (left, loose_left), (right, loose_right) = (_parse(s, pattern) for s in pattern.split("->"))
    shape = tuple(jnp.shape(tensor))
    names_in = [n for g in left for n in g]
    names_out = [n for g in right for n in g]
    if sorted(names_in) != sorted(names_out) or len(set(names_in)) != len(names_in):
        raise ValueError(
            "rearrange expects each axis name exactly once on each side. "
            f"Received: pattern={pattern!r}"
        )
    has_ellipsis = _ELLIPSIS in names_in
    n_ellipsis = len(shape) - (len(left) - 1) if has_ellipsis else 0
    if n_ellipsis < 0 or (not has_ellipsis and len(shape) != len(left)):
        raise ValueError(
            f"rearrange: the input pattern has {len(left)} axes but the tensor has rank "
            f"{len(shape)}. Received: pattern={pattern!r}, shape={shape}"
        )
    # "..." becomes as many anonymous axes as it covers (merged if inside a group).
    ell = [f"{_ELLIPSIS}{i}" for i in range(n_ellipsis)]

    def expand(groups: list[list[str]], loose: set[int]) -> list[list[str]]:
        out: list[list[str]] = []
        for i, group in enumerate(groups):
            if i in loose:
                out.extend([e] for e in ell)
            else:
                out.append([a for n in group for a in (ell if n == _ELLIPSIS else [n])])
        return out

    if any(_ELLIPSIS in g and i not in loose_left for i, g in enumerate(left)):
        raise ValueError(
            f"rearrange: '...' cannot be split on the input side. Received: {pattern!r}"
        )
    left, right = expand(left, loose_left), expand(right, loose_right)
    sizes: dict[str, int] = {}
    for group, dim in zip(left, shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(axes_lengths[n] for n in group if n in axes_lengths)
        if len(unknown) > 1 or (not unknown and known != dim) or (unknown and dim % known):
            raise ValueError(
                f"rearrange cannot split an axis of size {dim} into {group} with "
                f"sizes {axes_lengths}. Received: pattern={pattern!r}, shape={shape}"
            )
        for name in group:
            sizes[name] = axes_lengths[name] if name in axes_lengths else dim // known
    flat_in = [n for g in left for n in g]
    flat_out = [n for g in right for n in g]
    x = jnp.reshape(tensor, [sizes[n] for n in flat_in])
    x = jnp.transpose(x, [flat_in.index(n) for n in flat_out])
    return jnp.reshape(x, [math.prod(sizes[n] for n in g) for g in right])
