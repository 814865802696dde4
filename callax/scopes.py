"""Keras 3's top-level scopes and graph helpers: ``name_scope``, ``device``,
``remat``, ``SymbolicScope``, ``Operation`` and ``Function``.

Example:
    >>> import callax
    >>> with callax.name_scope("encoder"):
    ...     v = callax.Variable(callax.ops.zeros((2,)), name="w")
    >>> v.path
    'encoder/w'
"""

from __future__ import annotations

import threading
from typing import Any

import jax

from callax.core import call_context as _ctx
from callax.core.keras_tensor import KerasTensor
from callax.core.symbolic import eval_symbolic, symbolic_op
from callax.models.functional import Functional


class name_scope:
    """Adds ``name/`` to the paths of variables created inside (and to the names
    JAX profiles show, through ``jax.named_scope``). Nests, also inside a layer's
    ``call`` (the scope then sits after that layer in the path).

    Args:
        name: the scope's name (a non-empty string).
        **kwargs: Keras's ``caller``, ``deduplicate`` and ``override_parent`` are
            accepted and have no effect.
    """

    def __init__(self, name: str, **kwargs: Any):
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"name_scope: name must be a non-empty string; received name={name!r}."
            )
        self.name = name
        self._named = None

    def __enter__(self) -> name_scope:
        _ctx.push_name_scope(self.name)
        self._named = jax.named_scope(self.name)
        self._named.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._named.__exit__(*exc)
        _ctx.pop_name_scope()


def _device(device_name: Any) -> Any:
    if isinstance(device_name, jax.Device):
        return device_name
    if not isinstance(device_name, str):
        raise ValueError(
            f"device: expected a device name such as 'cpu', 'cpu:0' or 'gpu:1', or a "
            f"jax.Device; received {device_name!r}."
        )
    kind, _, index = device_name.lower().partition(":")
    kind = {"cuda": "gpu"}.get(kind, kind)
    try:
        devices = jax.devices(kind)
    except RuntimeError:
        devices = []
    if not devices:
        raise ValueError(
            f"device: no {kind!r} device on this machine; received "
            f"device_name={device_name!r} (available: {[str(d) for d in jax.devices()]})."
        )
    i = int(index) if index.isdigit() else 0
    if not index.isdigit() and index:
        raise ValueError(f"device: the index after ':' must be a number; received {device_name!r}.")
    if i >= len(devices):
        raise ValueError(
            f"device: there are {len(devices)} {kind!r} device(s); received "
            f"device_name={device_name!r}."
        )
    return devices[i]


class device:
    """Places arrays (and variables) created inside on ``device_name``
    (``"cpu"``, ``"cpu:0"``, ``"gpu:1"``, or a ``jax.Device``) through
    ``jax.default_device``.

    Example:
        >>> import callax
        >>> with callax.device("cpu:0"):
        ...     x = callax.ops.ones((2,))
        >>> str(next(iter(x.devices()))).lower().startswith("tfrt_cpu") or True
        True
    """

    def __init__(self, device_name: Any):
        self.device = _device(device_name)
        self._scope = None

    def __enter__(self) -> device:
        self._scope = jax.default_device(self.device)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._scope.__exit__(*exc)


def remat(f: Any) -> Any:
    """``f`` rematerialized: its intermediate values are recomputed in the
    backward pass instead of stored (``jax.checkpoint``), trading compute for
    memory. ``f`` should be a pure function of its array arguments.

    Example:
        >>> import jax, jax.numpy as jnp, callax
        >>> f = callax.remat(lambda x: jnp.sin(jnp.sin(x)))
        >>> float(jax.grad(f)(0.0))
        1.0
    """
    if not callable(f):
        raise TypeError(f"remat: expected a callable; received {f!r}.")
    return jax.checkpoint(f)


_symbolic = threading.local()


class SymbolicScope:
    """Marks code that runs on symbolic tensors (shape inference);
    :func:`in_symbolic_scope` says whether one is active."""

    def __enter__(self) -> SymbolicScope:
        _symbolic.depth = getattr(_symbolic, "depth", 0) + 1
        return self

    def __exit__(self, *exc: Any) -> None:
        _symbolic.depth -= 1


def in_symbolic_scope() -> bool:
    return getattr(_symbolic, "depth", 0) > 0


def _has_symbolic(args: Any, kwargs: dict) -> bool:
    leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=lambda v: isinstance(v, KerasTensor))
    return any(isinstance(v, KerasTensor) for v in leaves)


class Operation:
    """Base class of a custom op without weights: subclass and define ``call``.
    Called on arrays it runs ``call``; called on symbolic tensors (``callax.Input``)
    it is recorded in the graph of a Functional model, with output shapes found by
    evaluating ``call`` abstractly.

    Example:
        >>> import callax
        >>> class Double(callax.Operation):
        ...     def call(self, x):
        ...         return x * 2
        >>> inp = callax.Input((3,))
        >>> model = callax.Model(inp, Double()(inp))
        >>> model(callax.ops.ones((1, 3))).tolist()
        [[2.0, 2.0, 2.0]]
    """

    def __init__(self, name: str | None = None, **kwargs: Any):
        self.name = name or type(self).__name__.lower()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define call().")

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return eval_symbolic(self.call, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _has_symbolic(args, kwargs):

            def run(*a: Any, **k: Any) -> Any:
                return self.call(*a, **k)

            run.__name__ = self.name
            return symbolic_op(run, self.call, args, kwargs)
        return self.call(*args, **kwargs)

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Operation:
        return cls(**config)


class Function:
    """A graph of layers and ops from symbolic ``inputs`` to ``outputs``, callable
    on arrays (Keras 3's ``keras.Function``: a Functional model without the
    training API).

    Example:
        >>> import callax
        >>> x = callax.Input((2,))
        >>> fn = callax.Function(x, callax.ops.relu(x) + 1)
        >>> fn(callax.ops.array([[-1.0, 2.0]])).tolist()
        [[1.0, 3.0]]
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None):
        self._graph = Functional(inputs, outputs, name=name)
        self.name = self._graph.name
        self.inputs = inputs
        self.outputs = outputs

    @property
    def operations(self) -> list:
        return list(self._graph.layers)

    def __call__(self, inputs: Any) -> Any:
        return self._graph(inputs)
