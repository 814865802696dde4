"""The call protocol: what ``layer(*args, **kwargs)`` does, step by step.

``Layer.__call__`` is :func:`layer_call`. Its steps, numbered as in the code:

1. **check**: ``super().__init__()`` ran; look up what the class's ``call``
   takes (its :class:`~callax.core.call_spec.CallSpec`, made once per class).
2. **explicit training**: ``training`` given by keyword or at its position in
   ``call``'s signature; anything but True/False/None must be a 0-d boolean.
3. **inputs**: array-likes (NumPy arrays, lists of numbers, scalars; torch,
   TensorFlow and pandas values) become JAX arrays, floats in the compute dtype
   (a NumPy array that needs no cast stays one when the layer may run its
   compiled kernel: the kernel's jitted call converts it, and every other path
   of steps 5-9 converts it first); the layer's ``input_spec`` is checked. A symbolic input (``callax.Input``)
   records a Functional node instead of computing, and the call ends there; a
   symbolic TensorFlow tensor (inside ``tf.data``'s ``map``) makes the call a
   ``tf.numpy_function`` node (``core/tf_graph.py``), and the call ends there.
4. **compiled path**: with ``callax.config.enable_compiled_calls(True)`` a built
   layer called at the top level runs as one compiled call, and ends there.
5. **call's arguments**: ``training`` not given explicitly is the enclosing
   call's, else ``call``'s default (so it reaches nested layers whether or not
   each ``call`` in between forwards it, and a default never leaks into
   siblings); the incoming mask goes to a ``call`` that takes ``mask``.
6. **frame**: a frame on the call context (the call path, the call's index,
   ``training``), popped in step 12 whatever happens.
7. **build**: on the first call ``build`` gets the input shape(s), once, under
   a lock (threads racing to a first call create the weights once).
8. **taps in**: taps (forward pre-hooks, captures, interventions) may replace
   the arguments; listeners (the recorder) see the call start.
9. **run**: the layer's compiled kernel (callax's own layers), else ``call``,
   under ``jax.checkpoint`` in a ``RematScope`` and in the compute dtype for a
   mixed policy. A layer without a ``build`` of its own is built by this run
   (``call`` runs once, not twice).
10. **outputs**: laid out as the distribution says; the activity regularizer's
    loss added; the output mask attached.
11. **taps out**: taps (forward hooks...) may replace the outputs; listeners
    see the call end. An exception raised in steps 7-11 leaves with the call
    path attached as a note (``Model.call → dense1 (Dense 'dense', call 2) →
    Dense.call``).
12. **finish**: pop the frame; the outermost call hands out the losses that
    ``add_loss`` collected during it.

Cost: a layer call pays these steps on every call (tens of microseconds per
model call matter in eager code), so the common path is written inline, one
comment per step, and each rare case (a positional ``training``, masks, a first
build, taps, losses) is a named function called only when it applies.

Example:
    >>> import callax
    >>> from callax.core.call import layer_call
    >>> callax.layers.Layer.__call__ is layer_call
    True
    >>> dense = callax.layers.Dense(2)
    >>> layer_call(dense, [[1.0, 2.0, 3.0]]).shape   # step 3 converts the list
    (1, 2)
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import call_context as _ctx
from callax.core import config as _config
from callax.core import masking as _masking
from callax.core import pitfalls
from callax.core import placement as _placement
from callax.core import remat as _remat
from callax.core.call_spec import all_numbers, call_spec, dtype_of, has_shape, has_tensor, shape_of
from callax.core.foreign_arrays import is_foreign_array, is_tf_graph_tensor, to_numpy
from callax.core.input_spec import assert_input_compatibility
from callax.core.keras_tensor import KerasTensor, any_symbolic
from callax.core.kernels import numpy_to_device
from callax.core.stateless_scope import _local as _scope_local
from callax.core.stateless_scope import get_stateless_scope
from callax.core.structure import ArrayImpl as _ArrayImpl
from callax.core.structure import structure_version
from callax.core.symbolic import symbolic_call
from callax.core.tf_graph import IN_TF_GRAPH, tf_graph_call
from callax.core.variable import Variable, autocast_scope

try:  # whether a call runs outside any trace (the jitted conversion is for eager calls)
    from jax._src.core import trace_ctx as _trace_ctx
except ImportError:  # pragma: no cover - a JAX without it: always `jnp.asarray`

    class _trace_ctx:  # noqa: N801
        @staticmethod
        def is_top_level() -> bool:
            return False


_ARRAY_TYPES = (np.ndarray, np.generic)
# Argument types that are never another library's array (the foreign check skips them).
_PLAIN = frozenset({type(None), bool, int, float, str, bytes})
_JAX_ARRAY = jax.Array
_observers = _ctx._observers  # listeners + taps (hooks, capture, intervention)
_kernels_off = _ctx._kernels_off  # listeners + taps that need every call op by op
_ctx_local = _ctx._local
# Held while a layer builds: when several threads make a layer's first call at
# once, one builds and the others then find it built (weights created once).
# Re-entrant: a build may build sublayers. Only unbuilt layers ever take it.
_build_lock = threading.RLock()


# ----------------------------------------------------------------- the protocol
def layer_call(layer: Any, *args: Any, **kwargs: Any) -> Any:
    """``layer(*args, **kwargs)``: runs the call protocol (the module docstring
    lists its steps; the numbers below are theirs)."""
    # 1. check: initialised? what does this class's `call` take?
    d = layer.__dict__
    if "_callax_init" not in d:
        raise RuntimeError(pitfalls.not_initialized(type(layer)))
    spec = type(layer).__dict__.get("_callax_spec") or call_spec(type(layer))

    # 2. explicit training: keyword or positional
    training = kwargs.pop("training", None)
    position = spec.training_position
    if position is not None and len(args) > position:
        args, training = positional_training(args, position, training)
    if training is not None and training is not True and training is not False:
        training = checked_training(layer, training)  # rare: only non-bool values

    # 3. inputs: converted (a layer with a kernel takes NumPy arrays that need no
    # cast as they are: see `convert_args`); checked; symbolic ones build a graph
    args, symbolic, raw = convert_args(layer, args, spec.kernel is True)
    if kwargs:
        kwargs, symbolic_kwargs = convert_kwargs(layer, kwargs)
        symbolic = symbolic or symbolic_kwargs
    if d["input_spec"] is not None and args:
        assert_input_compatibility(
            d["input_spec"], args[0], f"{type(layer).__name__} '{layer.name}'"
        )
    if symbolic:
        if raw:
            args = numpy_to_device(args)
        if symbolic is IN_TF_GRAPH:  # inside tf.data `map` / tf.function
            return tf_graph_call(layer, args, kwargs, training)
        return symbolic_call(layer, args, kwargs, training)

    # 4. compiled path: a built top-level call, compiled calls enabled
    parent = _ctx_local.__dict__.get("frame")
    if (
        parent is None
        and _config._COMPILED_CALLS
        and d["built"]
        and _scope_local.__dict__.get("scope") is None
    ):
        return layer._compiled_call()(*args, training=training, **kwargs)

    # 5. call's arguments: inherited training, the incoming mask
    if training is None:
        if parent is not None:
            training = parent.training
        if training is None:
            training = spec.training_default
    masking = _masking.in_use[0] or spec.own_compute_mask
    if masking and raw:  # masks are computed from the inputs as JAX arrays
        args, raw = numpy_to_device(args), False
    previous_mask = incoming_mask(spec, args, kwargs) if masking else None
    if "mask" in kwargs and not spec.accepts_mask:
        kwargs.pop("mask")
    if spec.accepts_training and training is not None:
        kwargs["training"] = training

    # 6. frame: pushed here, popped in step 12
    frame = _ctx.push_frame(layer, training)
    try:
        # 7. build: on the first call
        built_here = False
        if not d["built"] and spec.own_build:
            built_here = build_on_first_call(layer, args, kwargs)
        # 8. taps in: may replace the arguments; listeners
        if _observers:
            if raw:  # hooks and the recorder see the JAX arrays `call` would get
                args, raw = numpy_to_device(args), False
            args, kwargs = _ctx.call_start(frame, args, kwargs)
        # 9. run: compiled kernel (NumPy arguments convert inside its jitted call),
        # else `call` (remat, autocast) on JAX arrays
        remat_mode = d.get("_remat_mode")
        kernel = spec.kernel
        kernel = (
            kernel
            and remat_mode is None
            and (kernel is True or training)
            and d["built"]
            and not _kernels_off
            and _scope_local.__dict__.get("scope") is None
            and (d.get("_kernel") or layer._make_kernel())
        )
        if raw and not kernel:
            args = numpy_to_device(args)
        call = layer.call if remat_mode is None else _remat.wrap(layer, remat_mode, args, kwargs)
        policy = d["dtype_policy"]
        if policy.compute_dtype != policy.variable_dtype:
            with autocast_scope(policy.compute_dtype):
                outputs = kernel.run(args, kwargs) if kernel else call(*args, **kwargs)
        else:
            outputs = kernel.run(args, kwargs) if kernel else call(*args, **kwargs)
        if not d["built"]:
            built_here = built_by_call(layer, args)
        # 10. outputs: distribution layout, activity loss, output mask
        if _placement.current_distribution() is not None:  # ModelParallel "<path>/output"
            outputs = _placement.layout_outputs(outputs)
        if d["activity_regularizer"] is not None:
            add_activity_loss(layer, outputs)
        if masking and (d["supports_masking"] or spec.own_compute_mask):
            attach_output_mask(layer, args, previous_mask, outputs)
        # 11. taps out: may replace the outputs; listeners
        if _observers:
            outputs = _ctx.call_end(frame, args, kwargs, outputs, built_here)
    except Exception as error:
        call_failed(frame, error)
        raise
    finally:
        # 12. finish: pop the frame; the outermost call hands out its losses
        _ctx_local.frame = parent
    if parent is None and (frame.record is not None or _loss_holders):
        finish_top_level(layer, frame)
    return outputs


# ------------------------------------------------------- 2. explicit training
def positional_training(args: tuple, position: int, training: Any) -> tuple[tuple, Any]:
    """Takes ``training`` out of the positional arguments (``call(x, training)``
    called as ``layer(x, True)``); the keyword wins when both are given."""
    explicit = args[position]
    args = args[:position] + args[position + 1 :]
    return args, explicit if training is None else training


def checked_training(layer: Any, training: Any) -> Any:
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


# ------------------------------------------------------------------ 3. inputs
def convert_args(layer: Any, args: tuple, keep_numpy: bool = False) -> tuple[tuple, bool, bool]:
    """The positional arguments with array-likes converted (floats to the
    compute dtype when the layer autocasts), whether any is symbolic, and
    whether NumPy arrays were left as they are.

    With ``keep_numpy`` (the layer may run a compiled kernel) a NumPy array that
    needs no cast stays a NumPy array: the kernel's ``jax.jit`` call converts it
    in C++, which costs less than ``jnp.asarray`` and does not make the kernel
    wait on a separate transfer (issue 13 item 1; benchmarks/README.md, session
    5). Every other path converts it first
    (``core/kernels.py`` ``numpy_to_device``)."""
    out = list(args)
    symbolic = raw = False
    if layer.autocast:
        policy = layer.dtype_policy
        dtype, np_dtype = policy.compute_dtype, policy.compute_np
    else:
        dtype = np_dtype = None
    for i, a in enumerate(args):
        t = type(a)
        if t is _ArrayImpl or isinstance(a, _JAX_ARRAY):
            # dtype objects compare fast; strings do not (this runs on every call)
            a_dtype = a.dtype
            if np_dtype is not None and a_dtype != np_dtype and a_dtype.kind == "f":
                out[i] = a.astype(np_dtype)
        elif t is np.ndarray or isinstance(a, _ARRAY_TYPES):
            if keep_numpy and t is np.ndarray and needs_no_cast(a.dtype, np_dtype):
                raw = True
            else:
                out[i] = _from_numpy(a, np_dtype)
        elif t is KerasTensor:
            symbolic = True
        elif t is list or t is tuple:
            for b in a:  # the common list: JAX arrays needing no cast (Concatenate)
                if type(b) is not _ArrayImpl or (
                    np_dtype is not None and b.dtype != np_dtype and b.dtype.kind == "f"
                ):
                    break
            else:
                if a:
                    out[i] = t(a)  # a copy, as the converting path makes
                    continue
            if all_numbers(a):
                out[i] = jnp.asarray(a, dtype=dtype or None)
            else:
                converted, sym, kept = convert_args(layer, tuple(a), keep_numpy)
                symbolic = symbolic or sym
                raw = raw or kept
                out[i] = t(converted)
        elif t is dict:
            converted, sym = convert_kwargs(layer, a)
            symbolic = symbolic or sym
            out[i] = converted
        elif t is float or t is int:
            out[i] = jnp.asarray(a, dtype=dtype if t is float else None)
        elif isinstance(a, Variable):
            out[i] = a.value
        elif t not in _PLAIN and is_foreign_array(a):
            out[i], in_graph = from_foreign(a, np_dtype)
            symbolic = IN_TF_GRAPH if in_graph else symbolic
    return tuple(out), symbolic, raw


def convert_kwargs(layer: Any, kwargs: dict) -> tuple[dict, bool]:
    """The keyword arguments with NumPy arrays converted, and whether any is
    symbolic (nested lists/tuples/dicts are looked into, not converted)."""
    symbolic = False
    out = dict(kwargs)
    dtype = layer.dtype_policy.compute_np if layer.autocast else None
    for key, a in kwargs.items():
        t = type(a)
        if t is np.ndarray:
            out[key] = _from_numpy(a, dtype)
        elif t is KerasTensor:
            symbolic = True
        elif t is list or t is tuple or t is dict:
            if any_symbolic_value(a.values() if t is dict else a):
                symbolic = True
        elif t not in _PLAIN and is_foreign_array(a):
            out[key], in_graph = from_foreign(a, dtype)
            symbolic = IN_TF_GRAPH if in_graph else symbolic
    return out, symbolic


def from_foreign(a: Any, dtype: Any) -> tuple[Any, bool]:
    """A torch / TensorFlow / pandas value converted where it enters (as a NumPy
    array would be), or, for a symbolic TensorFlow tensor (inside ``tf.data``'s
    ``map``), the tensor itself and ``True``: the call becomes a graph node."""
    if is_tf_graph_tensor(a):
        return a, True
    return _from_numpy(np.asarray(to_numpy(a)), dtype), False


def any_symbolic_value(values: Any) -> bool:
    """Whether any of ``values`` is (or holds) a symbolic tensor."""
    return any(any_symbolic(v) for v in values)


# NumPy dtypes JAX keeps as they are (64-bit ones narrow unless x64 is on, and
# bfloat16 & co. take the `jnp.asarray` path): an array of one of these converts
# to the same dtype whichever way it goes to the device.
_KEPT_DTYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float16, np.int32, np.int16, np.int8, np.uint32,
                          np.uint16, np.uint8, np.bool_, np.complex64)
)  # fmt: skip


def needs_no_cast(a_dtype: np.dtype, compute: Any) -> bool:
    """Whether a NumPy array of ``a_dtype`` converts unchanged: a dtype JAX keeps,
    and for floats the layer's compute dtype (or no autocast)."""
    if a_dtype not in _KEPT_DTYPES:
        return False
    return a_dtype.kind != "f" or compute is None or a_dtype == compute


# `jnp.asarray` of a NumPy array costs ~20 us of Python (32x16 float32) and the
# next compiled call waits on the fresh array; a jitted identity converts it in
# C++ (~6 us) into an array the next kernel takes at once (benchmarks/README.md,
# session 5). Same values, dtype and placement: the copy is made by XLA (the
# result never aliases the NumPy array, so mutating it later changes nothing).
_to_device = jax.jit(lambda a: a)


def _from_numpy(a: np.ndarray, dtype: Any) -> jax.Array:
    """Floats take the compute dtype; other dtypes stay (JAX narrows 64-bit ints
    to 32 bits unless x64 is on). One conversion per array: ``dtype=`` is passed
    only when a cast is needed (it doubles the conversion's Python cost, ~18 -> ~33
    us for a 32x16 float32 array, even when the dtype already matches); an array
    that needs no cast goes through ``_to_device`` outside a trace."""
    a_dtype = a.dtype
    kind = a_dtype.kind
    if kind == "f":
        if dtype is not None and a_dtype != dtype:
            return jnp.asarray(a, dtype=dtype)
    elif kind in "USO":  # strings stay on the host for the text preprocessing layers
        return a
    if a_dtype in _KEPT_DTYPES and type(a) is np.ndarray and _trace_ctx.is_top_level():
        return _to_device(a)
    return jnp.asarray(a)


# ------------------------------------------------------------ 5. the mask in
def incoming_mask(spec: Any, args: tuple, kwargs: dict) -> Any:
    """The mask the call receives (given as ``mask=``, else carried by the first
    input), put into ``kwargs`` when ``call`` takes a ``mask``."""
    previous_mask = kwargs.get("mask")
    if previous_mask is None and args:
        previous_mask = _masking.mask_structure(args[0])
    if spec.has_mask_arg and kwargs.get("mask") is None and previous_mask is not None:
        kwargs["mask"] = previous_mask
    return previous_mask


# ------------------------------------------------------------------ 7. build
def build_on_first_call(layer: Any, args: tuple, kwargs: dict) -> bool:
    """Builds ``layer`` from its first call's inputs (once, whichever thread
    gets there first); returns whether this call built it."""
    d = layer.__dict__
    with _build_lock:
        if d["built"]:
            return False
        run_build(layer, args, kwargs)
        d["built"] = True
        return True


def run_build(layer: Any, args: tuple, kwargs: dict) -> None:
    """Calls ``layer.build`` with the shapes of the call's inputs: one shape per
    ``build`` parameter when it takes several (by ``<name>_shape`` when the names
    match ``call``'s arguments, else by position), else the first input's."""
    spec = call_spec(type(layer))
    if spec.kernel and args and not has_shape(args[0]):
        # callax's numeric layers take arrays: say what came instead of failing
        # in `build` on a shape of None (checked once, at the first call).
        got = args[0]
        shown = "None" if got is None else f"{type(got).__name__} {got!r}"[:120]
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}' expects a tensor (an array, or a list "
            f"of numbers) as its input; received {shown}."
        )
    d = layer.__dict__
    if len(spec.build_params) >= 2:
        # One shape per argument: by name (`build(self, query_shape, value_shape)`
        # for `call(self, query, value)`) or else by position.
        bound = dict(zip(spec.positional, args))
        bound.update({k: v for k, v in kwargs.items() if has_tensor(v)})
        by_name = [
            bound.get(p[: -len("_shape")]) for p in spec.build_params if p.endswith("_shape")
        ]
        complete = len(by_name) == len(spec.build_params)
        while complete and len(by_name) > 1 and by_name[-1] is None:
            by_name.pop()  # an optional trailing shape (`key_shape=None`) not given
        if complete and all(b is not None for b in by_name):
            values = by_name
        else:
            values = [a for a in args if has_tensor(a)][: len(spec.build_params)]
        d["_build_shapes"] = [shape_of(v) for v in values]
        layer.build(*d["_build_shapes"])
        return
    first = args[0] if args else next((v for v in kwargs.values() if has_tensor(v)), None)
    d["_build_shapes"] = shape_of(first)
    layer.build(d["_build_shapes"])


# -------------------------------------------------------------------- 9. run
def built_by_call(layer: Any, args: tuple) -> bool:
    """A layer without a ``build`` of its own is built by its first run: records
    the input shapes and dtypes it was built for (summary, saving). Returns True."""
    d = layer.__dict__
    d["built"] = True
    if d["_build_shapes"] is None:
        d["_build_shapes"] = shape_of(args[0] if len(args) == 1 else list(args))
        d["_build_dtypes"] = dtype_of(args[0] if len(args) == 1 else list(args))
    return True


# ---------------------------------------------------------------- 10. outputs
def add_activity_loss(layer: Any, outputs: Any) -> None:
    """The activity regularizer's penalty on each output, per sample, as a loss."""
    leaves = [o for o in jax.tree_util.tree_leaves(outputs) if hasattr(o, "shape")]
    for o in leaves:
        batch = o.shape[0] if o.ndim else 1
        layer.add_loss(layer.activity_regularizer(o) / batch)


def attach_output_mask(layer: Any, args: tuple, previous_mask: Any, outputs: Any) -> None:
    """Attaches ``layer.compute_mask``'s result (when not None) to the outputs."""
    out_mask = layer.compute_mask(args[0] if args else None, previous_mask)
    if out_mask is not None:
        _masking.attach_structure(outputs, out_mask)


# ------------------------------------------------------------- 11. an error
def call_failed(frame: _ctx.Frame, error: Exception) -> None:
    """Tells the listeners and attaches the call path to ``error`` (a note)."""
    if _observers:
        _ctx.call_error(frame, error)
    pitfalls.attach_call_path(error, frame)


# ------------------------------------------------------------ 12. the losses
# Layers whose `_last_losses` may be non-empty (id -> weak reference): an
# outermost call clears those in its tree. Empty unless some layer adds losses,
# so the protocol pays one truthiness check per call.
_loss_holders: dict[int, weakref.ref] = {}
# Layer -> (structure_version, ids of the layers in its tree), for `clear_losses`.
_tree_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hold_losses(layer: Any) -> None:
    """Notes that ``layer._last_losses`` holds losses (cleared by the next
    outermost call of a tree containing it)."""
    key = id(layer)
    if key not in _loss_holders:
        _loss_holders[key] = weakref.ref(layer, lambda _, key=key: _loss_holders.pop(key, None))


def clear_losses(layer: Any) -> None:
    """Drops the last call's losses of ``layer`` and its sublayers (Keras resets
    them at each outermost call). Only layers known to hold some are visited; the
    tree's layer ids are cached until some structure changes."""
    cached = _tree_ids.get(layer)
    if cached is None or cached[0] != structure_version[0]:
        cached = (structure_version[0], {id(sub) for sub in layer._flatten_layers()})
        _tree_ids[layer] = cached
    ids = cached[1]
    for key in [k for k in _loss_holders if k in ids]:
        holder = _loss_holders.pop(key)()
        if holder is not None:
            holder.__dict__["_last_losses"] = []


def finish_top_level(layer: Any, frame: _ctx.Frame) -> None:
    """The outermost call ends: the losses its layers added (kept on its frame
    with their owners) become those layers' ``losses``; under a stateless scope
    they go to the scope instead, and the layers keep their last eager ones."""
    pairs = frame.record.get("losses", ()) if isinstance(frame.record, dict) else ()
    scope = get_stateless_scope()
    if scope is not None:
        for owner, loss in pairs:
            scope.losses.append(loss)
            scope.loss_owners[id(loss)] = owner
    else:
        if _loss_holders:
            clear_losses(layer)
        for owner, loss in pairs:
            owner.__dict__["_last_losses"].append(loss)
            hold_losses(owner)
