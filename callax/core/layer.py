"""``Layer``: the base class, and the call protocol every layer and model runs.

Write a layer by creating sublayers (or nothing) in ``__init__``, weights in
``build(input_shape)`` (optional), and the computation in ``call``. Then
``layer(x)`` runs the protocol in :meth:`Layer.__call__`:

1. check ``super().__init__()`` ran;
2. convert array-likes (numpy arrays, lists of numbers, scalars) to JAX arrays in
   the layer's compute dtype;
3. resolve ``training``: the explicit argument, else the enclosing call's value,
   else ``call``'s default. It reaches nested layers whether or not each ``call``
   in between declares or forwards it, and a default never leaks into siblings;
4. build on the first call: ``build`` gets the input shape(s); a layer with no
   ``build`` of its own is built by running ``call`` once (not twice);
5. push a frame on the call context and run ``call``;
6. tell the listeners (a no-op when there are none), pop the frame, return.

An exception raised inside ``call`` leaves with the call path attached as a note
(``MultiInputModel.call → dense1 (Dense 'dense', call 2) → Dense.call``).

Example:
    >>> import callax
    >>> class Scale(callax.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x * self.w
    >>> layer = Scale()
    >>> layer(callax.ops.ones((2, 3))).shape
    (2, 3)
    >>> [w.path for w in layer.weights]
    ['scale/variable']
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
import warnings
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax import initializers as _initializers
from callax.core import call_context as _ctx
from callax.core import config as _config
from callax.core import dtype_policy as _policy
from callax.core import masking as _masking
from callax.core import pitfalls
from callax.core import remat as _remat
from callax.core.auto_config import auto_config
from callax.core.compiled_call import CompiledCall
from callax.core.hooks import register as _register_hook
from callax.core.input_spec import assert_input_compatibility
from callax.core.keras_tensor import KerasTensor
from callax.core.kernels import LayerKernel
from callax.core.seed_generator import SeedGenerator
from callax.core.stateless_scope import StatelessScope, get_stateless_scope
from callax.core.stateless_scope import _local as _scope_local
from callax.core.structure import ArrayImpl as _ArrayImpl
from callax.core.structure import restamp as _restamp
from callax.core.structure import structure_stamps, structure_version  # noqa: F401 — re-exported
from callax.core.variable import Variable, abstract_variables
from callax.distribution import hooks as _distribution_hooks

_ARRAY_TYPES = (np.ndarray, np.generic)
_JAX_ARRAY = jax.Array
_listeners = _ctx._listeners
_observers = _ctx._observers  # listeners + taps (hooks, capture, intervention)
_kernels_off = _ctx._kernels_off  # listeners + taps that need every call op by op
_ctx_local = _ctx._local
# Held while a layer builds: when several threads make a layer's first call at
# once, one builds and the others then find it built (weights created once).
# Re-entrant: a build may build sublayers. Only unbuilt layers ever take it.
_build_lock = threading.RLock()

# Attributes the walk over `__dict__` never descends into.
_UNTRACKED = frozenset(
    {"_own_variables", "_trainable_flags", "_last_losses", "_inbound_nodes", "_build_shapes",
     "_compiled", "_kernel", "_init_args", "_build_dtypes", "_structure",
     "_forward_hooks", "_forward_pre_hooks"}
)  # fmt: skip


def _holds_state(value: Any, depth: int = 0) -> bool:
    """Whether a list/tuple/dict assigned as an attribute holds layers or state."""
    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if isinstance(item, (Layer, Variable, SeedGenerator)):
            return True
        if depth < 2 and isinstance(item, (list, tuple, dict)) and _holds_state(item, depth + 1):
            return True
    return False


# Layers whose `_last_losses` may be non-empty (id -> weak reference): an
# outermost call clears those in its tree. Empty unless some layer adds losses,
# so the protocol pays one truthiness check per call.
_loss_holders: dict[int, weakref.ref] = {}
# Layer -> (structure_version, ids of the layers in its tree), for `_clear_losses`.
_tree_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hold_losses(layer: Any) -> None:
    key = id(layer)
    if key not in _loss_holders:
        _loss_holders[key] = weakref.ref(layer, lambda _, key=key: _loss_holders.pop(key, None))


# --------------------------------------------------------------------- names
_name_counts: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Conv2D -> conv2d
    return name.lstrip("_") or "layer"


def unique_name(base: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``, ... (reset by ``clear_session``)."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset_names() -> None:
    _name_counts.clear()


# ----------------------------------------------------------------- call spec
class CallSpec:
    """What the protocol needs to know about a class's ``call`` and ``build``,
    inspected once per class, never per call."""

    __slots__ = (
        "positional", "accepts_training", "training_position", "training_default",
        "accepts_mask", "var_kwargs", "own_build", "build_params", "kernel", "has_mask_arg",
        "own_compute_mask",
    )  # fmt: skip

    def __init__(self, cls: type):
        sig = inspect.signature(cls.call)
        params = list(sig.parameters.values())[1:]  # drop self
        kinds = inspect.Parameter
        self.positional = [
            p.name for p in params if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
        ]
        names = {p.name: p for p in params}
        self.var_kwargs = any(p.kind == kinds.VAR_KEYWORD for p in params)
        self.accepts_training = "training" in names or self.var_kwargs
        self.training_position = (
            self.positional.index("training") if "training" in self.positional else None
        )
        default = names["training"].default if "training" in names else None
        self.training_default = None if default is inspect.Parameter.empty else default
        self.accepts_mask = "mask" in names or self.var_kwargs
        self.has_mask_arg = "mask" in names
        self.own_compute_mask = cls.compute_mask is not Layer.compute_mask
        self.own_build = cls.build is not Layer.build
        # Per-layer compiled kernels only for callax's own side-effect-free calls
        # (True, or "training": only when training is truthy); see core/kernels.py.
        opt_in = getattr(cls, "_kernel_call", False)
        self.kernel = opt_in if (cls.call.__module__ or "").startswith("callax.") else False
        if self.own_build:
            bparams = list(inspect.signature(cls.build).parameters.values())[1:]
            self.build_params = [
                p.name
                for p in bparams
                if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
            ]
        else:
            self.build_params = []


def _call_spec(cls: type) -> CallSpec:
    spec = cls.__dict__.get("_callax_spec")
    if spec is None:
        spec = CallSpec(cls)
        type.__setattr__(cls, "_callax_spec", spec)
    return spec


# ------------------------------------------------------------ shape helpers
def _shape_of(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


def _dtype_of(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_dtype_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _dtype_of(v) for k, v in x.items()}
    dtype = getattr(x, "dtype", None)
    return None if dtype is None else str(dtype)


def _is_tensor(x: Any) -> bool:
    return isinstance(x, (_JAX_ARRAY, np.ndarray, KerasTensor, jax.ShapeDtypeStruct))


def _has_tensor(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return any(_has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(_has_tensor(v) for v in x.values())
    return _is_tensor(x)


def _has_shape(x: Any) -> bool:
    """Whether some leaf of ``x`` is array-like (has a ``shape``: JAX/numpy arrays,
    symbolic tensors, and foreign tensors such as tf.Tensor alike)."""
    if isinstance(x, (list, tuple)):
        return any(_has_shape(v) for v in x)
    if isinstance(x, dict):
        return any(_has_shape(v) for v in x.values())
    return getattr(x, "shape", None) is not None


def _all_numbers(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(_all_numbers(v) for v in x)
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _mark_built_after(build):
    """Wraps a subclass's ``build`` so that calling it directly (``layer.build(shape)``)
    leaves the layer built, with its build shape recorded, as Keras does; the call
    protocol then never builds it a second time."""

    # Keras also accepts a `build(self)` that takes no shape (weights of fixed
    # shapes): every caller passes the shape, so drop it here, once per class.
    params = list(inspect.signature(build).parameters.values())[1:]
    takes_shape = any(
        p.kind is not inspect.Parameter.VAR_KEYWORD and p.kind is not inspect.Parameter.KEYWORD_ONLY
        for p in params
    )

    @functools.wraps(build)
    def build_wrapper(self, *args, **kwargs):
        if takes_shape or (not args and not kwargs):
            build(self, *args, **kwargs)
        else:
            build(self)
        d = self.__dict__
        d["built"] = True
        if d.get("_build_shapes") is None and args:
            d["_build_shapes"] = args[0] if len(args) == 1 else list(args)

    build_wrapper._callax_wrapped = True
    return build_wrapper


# ------------------------------------------------------------------- Layer
class Layer:
    """Base class of all layers and models.

    Args:
        name: unique default derived from the class name (``dense``, ``dense_1``).
        dtype: a dtype policy name (``"float32"``, ``"mixed_bfloat16"``...) or policy.
        trainable: whether the layer's weights are updated by training.
        autocast: cast floating inputs to the compute dtype (default True).
        activity_regularizer: optional ``f(outputs) -> scalar`` added to ``losses``.
        input_shape, input_dim, batch_size, batch_input_shape: for the first layer
            of a ``Sequential`` model (Keras compatibility).
    """

    _callax_spec: CallSpec | None = None
    _kernel_call: bool | str = False  # built-in layers opt in to per-layer kernels

    def __new__(cls, *args: Any, **kwargs: Any):
        obj = super().__new__(cls)
        # Constructor arguments, for the automatic config of user classes.
        obj.__dict__["_init_args"] = (args, kwargs)
        return obj

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if (
            "__call__" in cls.__dict__
            and not (cls.__module__ or "").startswith("callax.")
            and not pitfalls.delegates_to_base_call(cls.__dict__["__call__"])
        ):
            warnings.warn(pitfalls.call_override(cls), pitfalls.CallaxPitfallWarning, stacklevel=2)
        type.__setattr__(cls, "_callax_spec", None)
        if "build" in cls.__dict__ and not getattr(cls.__dict__["build"], "_callax_wrapped", False):
            type.__setattr__(cls, "build", _mark_built_after(cls.__dict__["build"]))

    def __init__(
        self,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ):
        shape_kwargs = {}
        for key in ("input_shape", "batch_input_shape", "batch_size", "input_dim", "input_length"):
            if key in kwargs:
                shape_kwargs[key] = kwargs.pop(key)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) "
                f"{sorted(kwargs)}. Layer accepts: name, dtype, trainable, autocast, "
                "activity_regularizer, input_shape, input_dim, batch_size."
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            # "/" separates the layers of a weight's path (dense/kernel).
            raise ValueError(
                f"{type(self).__name__}: `name` must be a string without '/'; received "
                f"name={name!r} (of type {type(name).__name__})."
            )
        d = self.__dict__
        d["_callax_init"] = True
        _restamp(self)  # a new layer: a new stamp (caches see it appear in their tree)
        d["name"] = name or unique_name(to_snake_case(type(self).__name__))
        d["dtype_policy"] = _policy.get(dtype)
        d["_trainable"] = bool(trainable)
        d["autocast"] = autocast
        d["built"] = False
        d["_own_variables"] = []
        d["_trainable_flags"] = {}
        if _remat._local.__dict__.get("stack"):
            d["_remat_mode"] = _remat.get_current_remat_mode()  # callax.RematScope
        d["_last_losses"] = []
        d["_build_shapes"] = None
        d["input_spec"] = None
        d["supports_masking"] = False
        from callax import regularizers

        d["activity_regularizer"] = regularizers.get(activity_regularizer)
        if shape_kwargs:
            d["_input_shape_arg"] = _batch_shape_from(shape_kwargs)
        frame = _ctx_local.__dict__.get("frame")
        if frame is not None and frame.layer.built and not get_stateless_scope():
            pitfalls.warn_layer_in_call(frame.layer, self)

    # ----------------------------------------------------- attribute tracking
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Layer, Variable, SeedGenerator)):
            # Tracking walks `__dict__` in assignment order, so a sublayer (or
            # variable) assigned before `super().__init__()` is tracked like any
            # other, as in Keras; nothing to check here.
            _restamp(self)  # compiled calls of this tree must re-trace
        elif type(self)._kernel_call and self.__dict__.get("built"):
            # A built-in layer's settings (Dropout.rate...) are baked into its
            # compiled kernels: changing one after building re-traces them.
            _restamp(self)
        elif isinstance(value, (list, tuple, dict)) and _holds_state(value):
            _restamp(self)  # `self.blocks = [...]`: the tree changed
        elif name == "built":
            _restamp(self)  # un- or re-built (Sequential.pop/add): what call runs changed
        object.__setattr__(self, name, value)

    def _tracked_values(self):
        """Attribute values in assignment order (the tracking walk's roots)."""
        for key, value in self.__dict__.items():
            if key not in _UNTRACKED:
                yield value

    def _direct_children(self) -> list[Layer]:
        seen: set[int] = set()
        out: list[Layer] = []

        def visit(value: Any) -> None:
            if isinstance(value, Layer):
                if id(value) not in seen and value is not self:
                    seen.add(id(value))
                    out.append(value)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    visit(v)
            elif isinstance(value, dict):
                for v in value.values():
                    visit(v)

        for value in self._tracked_values():
            visit(value)
        return out

    def _direct_state(self) -> tuple[list[Variable], list[SeedGenerator]]:
        """Own variables (``add_weight`` order, then ones assigned as attributes)
        and own seed generators."""
        variables = list(self._own_variables)
        seen = {id(v) for v in variables}
        seeds: list[SeedGenerator] = []

        def visit(value: Any) -> None:
            if isinstance(value, Variable):
                if id(value) not in seen:
                    seen.add(id(value))
                    variables.append(value)
            elif isinstance(value, SeedGenerator):
                if id(value) not in seen:
                    seen.add(id(value))
                    seeds.append(value)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    visit(v)
            elif isinstance(value, dict):
                for v in value.values():
                    visit(v)

        for value in self._tracked_values():
            if not isinstance(value, Layer):
                visit(value)
        return variables, seeds

    def _flatten_layers(self, include_self: bool = True) -> list[Layer]:
        """This layer and every sublayer, depth first, each once."""
        out: list[Layer] = []
        seen: set[int] = set()

        def visit(layer: Layer) -> None:
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for child in layer._direct_children():
                visit(child)

        visit(self)
        return out if include_self else out[1:]

    def _collect(self, weights_only: bool) -> list[Variable]:
        out: list[Variable] = []
        seen: set[int] = set()
        for layer in self._flatten_layers():
            variables, seeds = layer._direct_state()
            pool = variables if weights_only else variables + [s.state for s in seeds]
            for v in pool:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def layers(self) -> list[Layer]:
        """Direct sublayers, in the order they were assigned (or the layer's own
        ``self.layers``, when it set one)."""
        own = self.__dict__.get("layers")
        return own if own is not None else self._direct_children()

    @layers.setter
    def layers(self, value: Any) -> None:
        # Keras 3's Layer has no `layers` property, so a layer may keep its own list under
        # that name (KerasTuner's RandAugment does); a Model's stays reserved, as in Keras.
        from callax.models.model import Model

        if isinstance(self, Model):
            raise AttributeError(
                f"{type(self).__name__}.layers is reserved (the model's sublayers) and cannot "
                "be assigned; store the list under another attribute name."
            )
        self.__dict__["layers"] = value

    @property
    def variables(self) -> list[Variable]:
        """All variables: weights plus seed-generator state."""
        return self._collect(weights_only=False)

    @property
    def trainable_variables(self) -> list[Variable]:
        return [v for v in self.variables if v.trainable]

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return [v for v in self.variables if not v.trainable]

    @property
    def weights(self) -> list[Variable]:
        """Trainable and non-trainable weights (not seed-generator state)."""
        return self._collect(weights_only=True)

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if not v.trainable]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezes (or unfreezes) this layer and every sublayer."""
        value = bool(value)
        for layer in self._flatten_layers():
            _restamp(layer)  # e.g. BatchNormalization changes behaviour
            layer.__dict__["_trainable"] = value
            for v in layer._own_variables:
                if layer._trainable_flags.get(id(v), True):
                    v.trainable = value

    def get_weights(self) -> list[np.ndarray]:
        """Every weight's value as a numpy array, in ``model.weights`` order."""
        return [np.asarray(v.value) for v in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Sets every weight, in ``model.weights`` order; checks count and shapes
        first and changes nothing if any is off."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"{self.name}.set_weights: expected {len(own)} arrays (one per weight), "
                f"received {len(weights)}."
            )
        for v, w in zip(own, weights):
            if tuple(np.shape(w)) != v.shape:
                raise ValueError(
                    f"{self.name}.set_weights: weight {v.path!r} has shape {v.shape}, "
                    f"received an array of shape {tuple(np.shape(w))}."
                )
        for v, w in zip(own, weights):
            v.assign(w)

    def count_params(self) -> int:
        """Number of weight scalars (the layer must be built)."""
        if not self.built:
            raise ValueError(pitfalls.unbuilt(self, "count_params()"))
        return int(sum(v.size for v in self.weights))

    @property
    def dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype inputs are converted to (the compute dtype; MLflow reads it)."""
        return self.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def path(self) -> str:
        return self.name

    @property
    def quantization_mode(self) -> str | None:
        """Always ``None``: callax does not quantize (Keras's attribute, which
        KerasHub reads on every layer when writing a config)."""
        return None

    # ------------------------------------------------------------- weights
    def add_weight(
        self,
        shape: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        *,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> Variable:
        """Creates a variable owned by this layer.

        Args:
            shape: the weight's shape (default scalar ``()``).
            initializer: name, initializer object or callable; default
                ``glorot_uniform`` for floats, ``zeros`` otherwise.
            dtype: default the layer's variable dtype.
            trainable: whether optimizers update it.
            name: short name (``kernel``); the path adds the running layers' names.
            regularizer: name or callable; its value is added to ``losses``.
            constraint: name or callable applied after each optimizer update.
        """
        if isinstance(shape, str):  # Keras 2's add_weight(name, shape, ...) order
            raise ValueError(
                f"{self.name}.add_weight: `name` must be passed as a keyword argument, as in "
                f"Keras 3; received add_weight({shape!r}, ...). Use "
                f"add_weight(shape=..., name={shape!r})."
            )
        if overwrite_with_gradient:
            raise ValueError(
                f"{self.name}.add_weight: overwrite_with_gradient=True (float8 training) is "
                "not supported by callax; received overwrite_with_gradient=True."
            )
        kwargs.pop("use_resource", None)  # Keras 2 arguments, meaningless here
        kwargs.pop("synchronization", None)
        if kwargs:
            raise TypeError(
                f"{self.name}.add_weight() got unexpected keyword argument(s) {sorted(kwargs)}."
            )
        from callax import constraints, regularizers

        shape = () if shape is None else shape
        dtype = jnp.dtype(dtype or self.dtype_policy.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
        init = _initializers.get(initializer)
        frame = _ctx.current_frame()
        if frame is None or frame.layer is not self:
            with _name_scope(self):
                variable = Variable(
                    init, shape=shape, dtype=dtype, trainable=trainable and self._trainable,
                    name=name, regularizer=regularizers.get(regularizer),
                    constraint=constraints.get(constraint), aggregation=aggregation,
                    autocast=autocast,
                )  # fmt: skip
        else:
            variable = Variable(
                init, shape=shape, dtype=dtype, trainable=trainable and self._trainable,
                name=name, regularizer=regularizers.get(regularizer),
                constraint=constraints.get(constraint), aggregation=aggregation,
                autocast=autocast,
            )  # fmt: skip
        self._own_variables.append(variable)
        self._trainable_flags[id(variable)] = bool(trainable)
        _restamp(self)  # compiled calls must see the new weight
        return variable

    def add_variable(self, shape, initializer, dtype=None, trainable=True, **kwargs) -> Variable:
        """Keras 3's other spelling of :meth:`add_weight`."""
        return self.add_weight(shape, initializer, dtype, trainable=trainable, **kwargs)

    # --------------------------------------------------------------- losses
    def add_loss(self, loss: Any) -> None:
        """Adds a scalar to ``losses`` for the current call (e.g. an activity penalty).

        The loss belongs to this layer: it shows in this layer's ``losses`` and in
        those of every layer containing it, once, until the next call of the
        outermost layer (as in Keras).
        """
        frame = _ctx.current_frame()
        root = frame
        while root is not None and root.parent is not None:
            root = root.parent
        if root is None or root.call_index == 0:  # outside any call (or in a hand-called build)
            self._last_losses.append(loss)
            _hold_losses(self)
            return
        if root.record is None:
            root.record = {"losses": []}
        # Kept with its owner; the outermost call hands them out when it ends.
        root.record.setdefault("losses", []).append((self, loss))

    @property
    def losses(self) -> list[Any]:
        """This layer's and its sublayers' ``add_loss`` values from the last call
        (inside a stateless scope: those added in that scope), plus the weight
        regularization penalties."""
        override = getattr(self.__dict__.get("_trainer"), "losses_override", None)
        if override is not None:  # fit's step: the losses of the traced forward pass
            return list(override)
        layers = self._flatten_layers()
        scope = get_stateless_scope()
        if scope is not None:
            ids = {id(layer) for layer in layers}
            owners = scope.loss_owners
            out = [loss for loss in scope.losses if id(owners.get(id(loss))) in ids]
        else:
            out = [loss for layer in layers for loss in layer._last_losses]
        for v in self.weights:  # deduplicated: a shared weight is penalized once
            if v.regularizer is not None and v.trainable:
                out.append(v.regularizer(v.value))
        return out

    def _clear_losses(self) -> None:
        """Drops the last call's losses of this layer and its sublayers (Keras
        resets them at each outermost call). Only layers known to hold some are
        visited; the tree's layer ids are cached until the structure changes."""
        cached = _tree_ids.get(self)
        if cached is None or cached[0] != structure_version[0]:
            cached = (structure_version[0], {id(layer) for layer in self._flatten_layers()})
            _tree_ids[self] = cached
        ids = cached[1]
        for key in [k for k in _loss_holders if k in ids]:
            layer = _loss_holders.pop(key)()
            if layer is not None:
                layer.__dict__["_last_losses"] = []

    # ------------------------------------------------------------ building
    def build(self, input_shape: Any = None) -> None:
        """Creates weights from the input shape. The default builds a layer that
        has no ``build`` of its own by running ``call`` abstractly on zeros of
        that shape (no real computation, weights created for real). Reached via
        ``super().build(input_shape)`` from a subclass's own ``build``, it only
        marks the layer built, as in Keras."""
        if (
            input_shape is not None
            and not self.built
            and type(self).build is Layer.build
            and type(self).call is not Layer.call
        ):
            if self.__dict__.get("_build_shapes") is None:
                # The shape as given (None: any batch size), for summary and saving.
                self.__dict__["_build_shapes"] = input_shape
            self._build_by_abstract_call(input_shape)
        self.built = True

    def _build_by_abstract_call(self, input_shape: Any, dtype: Any = None) -> None:
        shapes = input_shape
        if isinstance(shapes, dict):
            specs = {k: _spec(s, dtype) for k, s in shapes.items()}
            args, kwargs = (specs,), {}
        elif isinstance(shapes, list) and shapes and isinstance(shapes[0], (list, tuple)):
            args, kwargs = tuple(_spec(s, dtype) for s in shapes), {}
            if len(_call_spec(type(self)).positional) == 1:
                args = (list(args),)
        else:
            args, kwargs = (_spec(shapes, dtype),), {}
        self.abstract_call(*args, **kwargs)
        for v in self.variables:
            v.value  # noqa: B018 — materialize weights created abstractly

    def abstract_call(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the call protocol on ``jax.ShapeDtypeStruct`` inputs with
        ``jax.eval_shape``: builds what needs building without computing anything
        (new weights stay uninitialised until read) and returns output specs."""
        with abstract_variables(), StatelessScope(), _ctx.isolated_context():
            return jax.eval_shape(lambda a, k: self(*a, **k), args, kwargs)

    def _run_build(self, args: tuple, kwargs: dict) -> None:
        spec = _call_spec(type(self))
        if spec.kernel and args and not _has_shape(args[0]):
            # callax's numeric layers take arrays: say what came instead of failing
            # in `build` on a shape of None (checked once, at the first call).
            got = args[0]
            shown = "None" if got is None else f"{type(got).__name__} {got!r}"[:120]
            raise TypeError(
                f"{type(self).__name__} '{self.name}' expects a tensor (an array, or a list "
                f"of numbers) as its input; received {shown}."
            )
        if len(spec.build_params) >= 2:
            # One shape per argument: by name (`build(self, query_shape, value_shape)`
            # for `call(self, query, value)`) or else by position.
            names = spec.positional
            bound = dict(zip(names, args))
            bound.update({k: v for k, v in kwargs.items() if _has_tensor(v)})
            by_name = [
                bound.get(p[: -len("_shape")]) for p in spec.build_params if p.endswith("_shape")
            ]
            complete = len(by_name) == len(spec.build_params)
            while complete and len(by_name) > 1 and by_name[-1] is None:
                by_name.pop()  # an optional trailing shape (`key_shape=None`) not given
            if complete and all(b is not None for b in by_name):
                values = by_name
            else:
                values = [a for a in args if _has_tensor(a)][: len(spec.build_params)]
            self.__dict__["_build_shapes"] = [_shape_of(v) for v in values]
            self.build(*self._build_shapes)
            return
        else:
            first = args[0] if args else next((v for v in kwargs.values() if _has_tensor(v)), None)
            shapes = _shape_of(first)
        self.__dict__["_build_shapes"] = shapes
        self.build(shapes)

    # ------------------------------------------------------ the call protocol
    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(pitfalls.missing_call(type(self)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # 1. initialised?
        d = self.__dict__
        if "_callax_init" not in d:
            raise RuntimeError(pitfalls.not_initialized(type(self)))
        spec = type(self).__dict__.get("_callax_spec") or _call_spec(type(self))

        # 3a. the explicit training value (keyword or positional)
        training = kwargs.pop("training", None)
        pos = spec.training_position
        if pos is not None and len(args) > pos:
            explicit = args[pos]
            args = args[:pos] + args[pos + 1 :]
            if training is None:
                training = explicit
        if training is not None and training is not True and training is not False:
            training = _checked_training(self, training)  # rare: only non-bool values

        # 2. convert array-likes; spot symbolic inputs (Functional construction)
        args, symbolic = self._convert_args(args)
        if kwargs:
            kwargs, sym_kw = self._convert_kwargs(kwargs)
            symbolic = symbolic or sym_kw
        if d["input_spec"] is not None and args:
            assert_input_compatibility(
                d["input_spec"], args[0], f"{type(self).__name__} '{self.name}'"
            )
        if symbolic:
            from callax.models.functional import symbolic_call

            return symbolic_call(self, args, kwargs, training)

        # 3b. inherited, else the signature default
        parent = _ctx_local.__dict__.get("frame")
        if (
            parent is None
            and _config._COMPILED_CALLS
            and d["built"]
            and _scope_local.__dict__.get("scope") is None
        ):
            return self._compiled_call()(*args, training=training, **kwargs)
        if training is None:
            if parent is not None:
                training = parent.training
            if training is None:
                training = spec.training_default
        masking = _masking.in_use[0] or spec.own_compute_mask
        if masking:
            previous_mask = kwargs.get("mask")
            if previous_mask is None and args:
                previous_mask = _masking.mask_structure(args[0])
            if spec.has_mask_arg and kwargs.get("mask") is None and previous_mask is not None:
                kwargs["mask"] = previous_mask
        if "mask" in kwargs and not spec.accepts_mask:
            kwargs.pop("mask")
        if spec.accepts_training and training is not None:
            kwargs["training"] = training

        # 5. a frame for this call
        frame = _ctx.push_frame(self, training)
        try:
            # 4. build on first call
            built_here = False
            if not d["built"] and spec.own_build:
                with _build_lock:
                    if not d["built"]:
                        self._run_build(args, kwargs)
                        d["built"] = built_here = True
            if _observers:  # taps may replace the arguments (pre-hooks)
                args, kwargs = _ctx.call_start(frame, args, kwargs)
            remat_mode = d.get("_remat_mode")
            call = self.call if remat_mode is None else _remat.wrap(self, remat_mode, args, kwargs)
            kernel = spec.kernel
            kernel = (
                kernel
                and remat_mode is None
                and (kernel is True or training)
                and d["built"]
                and not _kernels_off
                and _scope_local.__dict__.get("scope") is None
                and (d.get("_kernel") or self._make_kernel())
            )
            if self.dtype_policy.compute_dtype != self.dtype_policy.variable_dtype:
                from callax.core.variable import autocast_scope

                with autocast_scope(self.dtype_policy.compute_dtype):
                    outputs = kernel.run(args, kwargs) if kernel else call(*args, **kwargs)
            else:
                outputs = kernel.run(args, kwargs) if kernel else call(*args, **kwargs)
            if _distribution_hooks.distribution() is not None:  # ModelParallel "<path>/output"
                outputs = _distribution_hooks.layout_outputs(outputs)
            if not d["built"]:
                d["built"] = built_here = True
                if d["_build_shapes"] is None:
                    d["_build_shapes"] = _shape_of(args[0] if len(args) == 1 else list(args))
                    d["_build_dtypes"] = _dtype_of(args[0] if len(args) == 1 else list(args))
            if d["activity_regularizer"] is not None:
                self._add_activity_loss(outputs)
            if masking and (d["supports_masking"] or spec.own_compute_mask):
                out_mask = self.compute_mask(args[0] if args else None, previous_mask)
                if out_mask is not None:
                    _masking.attach_structure(outputs, out_mask)
            # 6. the taps (may replace the outputs), the listeners; pop the frame
            if _observers:
                outputs = _ctx.call_end(frame, args, kwargs, outputs, built_here)
        except Exception as error:
            if _observers:
                _ctx.call_error(frame, error)
            pitfalls.attach_call_path(error, frame)
            raise
        finally:
            _ctx_local.frame = parent
        if parent is None and (frame.record is not None or _loss_holders):
            self._finish_top_level(frame)
        return outputs

    def _compiled_call(self):
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self.__dict__["_compiled"] = CompiledCall(self)
        return compiled

    def _make_kernel(self):
        kernel = self.__dict__["_kernel"] = LayerKernel(self)
        return kernel

    # ------------------------------------------------- PyTorch-style hooks
    def register_forward_pre_hook(
        self, hook: Any, *, prepend: bool = False, with_kwargs: bool = False
    ) -> Any:
        """Runs ``hook(layer, args)`` before every call of this layer; it returns
        ``None`` or replacement positional arguments (a tuple; a single value is
        wrapped). PyTorch's semantics; see :mod:`callax.core.hooks`.

        Returns a handle: ``handle.remove()`` (or ``with handle:``) unregisters it.

        Example:
            >>> import callax
            >>> layer = callax.layers.Dense(2, kernel_initializer="ones")
            >>> with layer.register_forward_pre_hook(lambda l, args: (args[0] * 0,)):
            ...     print(layer(callax.ops.ones((1, 3))).tolist())
            [[0.0, 0.0]]
        """
        return _register_hook(self, "pre", hook, prepend=prepend, with_kwargs=with_kwargs)

    def register_forward_hook(
        self, hook: Any, *, prepend: bool = False, with_kwargs: bool = False
    ) -> Any:
        """Runs ``hook(layer, args, output)`` after every call of this layer; it
        returns ``None`` or a replacement output. PyTorch's semantics; see
        :mod:`callax.core.hooks` (a hooked layer keeps its compiled kernel; the
        hook runs after it, on concrete arrays).

        Returns a handle: ``handle.remove()`` (or ``with handle:``) unregisters it.

        Example:
            >>> import callax
            >>> layer = callax.layers.Dense(2, kernel_initializer="ones")
            >>> seen = []
            >>> handle = layer.register_forward_hook(lambda l, args, out: seen.append(out.shape))
            >>> _ = layer(callax.ops.ones((1, 3)))
            >>> handle.remove()
            >>> seen
            [(1, 2)]
        """
        return _register_hook(self, "forward", hook, prepend=prepend, with_kwargs=with_kwargs)

    def _convert_args(self, args: tuple) -> tuple[tuple, bool]:
        out = list(args)
        symbolic = False
        policy = self.dtype_policy
        dtype = policy.compute_dtype if self.autocast else None
        np_dtype = policy.compute_np if self.autocast else None
        for i, a in enumerate(args):
            t = type(a)
            if t is _ArrayImpl or isinstance(a, _JAX_ARRAY):
                # dtype objects compare fast; strings do not (this runs on every call)
                a_dtype = a.dtype
                if np_dtype is not None and a_dtype != np_dtype and a_dtype.kind == "f":
                    out[i] = a.astype(np_dtype)
            elif t is np.ndarray or isinstance(a, _ARRAY_TYPES):
                out[i] = _from_numpy(a, np_dtype)
            elif t is KerasTensor:
                symbolic = True
            elif t is list or t is tuple:
                if _all_numbers(a):
                    out[i] = jnp.asarray(a, dtype=dtype or None)
                else:
                    converted, sym = self._convert_args(tuple(a))
                    symbolic = symbolic or sym
                    out[i] = t(converted)
            elif t is dict:
                converted, sym = self._convert_kwargs(a)
                symbolic = symbolic or sym
                out[i] = converted
            elif t is float or t is int:
                out[i] = jnp.asarray(a, dtype=dtype if t is float else None)
            elif isinstance(a, Variable):
                out[i] = a.value
        return tuple(out), symbolic

    def _convert_kwargs(self, kwargs: dict) -> tuple[dict, bool]:
        symbolic = False
        out = dict(kwargs)
        dtype = self.dtype_policy.compute_np if self.autocast else None
        for key, a in kwargs.items():
            t = type(a)
            if t is np.ndarray:
                out[key] = _from_numpy(a, dtype)
            elif t is KerasTensor:
                symbolic = True
            elif t is list or t is tuple or t is dict:
                if (t is dict and any_symbolic_value(a.values())) or (
                    t is not dict and any_symbolic_value(a)
                ):
                    symbolic = True
        return out, symbolic

    def _add_activity_loss(self, outputs: Any) -> None:
        leaves = [o for o in jax.tree_util.tree_leaves(outputs) if hasattr(o, "shape")]
        for o in leaves:
            batch = o.shape[0] if o.ndim else 1
            self.add_loss(self.activity_regularizer(o) / batch)

    def _finish_top_level(self, frame: _ctx.Frame) -> None:
        pairs = frame.record.get("losses", ()) if isinstance(frame.record, dict) else ()
        scope = get_stateless_scope()
        if scope is not None:
            # A stateless call changes nothing in the layers: its losses live in
            # the scope, and the last eager call's losses stay.
            for owner, loss in pairs:
                scope.losses.append(loss)
                scope.loss_owners[id(loss)] = owner
        else:
            if _loss_holders:
                self._clear_losses()
            for owner, loss in pairs:
                owner.__dict__["_last_losses"].append(loss)
                _hold_losses(owner)

    # ----------------------------------------------------------- stateless
    def stateless_call(
        self,
        trainable_variables: list[Any],
        non_trainable_variables: list[Any],
        *args: Any,
        return_losses: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Runs the layer as a pure function of the given variable values.

        Returns ``(outputs, non_trainable_variables)`` — the second holding the
        updated non-trainable values (BatchNorm statistics, seed states) — and
        also the list of losses added during the call if ``return_losses``.
        Works under ``jax.jit``, ``jax.grad`` and ``jax.vmap``.

        Example:
            >>> import jax, callax
            >>> layer = callax.layers.Dense(2)
            >>> x = callax.ops.ones((1, 3))
            >>> _ = layer(x)
            >>> tv = [v.value for v in layer.trainable_variables]
            >>> y, _ = jax.jit(lambda tv, x: layer.stateless_call(tv, [], x))(tv, x)
            >>> y.shape
            (1, 2)
        """
        if not self.built:
            raise ValueError(pitfalls.unbuilt(self, "stateless_call()"))
        trainable = self.trainable_variables
        non_trainable = self.non_trainable_variables
        if len(trainable_variables) != len(trainable):
            raise ValueError(
                f"{self.name}.stateless_call: expected {len(trainable)} trainable variable "
                f"values (layer.trainable_variables), received {len(trainable_variables)}."
            )
        if len(non_trainable_variables) != len(non_trainable):
            raise ValueError(
                f"{self.name}.stateless_call: expected {len(non_trainable)} non-trainable "
                f"variable values (layer.non_trainable_variables), received "
                f"{len(non_trainable_variables)}."
            )
        mapping = list(zip(trainable, trainable_variables)) + list(
            zip(non_trainable, non_trainable_variables)
        )
        with StatelessScope(mapping) as scope:
            outputs = self(*args, **kwargs)
            losses = list(scope.losses)
            if return_losses:
                for v in self.weights:  # deduplicated, as `losses`
                    if v.regularizer is not None and v.trainable:
                        losses.append(v.regularizer(v.value))
        new_non_trainable = [scope.get_current_value(v) for v in non_trainable]
        if return_losses:
            return outputs, new_non_trainable, losses
        return outputs, new_non_trainable

    # --------------------------------------------------------------- config
    def get_config(self) -> dict:
        """The constructor arguments that recreate this layer (without weights)."""
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {
                "module": "keras",
                "class_name": "DTypePolicy",
                "config": {"name": self.dtype_policy.name},
                "registered_name": None,
            },
        }
        if self.activity_regularizer is not None:
            from callax import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is Layer.get_config and "_init_args" in self.__dict__:
            return auto_config(self, config)  # a user class without its own get_config
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's one call in a Functional graph (as in
        Keras: an error if it was called on symbolic tensors never, or more than once)."""
        tensors = self._only_node("input").input_tensors
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's one call in a Functional graph
        (``[layer.output for layer in model.layers]`` builds feature extractors)."""
        return self._only_node("output").outputs

    def _only_node(self, what: str) -> Any:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"{type(self).__name__} '{self.name}' has never been called on symbolic "
                f"inputs (callax.Input), so it has no defined {what}."
            )
        if len(nodes) > 1:
            raise AttributeError(
                f"{type(self).__name__} '{self.name}' has been called {len(nodes)} times "
                f"on symbolic inputs, so `{what}` is ambiguous; read it from the node you "
                "mean (the tensors returned by each call)."
            )
        return nodes[0]

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the outputs: by default the input's mask, passed on when the
        layer ``supports_masking`` (see callax/core/masking.py)."""
        return previous_mask

    def compute_output_shape(self, *input_shapes: Any) -> Any:
        """Output shape(s) for input shape(s), found by an abstract call."""
        out = self.abstract_call(*[_spec(s) for s in input_shapes])
        return jax.tree_util.tree_map(lambda s: tuple(s.shape), out)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return self.abstract_call(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _checked_training(layer: Layer, training: Any) -> Any:
    """``training`` given as something other than True/False/None: numpy bools and
    0-d boolean arrays are accepted (a traced one stays traced); anything else
    (the string ``"False"`` is truthy!) is a ``TypeError``."""
    if isinstance(training, np.bool_):
        return bool(training)
    dtype = getattr(training, "dtype", None)
    if dtype is not None and getattr(training, "ndim", None) == 0 and np.dtype(dtype) == bool:
        if isinstance(training, jax.core.Tracer):
            return training
        return bool(training)
    if dtype is not None:
        shown = f"array of shape {tuple(training.shape)} and dtype {dtype}"
    else:
        shown = f"{type(training).__name__} {training!r}"
    raise TypeError(
        f"{type(layer).__name__} '{layer.name}': `training` must be True, False or None "
        f"(or a 0-d boolean array); received {shown}."
    )


def any_symbolic_value(values: Any) -> bool:
    from callax.core.keras_tensor import any_symbolic

    return any(any_symbolic(v) for v in values)


def _from_numpy(a: np.ndarray, dtype: Any) -> jax.Array:
    """Floats take the compute dtype; other dtypes stay (JAX narrows 64-bit ints
    to 32 bits unless x64 is on). One ``jnp.asarray`` per array: ``dtype=`` is
    passed only when a cast is needed (it doubles the conversion's Python cost,
    ~18 -> ~33 us for a 32x16 float32 array, even when the dtype already matches)."""
    a_dtype = a.dtype
    kind = a_dtype.kind
    if kind == "f":
        if dtype is not None and a_dtype != dtype:
            return jnp.asarray(a, dtype=dtype)
        return jnp.asarray(a)
    if kind in "USO":  # strings stay on the host for the text preprocessing layers
        return a
    return jnp.asarray(a)


def _spec(shape: Any, dtype: Any = None) -> Any:
    if isinstance(shape, (jax.ShapeDtypeStruct, KerasTensor)):
        return jax.ShapeDtypeStruct(
            tuple(1 if d is None else d for d in shape.shape), jnp.dtype(shape.dtype)
        )
    if hasattr(shape, "shape") and hasattr(shape, "dtype"):
        return jax.ShapeDtypeStruct(tuple(shape.shape), shape.dtype)
    shape = tuple(1 if d is None else int(d) for d in shape)
    from callax.core import config

    return jax.ShapeDtypeStruct(shape, jnp.dtype(dtype or config.floatx()))


def _batch_shape_from(kw: dict) -> tuple:
    if "batch_input_shape" in kw:
        return tuple(kw["batch_input_shape"])
    if "input_shape" in kw:
        return (kw.get("batch_size"),) + tuple(kw["input_shape"])
    if "input_dim" in kw:
        return (kw.get("batch_size"), kw["input_dim"])
    return (kw.get("batch_size"),)


class _name_scope:
    """Pushes ``layer`` on the call context so variables made outside a call
    (``build`` called by hand) still get ``layer/...`` paths."""

    def __init__(self, layer: Layer):
        self.layer = layer

    def __enter__(self):
        self.parent = _ctx.current_frame()
        self.frame = _ctx.Frame(
            self.layer, self.parent, None, 0, {} if self.parent is None else self.parent.counts
        )
        _ctx_local.frame = self.frame

    def __exit__(self, *exc):
        _ctx_local.frame = self.parent
