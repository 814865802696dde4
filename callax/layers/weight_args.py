"""A weight's initializer, regularizer and constraint, as layers take them.

Layers with weights take three arguments per weight (``kernel_initializer``,
``kernel_regularizer``, ``kernel_constraint``...), keep them as attributes of the
same names, create the weight from them and list them in their config. These
helpers do that once for every such layer, with Keras's config order (all the
initializers, then the regularizers, then the constraints).

:func:`weight_arguments` declares those arguments once for a constructor: the
``__init__`` it decorates does not list them, yet the layer's signature (what
``inspect.signature``, positional calls and keyword calls see) has them where
Keras has them, with Keras's defaults (:data:`DEFAULT_INITIALIZERS`).

Example:
    >>> import callax
    >>> from callax.layers.weight_args import set_weight_args, weight_args_config
    >>> layer = callax.layers.Layer()
    >>> set_weight_args(layer, "kernel", "ones", None, None)
    >>> weight_args_config(layer, "kernel")["kernel_initializer"]["class_name"]
    'Ones'
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from callax import constraints, initializers, regularizers
from callax.core.layer import Layer
from callax.core.variable import Variable
from callax.layers.signature_binding import bind, parameter

# The default initializer of each weight, as Keras's built-in layers declare it.
DEFAULT_INITIALIZERS: dict[str, str] = {
    "kernel": "glorot_uniform",
    "depthwise": "glorot_uniform",
    "pointwise": "glorot_uniform",
    "recurrent": "orthogonal",
    "bias": "zeros",
    "beta": "zeros",
    "gamma": "ones",
    "moving_mean": "zeros",
    "moving_variance": "ones",
    "embeddings": "uniform",
}
# Weights that take an initializer only (no regularizer, no constraint), as in Keras:
# BatchNormalization's moving statistics are not trained.
INITIALIZER_ONLY = frozenset({"moving_mean", "moving_variance"})
_SERIALIZE = {
    "initializer": initializers.serialize,
    "regularizer": regularizers.serialize,
    "constraint": constraints.serialize,
}


def set_weight_args(
    layer: Layer, prefix: str, initializer: Any, regularizer: Any = None, constraint: Any = None
) -> None:
    """Resolves and sets ``{prefix}_initializer``, ``{prefix}_regularizer`` and
    ``{prefix}_constraint`` on ``layer`` (names, configs or objects, as Keras takes)."""
    setattr(layer, f"{prefix}_initializer", initializers.get(initializer))
    setattr(layer, f"{prefix}_regularizer", regularizers.get(regularizer))
    setattr(layer, f"{prefix}_constraint", constraints.get(constraint))


def weight_args_config(layer: Layer, *prefixes: str, activity_regularizer: bool = False) -> dict:
    """The serialized initializers, then regularizers (then the layer's
    ``activity_regularizer`` if asked), then constraints of the weights named by
    ``prefixes`` (Keras's config keys and order)."""
    return {
        name: _SERIALIZE[name.rsplit("_", 1)[1]](getattr(layer, name))
        for name in weight_arg_names(*prefixes, activity_regularizer=activity_regularizer)
    }


def add_weight_from_args(layer: Layer, prefix: str, **kwargs: Any) -> Variable:
    """``layer.add_weight(...)`` with the initializer, regularizer and constraint
    that :func:`set_weight_args` set for ``prefix``; ``kwargs`` give the rest
    (``shape``, ``name``, ``dtype``, ``trainable``...)."""
    return layer.add_weight(
        initializer=getattr(layer, f"{prefix}_initializer"),
        regularizer=getattr(layer, f"{prefix}_regularizer"),
        constraint=getattr(layer, f"{prefix}_constraint"),
        **kwargs,
    )


def add_bias(layer: Layer, shape: tuple) -> Variable | None:
    """The ``bias`` weight (from the ``bias_*`` arguments) when ``layer.use_bias``,
    else ``None``."""
    if not layer.use_bias:
        return None
    return add_weight_from_args(layer, "bias", shape=shape, name="bias")


def weight_arg_names(*prefixes: str, activity_regularizer: bool = False) -> tuple[str, ...]:
    """The argument names of the weights named by ``prefixes``, in Keras's order: the
    initializers, then the regularizers (then ``activity_regularizer`` if asked), then
    the constraints (an :data:`INITIALIZER_ONLY` weight has its initializer only)."""
    trained = [p for p in prefixes if p not in INITIALIZER_ONLY]
    return (
        tuple(f"{p}_initializer" for p in prefixes)
        + tuple(f"{p}_regularizer" for p in trained)
        + (("activity_regularizer",) if activity_regularizer else ())
        + tuple(f"{p}_constraint" for p in trained)
    )


def weight_arguments(
    *prefixes: str,
    after: str,
    activity_regularizer: bool = True,
    after_initializers: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declares the weight arguments of the ``__init__`` it decorates.

    The decorated ``__init__`` does not list ``{prefix}_initializer``,
    ``{prefix}_regularizer``, ``{prefix}_constraint`` for the weights named by
    ``prefixes``; the layer's signature gets them right after the parameter
    ``after``, in Keras's order: the initializers, the parameters named in
    ``after_initializers`` (moved there from the decorated ``__init__``, e.g. LSTM's
    ``unit_forget_bias``), the regularizers, ``activity_regularizer`` (unless
    ``activity_regularizer=False``), the constraints. Initializer defaults come from
    :data:`DEFAULT_INITIALIZERS`, or from ``defaults`` (``{"kernel": "he_normal"}``);
    the others default to ``None``. ``inspect.signature`` shows that signature, and
    positional and keyword calls bind to it as if it were written out.

    Before the decorated ``__init__`` runs, the arguments are resolved
    (``initializers.get``...) and set as attributes of the same names
    (:func:`set_weight_args`); ``activity_regularizer`` reaches the decorated
    ``__init__`` in its ``**kwargs`` (for ``Layer.__init__``). A decorated ``__init__``
    that takes a ``weight_args`` parameter instead receives the arguments there, as
    a dict by name, to hand on (to a parent class or a sublayer that declares them).

    Build the weights with :func:`add_weight_from_args` and list the arguments in
    ``get_config`` with :func:`weight_args_config`. Plain explicit signatures work as
    well: this only saves writing the same parameters in every layer.

    Example:
        >>> import inspect
        >>> import callax
        >>> from callax.layers.weight_args import (
        ...     add_weight_from_args, weight_args_config, weight_arguments)
        >>> class Scale(callax.layers.Layer):
        ...     @weight_arguments("kernel", after="units", defaults={"kernel": "ones"})
        ...     def __init__(self, units: int = 1, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.units = units
        ...     def build(self, input_shape):
        ...         self.kernel = add_weight_from_args(
        ...             self, "kernel", shape=(input_shape[-1], self.units), name="kernel")
        ...     def call(self, x):
        ...         return x @ self.kernel
        ...     def get_config(self):
        ...         return {**super().get_config(), "units": self.units,
        ...                 **weight_args_config(self, "kernel")}
        >>> list(inspect.signature(Scale).parameters)[:2]
        ['units', 'kernel_initializer']
        >>> [name for name in inspect.signature(Scale).parameters if "_" in name]
        ['kernel_initializer', 'kernel_regularizer', 'activity_regularizer', 'kernel_constraint']
        >>> layer = Scale(2, "zeros", kernel_regularizer="l2")
        >>> type(layer.kernel_initializer).__name__, type(layer.kernel_regularizer).__name__
        ('Zeros', 'L2')
        >>> layer(callax.ops.ones((1, 3))).tolist()
        [[0.0, 0.0]]
        >>> Scale.from_config(layer.get_config()).get_config() == layer.get_config()
        True
    """
    defaults = dict(defaults or {})
    unknown = [p for p in prefixes if p not in DEFAULT_INITIALIZERS and p not in defaults]
    if unknown:
        raise ValueError(
            f"weight_arguments: no default initializer for {unknown}; pass "
            f"defaults={{{unknown[0]!r}: ...}} (known weights: {sorted(DEFAULT_INITIALIZERS)})."
        )

    def decorate(init: Callable[..., None]) -> Callable[..., None]:
        signature, hand_on = _weight_signature(
            init, prefixes, after, activity_regularizer, after_initializers, defaults
        )
        names = weight_arg_names(*prefixes)

        @functools.wraps(init)
        def __init__(self: Layer, *args: Any, **kwargs: Any) -> None:
            arguments, extra = bind(type(self), signature, (self, *args), kwargs)
            values = {name: arguments.pop(name) for name in names}
            if activity_regularizer:
                extra["activity_regularizer"] = arguments.pop("activity_regularizer")
            if hand_on:
                arguments["weight_args"] = values
            else:
                _set_all(self, prefixes, values)
            init(self, **arguments, **extra)

        __init__.__signature__ = signature  # type: ignore[attr-defined]
        return __init__

    return decorate


def _weight_signature(
    init: Callable[..., None],
    prefixes: tuple[str, ...],
    after: str,
    activity_regularizer: bool,
    after_initializers: tuple[str, ...],
    defaults: dict[str, Any],
) -> tuple[inspect.Signature, bool]:
    """The signature :func:`weight_arguments` gives ``init``, and whether ``init``
    takes the values as ``weight_args``."""
    own = inspect.signature(init)
    hand_on = "weight_args" in own.parameters
    params = [p for p in own.parameters.values() if p.name != "weight_args"]
    moved = [p for p in params if p.name in after_initializers]
    params = [p for p in params if p.name not in after_initializers]
    where = [p.name for p in params]
    if after not in where or len(moved) != len(after_initializers):
        raise TypeError(
            f"weight_arguments: {init.__qualname__} must have the parameters after={after!r} "
            f"and after_initializers={after_initializers!r}; it has {where}."
        )
    if activity_regularizer and not any(p.kind is p.VAR_KEYWORD for p in params):
        raise TypeError(
            f"weight_arguments: {init.__qualname__} needs **kwargs to pass "
            "activity_regularizer on to Layer.__init__."
        )

    names = weight_arg_names(*prefixes, activity_regularizer=activity_regularizer)
    initializer_args = [
        parameter(name, defaults.get(p, DEFAULT_INITIALIZERS.get(p)))
        for p, name in zip(prefixes, names)
    ]
    rest = [parameter(name, None) for name in names[len(prefixes) :]]
    block = initializer_args + moved + rest
    i = where.index(after) + 1
    return own.replace(parameters=params[:i] + block + params[i:]), hand_on


def _set_all(layer: Layer, prefixes: tuple[str, ...], values: dict[str, Any]) -> None:
    for p in prefixes:
        if p in INITIALIZER_ONLY:
            setattr(layer, f"{p}_initializer", initializers.get(values[f"{p}_initializer"]))
        else:
            set_weight_args(
                layer,
                p,
                values[f"{p}_initializer"],
                values[f"{p}_regularizer"],
                values[f"{p}_constraint"],
            )
