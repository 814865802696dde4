"""``find_nonfinite``: which call site first produces NaN/Inf, forward and backward.

It runs the model once with every call site captured (``callax.capture`` with
a predicate that takes all), and reports the first call, in the order calls
*return*, whose output holds a NaN or an infinity: its path (as ``trace``
prints it), call index, shapes, and min/max/mean of its inputs and outputs. It
then says where the bad values were made: in the layer's own call (its inputs,
its weights and the outputs of the layers it called are finite), in its
weights, or before it, in the plain JAX operations of the call that called it
(its inputs are already bad, while every earlier call returned finite values).

The backward pass is searched the same way: a zero is added to every call
site's output, the loss is differentiated with respect to all of them at once,
and the first site *in backward order* (the reverse of the order calls
returned) whose gradient is non-finite is reported, with the trainable weights
whose gradients are non-finite.

Nothing about the model changes: the calls run on the variables' current values
inside a ``StatelessScope`` (no seed advances, no statistics move), eagerly, so
``call`` runs as written.

Example:
    >>> import callax
    >>> from callax import ops
    >>> class Net(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = callax.layers.Dense(4, name="hidden")
    ...         self.out = callax.layers.Dense(1, name="out")
    ...     def call(self, x):
    ...         return self.out(ops.log(self.hidden(x)))  # log of negatives: NaN
    >>> report = callax.debug.find_nonfinite(Net(), callax.random.normal((8, 3), seed=1))
    >>> report.forward.key, report.forward.origin
    ('out#1', 'the operations of Net.call (the model), between earlier calls and this one')
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax import losses
from callax.core import call_context as _ctx
from callax.core.stateless_scope import StatelessScope
from callax.inspect.recorder import TensorInfo
from callax.inspect.taps import _SiteTap, capturing

__all__ = ["NonFiniteReport", "SiteStats", "TensorStats", "find_nonfinite"]


# ------------------------------------------------------------------ stats
class TensorStats:
    """Shape, dtype, NaN/Inf counts and min/max/mean of the finite entries."""

    __slots__ = ("shape", "dtype", "nan", "posinf", "neginf", "min", "max", "mean")

    def __init__(self, x: Any):
        a = np.asarray(x)
        self.shape = tuple(a.shape)
        self.dtype = a.dtype.name
        if a.dtype.kind in "fc":
            a = a.astype(np.float64) if a.dtype.kind == "f" else np.abs(a)
            self.nan = int(np.isnan(a).sum())
            self.posinf = int(np.isposinf(a).sum())
            self.neginf = int(np.isneginf(a).sum())
            finite = a[np.isfinite(a)]
        else:
            self.nan = self.posinf = self.neginf = 0
            finite = a.astype(np.float64).ravel()
        if finite.size:
            self.min, self.max, self.mean = (
                float(finite.min()),
                float(finite.max()),
                float(finite.mean()),
            )
        else:
            self.min = self.max = self.mean = float("nan")

    @property
    def finite(self) -> bool:
        return not (self.nan or self.posinf or self.neginf)

    def __str__(self) -> str:
        text = TensorInfo(self.shape, self.dtype).short()
        if not self.finite:
            bad = [f"{n} {what}" for n, what in
                   ((self.nan, "NaN"), (self.posinf, "+Inf"), (self.neginf, "-Inf")) if n]  # fmt: skip
            text += "  " + ", ".join(bad) + f" of {int(np.prod(self.shape))}"
        text += f"  min {self.min:.4g}  max {self.max:.4g}  mean {self.mean:.4g}"
        if not self.finite:
            text += " (finite entries)"
        return text

    __repr__ = __str__


def _float_leaves(x: Any) -> list[Any]:
    return [
        t
        for t in jax.tree_util.tree_leaves(x)
        if hasattr(t, "dtype") and jnp.issubdtype(t.dtype, jnp.inexact)
    ]


def _stats(x: Any) -> list[TensorStats]:
    return [TensorStats(t) for t in jax.tree_util.tree_leaves(x) if hasattr(t, "shape")]


class SiteStats:
    """One call site in a report.

    Attributes:
        key, path, call_index: where (``block.out#1``), as ``callax.trace`` names it.
        class_name, layer: the layer that ran.
        inputs, outputs: :class:`TensorStats` of the tensors it received and returned.
        grads: :class:`TensorStats` of d loss / d outputs (backward reports only).
        bad_weights: paths of the layer's own variables holding NaN/Inf.
        origin: where the bad values were made (forward reports only).
    """

    def __init__(self, captured: Any, grads: Any = None):
        self.key = captured.key
        self.path = captured.path
        self.call_index = captured.call_index
        self.layer = captured.layer
        self.class_name = type(captured.layer).__name__
        self.inputs = _stats((captured.inputs, captured.kwargs))
        self.outputs = _stats(captured.outputs)
        self.grads = None if grads is None else _stats(grads)
        own = captured.layer._direct_state()[0]
        self.bad_weights = [v.path for v in own if not _all_finite(v.value)]
        self.origin: str | None = None

    def lines(self, what: str) -> list[str]:
        out = [f"{what}: {self.key} ({self.class_name}, call {self.call_index})"]
        for i, s in enumerate(self.inputs):
            out.append(f"  input {i}:  {s}")
        for i, s in enumerate(self.outputs):
            out.append(f"  output {i}: {s}")
        for i, s in enumerate(self.grads or []):
            out.append(f"  d loss / d output {i}: {s}")
        if self.bad_weights:
            out.append(f"  non-finite weights: {', '.join(self.bad_weights)}")
        if self.origin:
            out.append(f"  made in: {self.origin}")
        return out

    def __repr__(self) -> str:
        return f"<SiteStats {self.key} ({self.class_name})>"


def _all_finite(x: Any) -> bool:
    # numpy on the host: no compile per shape, as jnp.isfinite would cost eagerly
    return all(np.isfinite(np.asarray(t, np.float32)).all() for t in _float_leaves(x))


class NonFiniteReport:
    """What :func:`find_nonfinite` found.

    Attributes:
        forward: the first call site (in return order) whose output is
            non-finite, as :class:`SiteStats` (``None``: the forward pass is finite).
        backward: the first call site in backward order whose output gradient
            is non-finite (``None``: all finite, or no loss to differentiate).
        loss: the loss value (``None`` when there was none).
        bad_inputs: indices of model inputs that already hold NaN/Inf.
        bad_weights: paths of the model's variables holding NaN/Inf.
        bad_grads: paths of trainable variables whose gradient is non-finite.
        sites: how many call sites were checked.
    """

    def __init__(self, model: Any):
        self.model = model
        self.forward: SiteStats | None = None
        self.backward: SiteStats | None = None
        self.loss: float | None = None
        self.bad_inputs: list[int] = []
        self.bad_weights: list[str] = []
        self.bad_grads: list[str] = []
        self.sites = 0

    @property
    def ok(self) -> bool:
        """Whether everything checked is finite."""
        return (
            self.forward is None
            and self.backward is None
            and not self.bad_inputs
            and not self.bad_weights
            and not self.bad_grads
            and (self.loss is None or bool(np.isfinite(self.loss)))
        )

    def __str__(self) -> str:
        name = f"{type(self.model).__name__} '{self.model.name}'"
        head = f"find_nonfinite({name}): {self.sites} call sites checked"
        if self.loss is not None:
            head += f", loss = {self.loss:.6g}"
        lines = [head]
        if self.bad_inputs:
            lines.append(f"model inputs already non-finite: {self.bad_inputs}")
        if self.bad_weights:
            lines.append(f"non-finite weights: {', '.join(self.bad_weights)}")
        if self.forward is None:
            lines.append("forward: every call site returned finite values")
        else:
            lines += self.forward.lines("forward: first non-finite output at")
        if self.backward is not None:
            lines += self.backward.lines("backward: first non-finite gradient at")
        elif self.loss is not None:
            lines.append("backward: every call site's output gradient is finite")
        if self.bad_grads:
            lines.append(f"non-finite weight gradients: {', '.join(self.bad_grads)}")
        if self.ok:
            lines.append("no NaN or Inf found")
        return "\n".join(lines)

    def __repr__(self) -> str:
        where = self.forward.key if self.forward else None
        back = self.backward.key if self.backward else None
        return f"<NonFiniteReport forward={where!r} backward={back!r} loss={self.loss}>"


# ------------------------------------------------------------------ search
class _AddTap:
    """Adds ``deltas[site.key]`` to each call site's floating outputs."""

    def __init__(self, model: Any, deltas: dict[str, list[Any]]):
        deltas_ = deltas

        class Tap(_SiteTap):
            priority = 10

            def on_end(self, site, found, args, kwargs, outputs):
                add = deltas_.get(site.key)
                if add is None:
                    return outputs
                leaves, tree = jax.tree_util.tree_flatten(outputs)
                it = iter(add)
                new = [
                    t + next(it)
                    if hasattr(t, "dtype") and jnp.issubdtype(t.dtype, jnp.inexact)
                    else t
                    for t in leaves
                ]
                return jax.tree_util.tree_unflatten(tree, new)

        self.tap = Tap(model, [("pred", lambda site: site.key in deltas_)])


def _model_args(model: Any, x: Any) -> tuple:
    if hasattr(model, "_model_args"):
        return tuple(model._model_args(x))
    return tuple(x) if isinstance(x, tuple) else (x,)


def _resolve_loss(model: Any, loss: Any, y: Any) -> Any:
    """``fn(y, y_pred, sample_weight) -> scalar`` or ``None``."""
    if loss is not None:
        if isinstance(loss, str) or not callable(loss):
            loss = losses.get(loss)

        def fn(y, y_pred, sw):
            if y is None:
                return loss(y_pred)
            return loss(y, y_pred) if sw is None else loss(y, y_pred, sw)

        return fn
    compiled = getattr(getattr(model, "_trainer", None), "compile_loss", None)
    if compiled is not None and y is not None:
        return lambda y, y_pred, sw: compiled(y, y_pred, sw)
    if y is None:  # no target: the sum of the outputs, so every path gets a gradient
        return lambda y, y_pred, sw: sum(jnp.sum(t) for t in _float_leaves(y_pred))
    raise ValueError(
        f"find_nonfinite: y was given but there is no loss: pass loss= (a callable "
        f"fn(y_true, y_pred), a loss name or a Loss) or compile {type(model).__name__} "
        f"'{model.name}' with one; received loss=None."
    )


def find_nonfinite(
    model: Any,
    x: Any,
    y: Any = None,
    loss: Any = None,
    *,
    sample_weight: Any = None,
    training: bool | None = None,
    backward: bool = True,
) -> NonFiniteReport:
    """Finds the first call site whose output, and the first whose gradient,
    holds NaN or Inf.

    Args:
        model: a built or unbuilt model (or layer).
        x: the input (a tuple for a model whose ``call`` takes several).
        y: targets for the loss; ``None`` differentiates the sum of the outputs.
        loss: ``fn(y_true, y_pred) -> scalar``, a loss name or ``Loss``; by
            default the compiled loss (``model.compile(loss=...)``).
        sample_weight: passed to the loss.
        training: the call's ``training`` (``None``: the model's default).
        backward: also search the backward pass.

    Returns:
        A :class:`NonFiniteReport` (``print(report)`` reads as a diagnosis).
    """
    args = _model_args(model, x)
    kwargs = {} if training is None else {"training": training}
    report = NonFiniteReport(model)
    report.bad_inputs = [i for i, a in enumerate(args) if not _all_finite(a)]
    if not model.built:  # weights must exist before their values are read
        model(*args, **kwargs)
    variables = model.variables
    values = [v.value for v in variables]
    report.bad_weights = [v.path for v, val in zip(variables, values) if not _all_finite(val)]

    # One function runs the model with every call site captured and, for the
    # backward search, a zero added to every site's output; differentiating the
    # loss with respect to those zeros gives every site's output gradient. It is
    # compiled (one compile instead of one per operation); a call with Python
    # logic on values runs eagerly instead.
    trainable = model.trainable_variables
    ids = {id(v) for v in trainable}
    fixed = [v for v in variables if id(v) not in ids]
    by_id = {id(v): val for v, val in zip(variables, values)}
    train_values = [by_id[id(v)] for v in trainable]
    fixed_values = [by_id[id(v)] for v in fixed]
    loss_fn = _resolve_loss(model, loss, y) if backward else None

    def run(deltas, train_values, fixed_values, args, y, sw):
        mapping = list(zip(trainable, train_values)) + list(zip(fixed, fixed_values))
        add = _AddTap(model, deltas).tap if deltas is not None else None
        with StatelessScope(mapping), _ctx.isolated_context():
            with capturing(model, lambda site: True) as acts:
                if add is not None:
                    _ctx.add_tap(add)
                try:
                    out = model(*args, **kwargs)
                finally:
                    if add is not None:
                        _ctx.remove_tap(add)
        value = loss_fn(y, out, sw) if loss_fn is not None else jnp.zeros(())
        return jnp.sum(jnp.asarray(value, jnp.float32)), (acts, out)

    operands = (train_values, fixed_values, args, y, sample_weight)
    try:
        acts, value, grads, weight_grads = _search(run, operands, loss_fn, jax.jit)
    except _TRACE_ERRORS:
        acts, value, grads, weight_grads = _search(run, operands, loss_fn, lambda f: f)
    report.sites = len(acts)
    for captured in acts.values():
        if not _all_finite(captured.outputs):
            site = report.forward = SiteStats(captured)
            site.origin = _origin(model, site, captured, acts)
            break
    if loss_fn is None:
        return report
    report.loss = float(value)
    report.bad_grads = [v.path for v, g in zip(trainable, weight_grads) if not _all_finite(g)]
    for key in reversed(list(acts)):
        if not _all_finite(grads[key]):
            report.backward = SiteStats(acts[key], grads[key])
            break
    return report


_TRACE_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)


def _search(run, operands, loss_fn, jit):
    """``(captures, loss, site gradients, weight gradients)``; ``jit`` is
    ``jax.jit`` or the identity (eager)."""
    if loss_fn is None:
        _, (acts, _) = jit(run)(None, *operands)
        return acts, None, None, None
    if jit is jax.jit:
        shapes = jax.eval_shape(run, None, *operands)[1][0]
    else:
        shapes = run(None, *operands)[1][0]
    zeros = {
        key: [jnp.zeros(t.shape, t.dtype) for t in _float_leaves(c.outputs)]
        for key, c in shapes.items()
    }
    grad_fn = jax.value_and_grad(run, argnums=(0, 1), has_aux=True)
    (value, (acts, _)), (grads, weight_grads) = jit(grad_fn)(zeros, *operands)
    return acts, value, grads, weight_grads


def _origin(model: Any, site: SiteStats, captured: Any, acts: Any) -> str:
    """Where the first non-finite output was made, in words."""
    if site.bad_weights:
        return f"its weights ({', '.join(site.bad_weights)}) are non-finite"
    if not all(s.finite for s in site.inputs):
        # Every call that returned before this one returned finite values, so the
        # bad inputs were made by plain JAX operations in the calling `call`.
        parent, _, _ = captured.path.rpartition(".")
        if parent:
            owner = next((c for c in acts.values() if c.path == parent), None)
            cls = type(owner.layer).__name__ if owner is not None else "?"
            return f"the operations of {cls}.call ({parent}), before this call"
        return (
            f"the operations of {type(model).__name__}.call (the model), between "
            "earlier calls and this one"
        )
    return (
        f"{site.class_name}.call itself: its inputs, weights and the outputs of the "
        "layers it called are finite"
    )
