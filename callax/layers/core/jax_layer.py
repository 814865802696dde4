"""JaxLayer and FlaxLayer: Keras 3's wrappers of a pure JAX model function and of
a Flax (linen) module. Their parameters become callax variables (trainable), their
state non-trainable variables, so they train with ``fit``, save and load."""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator, next_global_key
from callax.core.serialization import deserialize_keras_object, serialize_keras_object

_CALL_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_ARGS = ("rng", "inputs", "training")


def _arguments(layer: Layer, fn: Any, fn_name: str, allowed: tuple) -> list[str]:
    """``fn``'s parameter names, checked against what the wrapper can pass."""
    if not callable(fn):
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}': {fn_name} must be callable; received "
            f"{fn_name}={fn!r}."
        )
    names = list(inspect.signature(fn).parameters)
    if "inputs" not in names:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': {fn_name} must take an `inputs` "
            f"argument; received a function with arguments {names}."
        )
    for name in names:
        if name not in allowed:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': {fn_name} takes unsupported argument "
                f"`{name}`; supported are {list(allowed)}. Received arguments {names}."
            )
    return names


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value
    )


def _dummy_inputs(input_shape: Any) -> Any:
    """Ones of ``input_shape`` (a shape, or a list/dict of shapes), unknown dims as 1."""
    if _is_shape(input_shape):
        return jnp.ones([1 if d is None else int(d) for d in input_shape])
    if isinstance(input_shape, dict):
        return {k: _dummy_inputs(v) for k, v in input_shape.items()}
    return type(input_shape)(_dummy_inputs(s) for s in input_shape)


class JaxLayer(Layer):
    """Wraps a pure JAX function as a layer.

    ``call_fn`` takes some of ``params, state, rng, inputs, training`` (by name, in
    any order; ``inputs`` is required) and returns the outputs, or
    ``(outputs, new_state)`` when it takes ``state``. ``init_fn`` takes some of
    ``rng, inputs, training`` and returns ``params`` (or ``(params, state)`` when
    ``call_fn`` takes ``state``); it runs at build time on ones of the input
    shape. Or pass ``params`` / ``state`` directly.

    Every array leaf of ``params`` becomes a trainable variable, of ``state`` a
    non-trainable one (``layer.params`` / ``layer.state`` keep the structure);
    other leaves stay as they are. ``rng`` is a fresh key from ``seed`` when
    ``training`` is true and ``None`` otherwise (override ``_get_call_rng``).

    Args:
        call_fn: the model function.
        init_fn: builds ``params`` (and ``state``) from the first inputs.
        params, state: initial values (pytrees of arrays), instead of ``init_fn``.
        seed: seed of the ``rng`` passed to ``call_fn``.

    Example:
        >>> import jax, jax.numpy as jnp, callax
        >>> def init_fn(rng, inputs):
        ...     return {"w": jax.random.normal(rng, (inputs.shape[-1], 2))}
        >>> def call_fn(params, inputs):
        ...     return inputs @ params["w"]
        >>> layer = callax.layers.JaxLayer(call_fn, init_fn)
        >>> layer(jnp.ones((4, 3))).shape
        (4, 2)
        >>> [tuple(w.shape) for w in layer.trainable_weights]
        [(3, 2)]
    """

    def __init__(
        self,
        call_fn: Any,
        init_fn: Any = None,
        params: Any = None,
        state: Any = None,
        seed: int | None = None,
        native_serialization_platforms: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.call_fn = call_fn
        self.init_fn = init_fn
        self.call_fn_arguments = _arguments(self, call_fn, "call_fn", _CALL_ARGS)
        self.call_fn_has_params = "params" in self.call_fn_arguments
        self.call_fn_has_state = "state" in self.call_fn_arguments
        self.init_fn_arguments = (
            None if init_fn is None else _arguments(self, init_fn, "init_fn", _INIT_ARGS)
        )
        if (
            init_fn is None and params is None and state is None
            and (self.call_fn_has_params or self.call_fn_has_state)
        ):  # fmt: skip
            raise ValueError(
                f"{type(self).__name__} '{self.name}': init_fn, params and state cannot all be "
                "None when call_fn takes `params` or `state`; received none of them."
            )
        self.native_serialization_platforms = native_serialization_platforms
        self.seed = seed
        self.seed_generator = SeedGenerator(seed) if "rng" in self.call_fn_arguments else None
        self.params = self._create_variables(params, trainable=True)
        self.state = self._create_variables(state, trainable=False)
        if params is not None or state is not None:
            self.built = True

    # ------------------------------------------------------------- variables
    def _create_variables(self, values: Any, trainable: bool) -> Any:
        def create(value):
            if isinstance(value, (jax.Array, np.ndarray, np.generic, bool, int, float)):
                array = jnp.asarray(value)
                dtype = None if jnp.issubdtype(array.dtype, jnp.floating) else array.dtype
                return self.add_weight(
                    shape=array.shape, dtype=dtype, trainable=trainable,
                    initializer=lambda shape, dtype=None, a=array: jnp.asarray(a, dtype),
                )  # fmt: skip
            return value  # configuration leaves stay as they are

        if values is None:
            return None
        return jax.tree_util.tree_map(create, values)

    def _values(self, structure: Any) -> Any:
        if structure is None:
            return None
        return jax.tree_util.tree_map(lambda v: v.value if hasattr(v, "assign") else v, structure)

    # ---------------------------------------------------------------- rngs
    def _get_init_seed(self) -> jax.Array:
        return next_global_key()

    def _get_init_rng(self) -> Any:
        """The ``rng`` passed to ``init_fn`` (override for a structure of keys)."""
        return self._get_init_seed()

    def _get_call_seed(self) -> jax.Array:
        return self.seed_generator.next()

    def _get_call_rng(self, training: Any) -> Any:
        """The ``rng`` passed to ``call_fn``: a key in training, else ``None``."""
        return self._get_call_seed() if training else None

    # ---------------------------------------------------------------- build
    def build(self, input_shape: Any) -> None:
        if self.params is not None or self.state is not None:
            return
        if not (self.call_fn_has_params or self.call_fn_has_state):
            return
        inputs = _dummy_inputs(input_shape)
        args = []
        for name in self.init_fn_arguments:
            if name == "rng":
                args.append(self._get_init_rng())
            elif name == "inputs":
                args.append(inputs)
            else:
                args.append(True)
        result = self.init_fn(*args)
        if self.call_fn_has_state:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': call_fn takes `state`, so init_fn "
                    f"must return (params, state); received a {type(result).__name__}."
                )
            params, state = result
        else:
            params, state = result, None
        self.params = self._create_variables(params, trainable=True)
        self.state = self._create_variables(state, trainable=False)

    # ---------------------------------------------------------------- call
    def call(self, inputs: Any, training: Any = False) -> Any:
        args = []
        for name in self.call_fn_arguments:
            if name == "params":
                args.append(self._values(self.params))
            elif name == "state":
                args.append(self._values(self.state))
            elif name == "rng":
                args.append(self._get_call_rng(training))
            elif name == "inputs":
                args.append(inputs)
            else:
                args.append(bool(training) if training is not None else False)
        if not self.call_fn_has_state:
            return self.call_fn(*args)
        outputs, new_state = self.call_fn(*args)
        leaves, treedef = jax.tree_util.tree_flatten(self.state)
        new_leaves, new_treedef = jax.tree_util.tree_flatten(new_state)
        if treedef != new_treedef:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the state returned by call_fn must have "
                f"the structure of the state at initialization ({treedef}); received "
                f"{new_treedef}."
            )
        for variable, value in zip(leaves, new_leaves):
            if hasattr(variable, "assign"):
                variable.assign(value)
        return outputs

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "call_fn": serialize_keras_object(self.call_fn),
            "init_fn": serialize_keras_object(self.init_fn),
            "native_serialization_platforms": self.native_serialization_platforms,
        }

    @classmethod
    def from_config(cls, config: dict) -> JaxLayer:
        config = dict(config)
        config["call_fn"] = deserialize_keras_object(config["call_fn"])
        config["init_fn"] = deserialize_keras_object(config["init_fn"])
        return cls(**config)


class FlaxLayer(JaxLayer):
    """Wraps a Flax linen module (``flax.linen.Module``) as a layer.

    The ``"params"`` collection becomes trainable variables, every other
    collection (``batch_stats``...) non-trainable ones, updated by the module's
    ``apply(..., mutable=...)``. ``method`` picks the module method (default
    ``__call__``); a ``training`` argument of it receives the layer's. The module
    gets ``rngs={"dropout": key}`` in training and ``{"params", "dropout"}`` at init.

    Args:
        module: a ``flax.linen.Module`` instance.
        method: the method to call (default ``__call__``).
        variables: existing variables (``module.init(...)``'s output), else
            initialized at build time.

    Example:
        >>> import flax.linen as nn, jax.numpy as jnp, callax
        >>> layer = callax.layers.FlaxLayer(nn.Dense(2))
        >>> layer(jnp.ones((4, 3))).shape
        (4, 2)
        >>> sorted(tuple(w.shape) for w in layer.trainable_weights)
        [(2,), (3, 2)]
    """

    def __init__(self, module: Any, method: Any = None, variables: Any = None, **kwargs: Any):
        from flax.linen import DenyList

        self.module = module
        self.method = method
        mutable = DenyList(["params"])
        target = method if callable(method) else getattr(module, method or "__call__")
        takes_training = "training" in inspect.signature(target).parameters

        def call_fn(params, state, rng, inputs, training):
            extra = {"training": training} if takes_training else {}
            return self.module.apply(
                self._params_and_state_to_variables(params, state), inputs, rngs=rng,
                method=self.method, mutable=mutable, **extra,
            )  # fmt: skip

        def init_fn(rng, inputs, training):
            extra = {"training": training} if takes_training else {}
            variables = self.module.init(rng, inputs, method=self.method, **extra)
            return self._variables_to_params_and_state(variables)

        params, state = self._variables_to_params_and_state(variables)
        kwargs.pop("call_fn", None)
        kwargs.pop("init_fn", None)
        super().__init__(call_fn=call_fn, init_fn=init_fn, params=params, state=state, **kwargs)

    @staticmethod
    def _params_and_state_to_variables(params: Any, state: Any) -> dict:
        return {**(params or {}), **(state or {})}

    @staticmethod
    def _variables_to_params_and_state(variables: Any) -> tuple[Any, Any]:
        if variables is None:
            return None, None
        variables = dict(variables)
        params = {"params": variables["params"]} if "params" in variables else {}
        state = {k: v for k, v in variables.items() if k != "params"}
        return params, state

    def _get_init_rng(self) -> dict:
        return {"params": self._get_init_seed(), "dropout": self._get_init_seed()}

    def _get_call_rng(self, training: Any) -> dict:
        return {"dropout": self._get_call_seed()} if training else {}

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        method = self.method
        if getattr(method, "__self__", None) is self.module:
            method = method.__name__  # a bound method of the module: by name
        return {
            **config,
            "module": serialize_keras_object(self.module),
            "method": serialize_keras_object(method),
        }

    @classmethod
    def from_config(cls, config: dict) -> FlaxLayer:
        config = dict(config)
        module = deserialize_keras_object(config["module"])
        method = config["method"]
        method = getattr(module, method) if isinstance(method, str) else (
            deserialize_keras_object(method)
        )  # fmt: skip
        config.update(module=module, method=method)
        return cls(**config)
