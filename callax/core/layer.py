"""``Layer``: the base class, and the call protocol every layer and model runs.

Write a layer by creating sublayers (or nothing) in ``__init__``, weights in
``build(input_shape)`` (optional), and the computation in ``call``. Then
``layer(x)`` runs the call protocol, ``Layer.__call__``, written out step by
step in ``core/call.py`` (check, explicit ``training``, inputs, compiled path,
call's arguments, frame, build, taps in, run, outputs, taps out, finish). In
short: array-likes become JAX arrays, ``training`` reaches nested layers, the
first call builds, and an exception raised inside ``call`` leaves with the call
path attached as a note (``MultiInputModel.call → dense1 (Dense 'dense', call 2)
→ Dense.call``).

This module holds the rest of ``Layer``: tracking (sublayers and variables found
by walking ``__dict__`` in assignment order), structure stamps, weights
(``add_weight``), losses, abstract builds, ``stateless_call`` and configs.

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
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import call_context as _ctx
from callax.core import dtype_policy as _policy
from callax.core import own_state as _own_state
from callax.core import pitfalls
from callax.core import placement as _placement
from callax.core import remat as _remat
from callax.core.auto_config import auto_config
from callax.core.call import hold_losses, layer_call, run_build
from callax.core.call_spec import CallSpec, call_spec, protocol_default
from callax.core.compiled_call import CompiledCall
from callax.core.dtypes import floatx
from callax.core.hooks import register as _register_hook
from callax.core.keras_tensor import KerasTensor
from callax.core.kernels import LayerKernel
from callax.core.names import layer_name_scope, to_snake_case, unique_name
from callax.core.pure_call import abstract_scope
from callax.core.registry import family as _family
from callax.core.seed_generator import SeedGenerator
from callax.core.stateless_scope import StatelessScope, get_stateless_scope
from callax.core.structure import ArrayImpl as _ArrayImpl  # noqa: F401 — re-exported
from callax.core.structure import restamp as _restamp
from callax.core.structure import structure_stamps, structure_version  # noqa: F401 — re-exported
from callax.core.variable import Variable

_ctx_local = _ctx._local

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
        # As Keras: a build runs in the layer's name scope, so the sublayers it
        # creates and builds name their weights "<layer>/<sublayer>/kernel" however
        # the build was reached (a first call, a symbolic call, by hand, on load).
        with layer_name_scope(self):
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

    ``layer(*args, **kwargs)`` runs the call protocol, :func:`callax.core.call.layer_call`
    (check, explicit ``training``, inputs, compiled path, call's arguments, frame,
    build, taps in, run, outputs, taps out, finish), which calls ``call``.

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

    # The call protocol (core/call.py): a plain function as the method, so a
    # layer call costs no extra Python frame.
    __call__ = layer_call
    # Keras 3's per-layer saving hooks (core/own_state.py); override them to save
    # state that is not a plain variable.
    save_own_variables = _own_state.save_own_variables
    load_own_variables = _own_state.load_own_variables
    get_build_config = _own_state.get_build_config
    build_from_config = _own_state.build_from_config
    # TensorFlow's AutoGraph (tf.data `map`, tf.function) calls an object that has
    # this attribute as it is, instead of rewriting its code (core/tf_graph.py).
    autograph_info__ = frozenset()

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
        d["activity_regularizer"] = _family("regularizer").get(activity_regularizer)
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
        if getattr(type(self), "_reserves_layers", False):  # a Model (duck-typed: above core)
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
        """Every weight's value as a numpy array, in ``model.weights`` order. In a
        job of several processes, weights sharded over devices of several processes
        are gathered (a collective: every process must call it; each gets the full
        values)."""
        return _placement.to_host([v.value for v in self.weights])

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
        # The families are found through core's registry (they sit above core).
        regularizer = _family("regularizer").get(regularizer)
        constraint = _family("constraint").get(constraint)
        shape = () if shape is None else shape
        dtype = jnp.dtype(dtype or self.dtype_policy.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
        init = _family("initializer").get(initializer)
        with layer_name_scope(self):  # its path: "<enclosing layers>/<self>/<name>"
            variable = Variable(
                init, shape=shape, dtype=dtype, trainable=trainable and self._trainable,
                name=name, regularizer=regularizer,
                constraint=constraint, aggregation=aggregation,
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
            hold_losses(self)
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

    # ------------------------------------------------------------ building
    @protocol_default
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
            if len(call_spec(type(self)).positional) == 1:
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
        with abstract_scope():
            return jax.eval_shape(lambda a, k: self(*a, **k), args, kwargs)

    # Builds from a call's inputs (core/call.py); symbolic calls use it too.
    _run_build = run_build

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(pitfalls.missing_call(type(self)))

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
            config["activity_regularizer"] = _family("regularizer").serialize(
                self.activity_regularizer
            )
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

    @protocol_default
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


def _spec(shape: Any, dtype: Any = None) -> Any:
    if isinstance(shape, (jax.ShapeDtypeStruct, KerasTensor)):
        return jax.ShapeDtypeStruct(
            tuple(1 if d is None else d for d in shape.shape), jnp.dtype(shape.dtype)
        )
    if hasattr(shape, "shape") and hasattr(shape, "dtype"):
        return jax.ShapeDtypeStruct(tuple(shape.shape), shape.dtype)
    shape = tuple(1 if d is None else int(d) for d in shape)
    return jax.ShapeDtypeStruct(shape, jnp.dtype(dtype or floatx()))


def _batch_shape_from(kw: dict) -> tuple:
    if "batch_input_shape" in kw:
        return tuple(kw["batch_input_shape"])
    if "input_shape" in kw:
        return (kw.get("batch_size"),) + tuple(kw["input_shape"])
    if "input_dim" in kw:
        return (kw.get("batch_size"), kw["input_dim"])
    return (kw.get("batch_size"),)
