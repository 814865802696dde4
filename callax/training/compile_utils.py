"""Containers for what ``compile`` receives: ``CompileLoss`` and ``CompileMetrics``.

Both match the user's ``loss``/``metrics`` arguments (a single item, a list, or
a dict by output name) against the model's outputs once the output structure is
known (:meth:`build`, run before the first step), then compute the total loss or
update every metric. ``CompileMetrics`` behaves as one metric whose variables
are all its sub-metrics' variables, so it fits the training state pytree.

Example:
    >>> import numpy as np
    >>> from callax.training.compile_utils import CompileLoss
    >>> loss = CompileLoss("mse")
    >>> loss.build(np.zeros((2, 1)), np.zeros((2, 1)))
    >>> float(loss(np.zeros((2, 1)), np.ones((2, 1))))
    1.0
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax import losses
from callax import metrics as metrics_module
from callax.core.stateless_scope import StatelessScope


def _is_seq(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def output_structure(y_pred: Any, output_names: list[str] | None) -> tuple[list[str], str]:
    """``(names, kind)`` for the model's outputs: kind ``"single"``, ``"list"`` or ``"dict"``."""
    if isinstance(y_pred, dict):
        return list(y_pred.keys()), "dict"
    if _is_seq(y_pred):
        if output_names and len(output_names) == len(y_pred):
            return list(output_names), "list"
        return [f"output_{i + 1}" for i in range(len(y_pred))], "list"
    name = output_names[0] if output_names and len(output_names) == 1 else "output"
    return [name], "single"


def flatten_like(value: Any, names: list[str], kind: str, what: str, broadcast: bool) -> list:
    """One entry of ``value`` per output. A non-nested value is given to every
    output when ``broadcast``; otherwise it must match the output structure."""
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"compile/fit: {what} has keys {unknown} that are not model outputs; "
                f"expected keys among {names}, received {what}={_short(value)}."
            )
        return [value.get(name) for name in names]
    if _is_seq(value) and (kind != "single" or len(value) == 1):
        if len(value) != n:
            raise ValueError(
                f"compile/fit: {what} must have one entry per model output ({n}: {names}); "
                f"received {len(value)} entries: {what}={_short(value)}."
            )
        return list(value)
    if kind == "single" or broadcast:
        return [value] * n
    raise ValueError(
        f"compile/fit: the model has {n} outputs {names}, so {what} must be a list or dict "
        f"with one entry per output; received {what}={_short(value)}."
    )


def _short(value: Any) -> str:
    def one(v):
        if hasattr(v, "shape") and hasattr(v, "dtype"):
            return f"<array shape={tuple(v.shape)}>"
        return repr(v)

    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {one(v)}" for k, v in value.items()) + "}"
    if _is_seq(value):
        return "[" + ", ".join(one(v) for v in value) + "]"
    return one(value)


def _batch_size(y: Any) -> int:
    leaves = [leaf for leaf in jax.tree_util.tree_leaves(y) if hasattr(leaf, "shape")]
    return int(leaves[0].shape[0]) if leaves and leaves[0].ndim else 1


# --------------------------------------------------------------------- loss


def make_loss(identifier: Any, y_true: Any, y_pred: Any) -> Any:
    """A ``Loss`` object (reducing to a scalar) from any loss identifier."""
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        obj = losses.resolve_crossentropy(identifier, jnp.shape(y_true), jnp.shape(y_pred))
    else:
        obj = losses.get(identifier)
    if isinstance(obj, losses.Loss):
        return obj
    return losses.LossFunctionWrapper(obj, name=getattr(obj, "__name__", None))


class CompileLoss:
    """The total loss of ``compile(loss=..., loss_weights=...)``.

    Args:
        loss: one loss for every output, a list (one per output) or a dict by
            output name; entries may be ``None`` (no loss for that output).
        loss_weights: scalar coefficients, as a list or dict like ``loss``.
        output_names: the model's output names (Functional models), used to
            match dicts against list outputs.
    """

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: list | None = None):
        self.user_loss = loss
        self.user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.metrics: list[Any] = []  # per-output loss trackers (several losses only)
        self.losses: list[Any] = []  # one Loss object (or None) per output
        self.weights: list[float | None] = []
        self.names: list[str] = []
        self.kind = "single"

    def build(self, y_true: Any, y_pred: Any) -> None:
        """Resolves the losses against the outputs (shapes only are read)."""
        names, kind = output_structure(y_pred, self.output_names)
        self.names, self.kind = names, kind
        flat_pred = self._flat(y_pred, "y_pred")
        flat_true = self._flat_true(y_true)
        idents = flatten_like(self.user_loss, names, kind, "loss", broadcast=True)
        self.losses = [
            None if ident is None or yt is None else make_loss(ident, yt, yp)
            for ident, yt, yp in zip(idents, flat_true, flat_pred)
        ]
        if self.user_loss_weights is None:
            self.weights = [None] * len(names)
        else:
            self.weights = flatten_like(
                self.user_loss_weights, names, kind, "loss_weights", broadcast=False
            )
            if any(w is not None and (isinstance(w, str) or np.ndim(w) != 0) for w in self.weights):
                raise ValueError(
                    f"compile: loss_weights must hold one number per model output "
                    f"({len(names)}: {names}), as a number, a list or a dict like loss; "
                    f"received loss_weights={_short(self.user_loss_weights)}."
                )
        active = [i for i, loss in enumerate(self.losses) if loss is not None]
        self.metrics = []
        self._trackers: dict[int, Any] = {}
        if len(active) > 1:
            for i in active:
                tracker = metrics_module.Mean(name=f"{names[i]}_loss")
                self._trackers[i] = tracker
                self.metrics.append(tracker)
        self.built = True

    def _flat(self, y: Any, what: str) -> list:
        return flatten_like(y, self.names, self.kind, what, broadcast=False)

    def _flat_true(self, y_true: Any) -> list:
        if self.kind != "single" and not isinstance(y_true, (dict, list, tuple)):
            if len(self.names) == 1:
                return [y_true]
            raise ValueError(
                f"fit/evaluate: the model has {len(self.names)} outputs {self.names}, so y must be "
                f"a list or dict of {len(self.names)} arrays; received a single array of shape "
                f"{tuple(jnp.shape(y_true))}."
            )
        if self.kind == "list" and isinstance(y_true, dict):
            return [y_true.get(name) for name in self.names]
        if self.kind == "single" and _is_seq(y_true) and len(y_true) != 1:
            raise ValueError(
                f"fit/evaluate: the model has one output, so y must be one array; received "
                f"a {type(y_true).__name__} of {len(y_true)} entries: y={_short(y_true)}."
            )
        return self._flat(y_true, "y")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = self._flat(y_pred, "y_pred")
        flat_true = self._flat_true(y_true)
        if sample_weight is None or not isinstance(sample_weight, (dict, list, tuple)):
            flat_sw = [sample_weight] * len(self.names)
        else:
            flat_sw = flatten_like(sample_weight, self.names, self.kind, "sample_weight", False)
        total = None
        for i, (loss, yt, yp, sw, w) in enumerate(
            zip(self.losses, flat_true, flat_pred, flat_sw, self.weights)
        ):
            if loss is None or yt is None:
                continue
            value = jnp.asarray(loss(yt, yp, sw), jnp.float32)
            tracker = self._trackers.get(i)
            if tracker is not None:  # unweighted per-output loss, as Keras reports it
                tracker.update_state(value, sample_weight=_batch_size(yp))
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total

    def sparse_label_checks(self) -> list[tuple[int, Any]]:
        """``(output_index, loss)`` for outputs with integer-label losses."""
        out = []
        for i, loss in enumerate(self.losses):
            fn = getattr(loss, "fn", None)
            name = getattr(fn, "__name__", "") or type(loss).__name__
            if "sparse_categorical" in name or "SparseCategorical" in type(loss).__name__:
                out.append((i, loss))
        return out


# ------------------------------------------------------------------ metrics


def _is_metric_list(value: Any) -> bool:
    return _is_seq(value) and all(not _is_seq(v) and not isinstance(v, dict) for v in value)


class CompileMetrics:
    """All metrics of ``compile(metrics=..., weighted_metrics=...)`` as one
    metric-like object (``variables``, ``update_state``, ``result`` -> dict,
    ``reset_state`` and their stateless forms).

    ``metrics`` ignore sample weights and ``weighted_metrics`` use them, as in
    Keras 3. For several outputs, names get the output name as prefix
    (``out_a_accuracy``).
    """

    name = "compile_metrics"

    def __init__(
        self, metrics: Any, weighted_metrics: Any = None, output_names: list | None = None
    ):
        self.user_metrics = metrics
        self.user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        self.built = False
        self._entries: list[tuple[int, Any, bool, str]] = []  # (output, metric, weighted, name)

    def build(self, y_true: Any, y_pred: Any, losses: list | None = None) -> None:
        names, kind = output_structure(y_pred, self.output_names)
        self.names, self.kind = names, kind
        flat_pred = flatten_like(y_pred, names, kind, "y_pred", False)
        if kind == "list" and isinstance(y_true, dict):
            flat_true = [y_true.get(n) for n in names]
        elif kind != "single" and not isinstance(y_true, (dict, list, tuple)):
            flat_true = [y_true] * len(names)
        else:
            flat_true = flatten_like(y_true, names, kind, "y", False)
        entries: list[tuple[int, Any, bool, str]] = []
        used: dict[str, int] = {}
        for weighted, user in ((False, self.user_metrics), (True, self.user_weighted_metrics)):
            if not user:
                continue
            per_output = self._per_output(user, names, kind)
            for i, idents in enumerate(per_output):
                if idents is None or flat_true[i] is None:
                    continue
                loss = losses[i] if losses and i < len(losses) else None
                for ident in idents if _is_seq(idents) else [idents]:
                    metric = self._make_metric(ident, loss, flat_true[i], flat_pred[i])
                    base = metric.name if kind == "single" else f"{names[i]}_{metric.name}"
                    name = base
                    if name in used:
                        if weighted:
                            name = (
                                f"weighted_{metric.name}"
                                if kind == "single"
                                else f"{names[i]}_weighted_{metric.name}"
                            )
                        if name in used:
                            used[base] += 1
                            name = f"{base}_{used[base] - 1}"
                    used.setdefault(name, 1)
                    entries.append((i, metric, weighted, name))
        self._entries = entries
        self.built = True

    @staticmethod
    def _per_output(user: Any, names: list[str], kind: str) -> list:
        if isinstance(user, dict):
            return flatten_like(user, names, kind, "metrics", broadcast=False)
        if kind == "single":
            return [list(user) if _is_seq(user) else [user]]
        if _is_seq(user) and len(user) == len(names) and not _is_metric_list(user):
            return list(user)
        if _is_seq(user) and len(user) == len(names) and all(isinstance(u, str) for u in user):
            return [[u] for u in user]
        return [list(user) if _is_seq(user) else [user]] * len(names)

    @staticmethod
    def _make_metric(ident: Any, loss: Any, y_true: Any, y_pred: Any) -> Any:
        # resolve_accuracy resolves every identifier the way compile() means it:
        # "accuracy"/"crossentropy" by shapes and loss, functions wrapped, string
        # names kept, data-shaped metrics (F1Score, R2Score) built from the shapes.
        return metrics_module.resolve_accuracy(
            ident, loss, tuple(jnp.shape(y_true)), tuple(jnp.shape(y_pred))
        )

    # --------------------------------------------------- metric interface
    @property
    def metrics(self) -> list[Any]:
        return [m for _, m, _, _ in self._entries]

    @property
    def metric_names(self) -> list[str]:
        return [name for _, _, _, name in self._entries]

    @property
    def variables(self) -> list[Any]:
        out, seen = [], set()
        for m in self.metrics:
            for v in m.variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = flatten_like(y_pred, self.names, self.kind, "y_pred", False)
        if self.kind == "list" and isinstance(y_true, dict):
            flat_true = [y_true.get(n) for n in self.names]
        else:
            flat_true = flatten_like(y_true, self.names, self.kind, "y", False)
        if sample_weight is None or not isinstance(sample_weight, (dict, list, tuple)):
            flat_sw = [sample_weight] * len(self.names)
        else:
            flat_sw = flatten_like(sample_weight, self.names, self.kind, "sample_weight", False)
        for i, metric, weighted, _ in self._entries:
            if weighted:
                metric.update_state(flat_true[i], flat_pred[i], sample_weight=flat_sw[i])
            else:
                metric.update_state(flat_true[i], flat_pred[i])

    def result(self) -> dict[str, Any]:
        return {name: metric.result() for _, metric, _, name in self._entries}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def stateless_update_state(
        self, metric_variables: list, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> list:
        own = self.variables
        with StatelessScope(list(zip(own, metric_variables))) as scope:
            self.update_state(y_true, y_pred, sample_weight)
        return [scope.get_current_value(v) for v in own]

    def stateless_result(self, metric_variables: list) -> dict[str, Any]:
        with StatelessScope(list(zip(self.variables, metric_variables))):
            return self.result()

    def stateless_reset_state(self) -> list:
        own = self.variables
        with StatelessScope([(v, v.value) for v in own]) as scope:
            self.reset_state()
        return [scope.get_current_value(v) for v in own]
