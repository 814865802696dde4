"""Reach into a call: capture what a call site saw and returned, or change it.

A *call site* is one call of one layer inside a model's call, named as
``callax.trace`` prints it: the attribute path from the model down
(``dense1``, ``blocks[1].bn``, ``encoder.attention.query``; a layer held under
no public attribute, such as a Sequential's, goes by its name), then ``#`` and
the call index for a layer called more than once (``dense1#2``). A path without
``#`` means every call of that layer.

- ``out, acts = capture(model, x, at=[...])`` runs the model once and returns
  its output and a :class:`Captures` mapping ``"path#i"`` to a
  :class:`Captured` (``.inputs``, ``.kwargs``, ``.outputs``, ``.layer``).
- ``with capturing(model, at=[...]) as acts:`` does the same for whatever runs
  inside the block (``model.stateless_call``, a jitted function, a train step).
- ``intervene(model, {"dense1#2": fn}, x)`` runs the model with that site's
  output replaced by ``fn(output)`` (or by an array given instead of ``fn``);
  ``with intervention(model, {...}):`` does it for a block.

``at`` takes call paths, layer objects (all their calls) or a predicate
``fn(site) -> bool`` on a :class:`CallSite` (``site.path``, ``site.call_index``,
``site.layer``). A path or layer that matches no call raises ``ValueError``
listing the call sites that exist.

These are plain JAX: they work eagerly, under ``jax.jit``/``callax.jit``,
under ``stateless_call`` and under ``jax.grad`` (captured values are the traced
values; a replaced output is differentiated through ``fn``). While a capture or
an intervention is active every layer runs its ``call`` op by op (no per-layer
kernels), so nested sites inside built-in layers are reached too; nothing stays
registered afterwards, even when the call raises.

Example:
    >>> import callax
    >>> class Mlp(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = callax.layers.Dense(8, activation="relu")
    ...         self.out = callax.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> model, x = Mlp(), callax.ops.ones((4, 3))
    >>> y, acts = callax.capture(model, x, at="hidden")
    >>> list(acts), acts["hidden"].outputs.shape, acts["hidden"].inputs[0].shape
    (['hidden#1'], (4, 8), (4, 3))
    >>> ablated = callax.intervene(model, {"hidden": lambda h: h * 0}, x)
    >>> bool((ablated == model.out.bias.value).all())
    True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import call_context as _ctx
from callax.core import config as _config
from callax.core.layer import Layer
from callax.core.pitfalls import attribute_name
from callax.inspect.recorder import describe, render

__all__ = [
    "CallSite",
    "Captured",
    "Captures",
    "capture",
    "capturing",
    "intervene",
    "intervention",
]


# ------------------------------------------------------------------ sites
class _Site:
    """Where a layer call ran: its path, the 1-based index of this call of the
    layer, the layer; ``key`` joins the first two (``blocks[1].bn#1``)."""

    __slots__ = ("path", "call_index", "layer")

    def __init__(self, path: str, call_index: int, layer: Any):
        self.path = path
        self.call_index = call_index
        self.layer = layer

    @property
    def key(self) -> str:
        return f"{self.path}#{self.call_index}"


class CallSite(_Site):
    """One call of one layer inside the model's call, as predicates see it.

    Attributes:
        path: the call path (``blocks[1].bn``); ``key`` adds the index (``#1``).
        call_index: 1-based index of this call of ``layer`` in the outer call.
        layer: the layer object; ``depth``: 1 for the model's direct children.
    """

    __slots__ = ("depth",)

    def __init__(self, path: str, call_index: int, layer: Any, depth: int):
        super().__init__(path, call_index, layer)
        self.depth = depth

    @property
    def class_name(self) -> str:
        return type(self.layer).__name__

    def __repr__(self) -> str:
        return f"<CallSite {self.key} ({self.class_name})>"


_PATH = re.compile(r"^[^#\s]+(#[1-9][0-9]*)?$")


def _label(parent: Any, layer: Any) -> str:
    """The name ``trace`` prints for ``layer`` called from ``parent``'s call."""
    attr = attribute_name(parent, layer)
    return attr if attr and not attr.startswith("_") else layer.name


def _parse_at(at: Any, where: str, arg: str) -> list[tuple]:
    """``at`` as a list of specs: ``("path", path, index|None, text)``,
    ``("layer", layer)`` or ``("pred", fn)``."""
    items = list(at) if isinstance(at, (list, tuple, set, frozenset)) else [at]
    if not items:
        raise ValueError(f"{where}: {arg} is empty; give call paths, layers or a predicate.")
    specs = []
    for item in items:
        if isinstance(item, str):
            if not _PATH.match(item):
                raise ValueError(
                    f"{where}: {arg} entry {item!r} is not a call path; expected an "
                    "attribute path as callax.trace prints it ('dense1', "
                    "'blocks[1].bn'), optionally with a call index ('dense1#2')."
                )
            path, _, index = item.partition("#")
            specs.append(("path", path, int(index) if index else None, item))
        elif isinstance(item, Layer):
            specs.append(("layer", item))
        elif callable(item):
            specs.append(("pred", item))
        else:
            raise TypeError(
                f"{where}: {arg} entries must be call paths (str), layers or a predicate "
                f"fn(site) -> bool; received {type(item).__name__} {item!r:.80}."
            )
    return specs


class _SiteTap:
    """Follows the calls of ``model`` and tells ``on_end`` about matched sites."""

    kernels = False  # every nested call must run as Python to be reached
    where = "capture"
    arg = "at"

    def __init__(self, model: Any, specs: list[tuple]):
        self.model = model
        self.specs = specs
        self.hits = [0] * len(specs)
        self.seen: dict[str, None] = {}  # every site key, in call order
        self.roots = 0
        self._paths: dict[int, Any] = {}  # id(frame) -> (path, depth) or None
        self._matched: dict[int, CallSite] = {}
        self._thread = threading.get_ident()

    def _match(self, site: CallSite) -> list[int]:
        found = []
        for i, spec in enumerate(self.specs):
            kind = spec[0]
            if kind == "path":
                ok = spec[1] == site.path and (spec[2] is None or spec[2] == site.call_index)
            elif kind == "layer":
                ok = spec[1] is site.layer
            else:
                ok = bool(spec[1](site))
            if ok:
                found.append(i)
                self.hits[i] += 1
        return found

    def start(self, frame: Any, args: tuple, kwargs: dict) -> None:
        if threading.get_ident() != self._thread:
            return None
        key = id(frame)
        layer = frame.layer
        if layer is self.model:
            self._paths[key] = ("", 0)
            self.roots += 1
            return None
        parent = frame.parent
        above = self._paths.get(id(parent)) if parent is not None else None
        if above is None:
            self._paths[key] = None
            return None
        label = _label(parent.layer, layer)
        path = label if not above[0] else f"{above[0]}.{label}"
        self._paths[key] = (path, above[1] + 1)
        site = CallSite(path, frame.call_index, layer, above[1] + 1)
        self.seen[site.key] = None
        found = self._match(site)
        if found:
            self._matched[key] = (site, found)
        else:
            self._matched.pop(key, None)
        return None

    def end(self, frame: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        if threading.get_ident() != self._thread:
            return outputs
        matched = self._matched.pop(id(frame), None)
        if matched is None:
            return outputs
        return self.on_end(matched[0], matched[1], args, kwargs, outputs)

    def on_end(self, site: CallSite, found: list, args: tuple, kwargs: dict, outputs: Any) -> Any:
        return outputs

    def check(self) -> None:
        """Raises if the model never ran, or a path/layer in ``at`` matched nothing."""
        name = f"{type(self.model).__name__} '{self.model.name}'"
        if not self.roots:
            raise ValueError(
                f"{self.where}: {name} was not called inside the block, so no call site "
                "was reached."
            )
        for hits, spec in zip(self.hits, self.specs):
            if hits or spec[0] == "pred":
                continue
            what = repr(spec[3]) if spec[0] == "path" else f"layer {spec[1].name!r}"
            sites = ", ".join(self.seen) or "(none: the model calls no layer)"
            raise ValueError(
                f"{self.where}: {self.arg} {what} matches no call site of {name}. "
                f"Call sites: {sites}."
            )


class _NoCompiledCalls:
    """Top-level calls run as Python while a tap is active (``set_compiled_calls``
    would otherwise trace the taps into a cached compiled call)."""

    def __enter__(self):
        self.saved = _config._COMPILED_CALLS
        _config._COMPILED_CALLS = False

    def __exit__(self, *exc):
        _config._COMPILED_CALLS = self.saved


# ---------------------------------------------------------------- capture
def _is_array(x: Any) -> bool:
    return isinstance(x, jax.Array) or (hasattr(x, "shape") and hasattr(x, "dtype"))


@jax.tree_util.register_pytree_node_class
class Captured(_Site):
    """What one call site received and returned.

    Attributes:
        path, call_index, key: where (``blocks[1].bn``, ``1``, ``blocks[1].bn#1``).
        layer: the layer that ran.
        inputs: the positional arguments ``call`` got (a tuple, arrays converted).
        kwargs: its array keyword arguments (``mask``...; ``training`` left out).
        outputs: what the call returned (after any hook or intervention).

    A pytree (arrays are the leaves), so it leaves ``jax.jit`` as it is.
    """

    __slots__ = ("inputs", "kwargs", "outputs")

    def __init__(self, path: str, call_index: int, layer: Any, inputs, kwargs, outputs):
        super().__init__(path, call_index, layer)
        self.inputs = inputs
        self.kwargs = kwargs
        self.outputs = outputs

    def tree_flatten(self):
        return (self.inputs, self.kwargs, self.outputs), (self.path, self.call_index, self.layer)

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*aux, *children)

    def __repr__(self) -> str:
        return (
            f"<Captured {self.key} ({type(self.layer).__name__}): "
            f"{render(describe(self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)))}"
            f" → {render(describe(self.outputs))}>"
        )


@jax.tree_util.register_pytree_node_class
class Captures(Mapping):
    """The captured call sites, by key ``"path#i"`` in the order the calls ended.

    ``acts["blocks[1].bn#1"]``; ``acts["blocks[1].bn"]`` when that layer was
    called once (else ``KeyError`` naming its calls); ``acts[layer]`` likewise.
    ``acts.all("dense1")`` lists every call of a path or layer.
    """

    def __init__(self, items: dict[str, Captured] | None = None):
        self._items: dict[str, Captured] = dict(items or {})

    def all(self, key: Any) -> list[Captured]:
        """Every captured call of ``key`` (a path without index, or a layer)."""
        if isinstance(key, str):
            path = key.partition("#")[0]
            return [c for c in self._items.values() if c.path == path]
        return [c for c in self._items.values() if c.layer is key]

    def __getitem__(self, key: Any) -> Captured:
        if isinstance(key, str) and key in self._items:
            return self._items[key]
        if isinstance(key, str) and "#" in key:
            raise KeyError(f"{key!r} was not captured; captured: {', '.join(self._items)}.")
        found = self.all(key)
        if len(found) == 1:
            return found[0]
        shown = key if isinstance(key, str) else f"layer {getattr(key, 'name', key)!r}"
        if not found:
            raise KeyError(f"{shown!r} was not captured; captured: {', '.join(self._items)}.")
        raise KeyError(
            f"{shown} was called {len(found)} times: ask for one call "
            f"({', '.join(c.key for c in found)}) or use .all({shown!r})."
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def tree_flatten(self):
        return tuple(self._items.values()), tuple(self._items)

    @classmethod
    def tree_unflatten(cls, keys, values):
        return cls(dict(zip(keys, values)))

    def __repr__(self) -> str:
        return "Captures(" + ", ".join(self._items) + ")"


class _CaptureTap(_SiteTap):
    priority = 20  # after hooks and interventions: sees what flows on

    def __init__(self, model: Any, specs: list[tuple]):
        super().__init__(model, specs)
        self.captures = Captures()

    def on_end(self, site: CallSite, found: list, args: tuple, kwargs: dict, outputs: Any) -> Any:
        kw = {
            k: v
            for k, v in kwargs.items()
            if k != "training" and all(_is_array(t) for t in jax.tree_util.tree_leaves(v))
        }
        record = Captured(site.path, site.call_index, site.layer, tuple(args), kw, outputs)
        self.captures._items[site.key] = record
        return outputs


class capturing:
    """``with capturing(model, at=[...]) as acts:`` captures the chosen call
    sites of every call of ``model`` made inside the block (a later call of the
    same site replaces the earlier one). ``acts`` (a :class:`Captures`) fills as
    the calls run; at the end of the block a path or layer that matched nothing
    raises ``ValueError`` listing the call sites.

    Example:
        >>> import callax
        >>> model = callax.Sequential([callax.layers.Dense(4, name="h"), callax.layers.Dense(2, name="o")])
        >>> x = callax.ops.ones((3, 5))
        >>> _ = model(x)
        >>> tv = [v.value for v in model.trainable_variables]
        >>> with callax.capturing(model, at=lambda site: site.depth == 1) as acts:
        ...     y, _ = model.stateless_call(tv, [], x)
        >>> [(key, c.outputs.shape) for key, c in acts.items()]
        [('h#1', (3, 4)), ('o#1', (3, 2))]
    """

    def __init__(self, model: Any, at: Any):
        self.tap = _CaptureTap(model, _parse_at(at, "capture", "at"))
        self._calls = _NoCompiledCalls()

    def __enter__(self) -> Captures:
        self._calls.__enter__()
        _ctx.add_tap(self.tap)
        return self.tap.captures

    def __exit__(self, kind, error, tb) -> None:
        _ctx.remove_tap(self.tap)
        self._calls.__exit__(kind, error, tb)
        if kind is None:
            self.tap.check()


def capture(model: Any, *inputs: Any, at: Any, **kwargs: Any) -> tuple[Any, Captures]:
    """Runs ``model(*inputs, **kwargs)`` and returns ``(outputs, captures)``.

    Args:
        model: the model (or any layer) to call.
        *inputs, **kwargs: the call's arguments (``training=True``...).
        at: a call path (``"blocks[1].bn"``, ``"dense1#2"``), a layer, a
            predicate ``fn(site) -> bool``, or a list of them.

    Returns:
        The model's outputs, and a :class:`Captures` mapping each matched call
        (``"path#i"``) to its :class:`Captured` inputs and outputs.

    The call is the model's ordinary call (state such as BatchNorm statistics
    moves as in ``model(x)``); inside ``jax.jit``/``jax.grad`` the captured
    values are the traced ones, so a function returning them jits, and a loss
    of them differentiates.

    Example:
        >>> import callax, jax
        >>> model = callax.Sequential([callax.layers.Dense(4, name="h"), callax.layers.Dense(2, name="o")])
        >>> x = callax.ops.ones((3, 5))
        >>> out, acts = jax.jit(lambda x: callax.capture(model, x, at="h"))(x)
        >>> acts["h"].outputs.shape
        (3, 4)
    """
    with capturing(model, at) as captures:
        outputs = model(*inputs, **kwargs)
    return outputs, captures


# ----------------------------------------------------------- intervention
class _EditTap(_SiteTap):
    priority = 10  # after the layer's own hooks, before captures
    where = "intervene"
    arg = "edits key"

    def __init__(self, model: Any, specs: list[tuple], edits: list[Any]):
        super().__init__(model, specs)
        self.edits = edits

    def on_end(self, site: CallSite, found: list, args: tuple, kwargs: dict, outputs: Any) -> Any:
        for i in found:
            edit = self.edits[i]
            new = edit(outputs) if callable(edit) else edit
            outputs = _conform(new, outputs, site)
        return outputs


def _conform(new: Any, old: Any, site: CallSite) -> Any:
    """``new`` with the structure, shapes and dtypes of ``old`` (dtype cast;
    anything else different is an error naming the site)."""
    old_leaves, old_tree = jax.tree_util.tree_flatten(old)
    new_leaves, new_tree = jax.tree_util.tree_flatten(new)

    def fail():
        got = (
            render(describe(new))
            if _is_array(new) or isinstance(new, (list, tuple))
            else (f"{type(new).__name__}")
        )
        raise ValueError(
            f"intervene: the replacement for call site {site.key} "
            f"({site.class_name}) must match its output {render(describe(old))}; "
            f"received {got}."
        )

    if old_tree != new_tree:
        fail()
    out = []
    for a, b in zip(old_leaves, new_leaves):
        if not _is_array(a):
            out.append(b)
            continue
        b = jnp.asarray(b)
        if tuple(b.shape) != tuple(a.shape):
            fail()
        out.append(b.astype(a.dtype) if b.dtype != a.dtype else b)
    return jax.tree_util.tree_unflatten(old_tree, out)


class intervention:
    """``with intervention(model, {site: fn_or_value, ...}):`` replaces the
    output of each chosen call site by ``fn(output)`` (or by the given value)
    in every call of ``model`` inside the block. Keys are call paths, layers or
    predicates (as ``at`` in :func:`capture`). Nothing stays registered after
    the block, even if it raises.

    Example:
        >>> import callax
        >>> model = callax.Sequential([callax.layers.Dense(4, name="h"), callax.layers.Dense(2, name="o")])
        >>> x = callax.ops.ones((3, 5))
        >>> with callax.intervention(model, {"h": lambda h: h * 0}):
        ...     y = model(x)
        >>> bool((y == model.layers[1].bias.value).all())
        True
    """

    def __init__(self, model: Any, edits: Mapping[Any, Any]):
        if not isinstance(edits, Mapping):
            raise TypeError(
                "intervene: edits must be a dict {call path | layer | predicate: "
                "fn(output) -> replacement, or a replacement array}; received "
                f"{type(edits).__name__}."
            )
        keys = list(edits.keys())
        specs = _parse_at(keys, "intervene", "edits key") if keys else []
        if not keys:
            raise ValueError("intervene: edits is empty; nothing to change.")
        self.tap = _EditTap(model, specs, [edits[k] for k in keys])
        self._calls = _NoCompiledCalls()

    def __enter__(self) -> intervention:
        self._calls.__enter__()
        _ctx.add_tap(self.tap)
        return self

    def __exit__(self, kind, error, tb) -> None:
        _ctx.remove_tap(self.tap)
        self._calls.__exit__(kind, error, tb)
        if kind is None:
            self.tap.check()


def intervene(model: Any, edits: Mapping[Any, Any], *inputs: Any, **kwargs: Any) -> Any:
    """Runs ``model(*inputs, **kwargs)`` with call sites' outputs changed.

    Args:
        model: the model (or any layer) to call.
        edits: ``{site: fn}`` — ``fn(output)`` returns the replacement (same
            structure and shapes; dtypes are cast) — or ``{site: array}`` to
            patch in a value (e.g. an activation captured from another input).
            Sites are call paths (``"dense1#2"``), layers or predicates.
        *inputs, **kwargs: the call's arguments.

    Returns:
        The model's outputs. Works under ``jax.jit`` and ``jax.grad``.

    Example:
        >>> import callax
        >>> model = callax.Sequential([callax.layers.Dense(4, name="h"), callax.layers.Dense(2, name="o")])
        >>> a, b = callax.ops.ones((1, 5)), callax.ops.zeros((1, 5))
        >>> _, acts = callax.capture(model, b, at="h")
        >>> patched = callax.intervene(model, {"h": acts["h"].outputs}, a)
        >>> bool((patched == model(b)).all())
        True
    """
    with intervention(model, edits):
        return model(*inputs, **kwargs)
