"""``Sequential``: a stack of layers, each feeding the next.

An optional first ``callax.Input(shape)`` (or ``InputLayer``, or ``input_shape=``
on the first layer) builds the model at once; otherwise it builds on the first
call (or ``model.build(input_shape)``). Calling it runs the layers in order, each
through the call protocol (``training`` reaches every layer through the call
context), with no graph walk: a one-layer Sequential costs about what its layer
does.

Example:
    >>> import callax
    >>> model = callax.Sequential([
    ...     callax.Input(shape=(784,)),
    ...     callax.layers.Dense(64, activation="relu", name="hidden"),
    ...     callax.layers.Dense(10, name="logits"),
    ... ])
    >>> [layer.name for layer in model.layers]
    ['hidden', 'logits']
    >>> model.output_shape
    (None, 10)
    >>> model(callax.ops.ones((2, 784))).shape
    (2, 10)
"""

from __future__ import annotations

from typing import Any

import jax

from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.core.names import layer_name_scope
from callax.layers.core.input_layer import InputLayer
from callax.models import graph as _graph
from callax.models.model import Model
from callax.models.serialization import deserialize_layer, sequential_get_config
from callax.training.trainer import Trainer


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers (its first entry may be ``callax.Input(...)``).
        trainable: whether the model's weights are trained.
        name: the model's name.

    Methods ``add(layer)`` and ``pop()`` change the stack; ``layers`` lists it
    (without the ``InputLayer``, as in Keras).
    """

    def __init__(
        self,
        layers: list | None = None,
        trainable: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ):
        Layer.__init__(self, name=name, **kwargs)
        Trainer.__init__(self)
        self._layers = []
        d = self.__dict__
        d["_build_input_shape"] = None
        d["_symbolic_output"] = None
        d["_call_layers"] = ()
        d["_mask_layers"] = False
        if layers is not None and not hasattr(layers, "__iter__") or isinstance(layers, str):
            raise TypeError(
                f"Sequential '{self.name}': `layers` must be a list of layers; received "
                f"{type(layers).__name__}: {layers!r:.80}."
            )
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()
        if not trainable:
            self.trainable = False

    # ------------------------------------------------------------ the stack
    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Appends a layer (or, first, an ``Input`` / ``InputLayer``)."""
        if isinstance(layer, KerasTensor):
            node = layer.node
            if node is None or not isinstance(node.layer, InputLayer):
                raise ValueError(
                    f"Sequential '{self.name}'.add: a symbolic tensor can only be added "
                    "as the model's input (from callax.Input); received a tensor produced by "
                    f"'{node.layer.name if node else 'nothing'}'."
                )
            layer = node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential '{self.name}'.add expects a layer instance (e.g. "
                f"callax.layers.Dense(10)); received {type(layer).__name__}: {layer!r}."
            )
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError(
                f"Sequential '{self.name}'.add: an Input/InputLayer can only be the first "
                f"entry; the model already has layers {[x.name for x in self._layers]}."
            )
        names = [x.name for x in self._layers]
        if layer.name in names:
            raise ValueError(
                f"Sequential '{self.name}'.add: every layer needs a unique name; the model "
                f"already has a layer named '{layer.name}'."
            )
        previous = self._symbolic_output
        self._layers.append(layer)
        self._layers_changed()
        if rebuild and previous is not None and not isinstance(layer, InputLayer):
            self._extend(previous, layer)  # built already: only the new layer runs
            return
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes and returns the last layer."""
        if not self.layers:
            raise TypeError(f"Sequential '{self.name}'.pop: there are no layers in the model.")
        layer = self._layers.pop()
        self._layers_changed()
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _layers_changed(self) -> None:
        d = self.__dict__
        call_layers = tuple(x for x in self._layers if not isinstance(x, InputLayer))
        d["_call_layers"] = call_layers
        d["_mask_layers"] = any(_graph.produces_mask(x) for x in call_layers)
        d["_symbolic_output"] = None

    def _maybe_rebuild(self) -> None:
        layers = self._layers
        if not layers:
            return
        first = layers[0]
        if isinstance(first, InputLayer):
            if len(layers) > 1:
                self.build(first.batch_shape)
        elif getattr(first, "_input_shape_arg", None) is not None:
            self.build(first._input_shape_arg)
        elif self._build_input_shape is not None:
            self.build(self._build_input_shape)

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the ``InputLayer`` (as in Keras)."""
        return list(self._call_layers)

    # ------------------------------------------------------------- building
    def build(self, input_shape: Any = None) -> None:
        """Builds every layer for inputs of ``input_shape`` (batch axis included)
        by calling the stack on a symbolic input."""
        if not self._layers or not self._call_layers:
            raise ValueError(
                f"Sequential model '{self.name}' cannot be built because it has no layers; "
                "add some with `model.add(layer)`."
            )
        if input_shape is None:
            raise ValueError(
                f"Sequential model '{self.name}'.build needs an input shape with the batch "
                "axis, e.g. `model.build((None, 784))`; received None."
            )
        if (
            isinstance(input_shape, (list, tuple))
            and input_shape
            and not isinstance(input_shape[0], (int, type(None)))
        ):
            raise ValueError(
                f"Sequential model '{self.name}' takes a single input; received input shapes "
                f"{input_shape}."
            )
        shape = tuple(None if d is None else int(d) for d in input_shape)
        first = self._layers[0]
        if isinstance(first, InputLayer):
            if len(first.batch_shape) != len(shape) or any(
                a is not None and b is not None and a != b
                for a, b in zip(first.batch_shape[1:], shape[1:])
            ):
                raise ValueError(
                    f"Sequential model '{self.name}' has an Input of shape "
                    f"{first.batch_shape}; it cannot be built for input shape {shape}."
                )
        else:
            # text layers declare input_dtype="string" (their inputs stay on the host)
            dtype = getattr(first, "input_dtype", None) or first.dtype_policy.compute_dtype
            first = InputLayer(batch_shape=shape, dtype=dtype)
            self._layers.insert(0, first)
            self._layers_changed()
        x = first.output
        for layer in self._call_layers:
            x = self._symbolic(layer, x)
        d = self.__dict__
        d["_symbolic_output"] = x
        d["_build_input_shape"] = first.batch_shape
        d["_build_shapes"] = first.batch_shape
        self.built = True

    def _symbolic(self, layer: Layer, x: KerasTensor) -> KerasTensor:
        with layer_name_scope(self):  # weights built here: "sequential/dense/kernel", as Keras
            y = layer(x)
        if not isinstance(y, KerasTensor):
            raise ValueError(
                f"Sequential model '{self.name}': layer '{layer.name}' returned "
                f"{type(y).__name__}; every layer in a Sequential model must return a "
                "single tensor."
            )
        return y

    def _extend(self, previous: KerasTensor, layer: Layer) -> None:
        try:
            self.__dict__["_symbolic_output"] = self._symbolic(layer, previous)
        except Exception:
            self._layers.pop()  # leave the model as it was
            self._layers_changed()
            self.__dict__["_symbolic_output"] = previous
            raise
        self.built = True

    # ----------------------------------------------------------------- call
    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        # `training` reaches each layer through the call context (the frame) when the
        # model is called as `model(x, training=...)`; a direct `model.call(x,
        # training=True)` has no frame of its own, so an explicit value is passed on.
        extra = {} if training is None else {"training": training}
        if mask is None and not self._mask_layers:
            for layer in self._call_layers:
                inputs = layer(inputs, **extra)
            return inputs
        for layer in self._call_layers:
            if mask is not None and _graph.takes_mask(layer):
                outputs = layer(inputs, mask=mask, **extra)
            else:
                outputs = layer(inputs, **extra)
            if _graph.produces_mask(layer):
                mask = layer.compute_mask(inputs, mask)
            elif not getattr(layer, "supports_masking", False):
                mask = None
            inputs = outputs
        return inputs

    # ---------------------------------------------------------- structure
    def _require_built(self, what: str) -> None:
        if self._symbolic_output is None:
            raise AttributeError(
                f"Sequential model '{self.name}' has no defined {what} yet: give it an "
                "input shape (a first `callax.Input(shape)`, `input_shape=` on the first "
                "layer, or `model.build(input_shape)`) or call it on data first."
            )

    @property
    def inputs(self) -> list[KerasTensor]:
        self._require_built("inputs")
        return [self._layers[0].output]

    @property
    def outputs(self) -> list[KerasTensor]:
        self._require_built("outputs")
        return [self._symbolic_output]

    @property
    def input(self) -> KerasTensor:
        return self.inputs[0]

    @property
    def output(self) -> KerasTensor:
        return self.outputs[0]

    @property
    def input_shape(self) -> tuple:
        return self.inputs[0].shape

    @property
    def output_shape(self) -> Any:
        self._require_built("output shape")
        return jax.tree_util.tree_map(
            lambda t: t.shape, self._symbolic_output, is_leaf=lambda t: isinstance(t, KerasTensor)
        )

    # -------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Keras 3's Sequential config: ``name``, ``trainable``, ``dtype``, ``layers``
        (the InputLayer first when built) and ``build_input_shape``."""
        return sequential_get_config(self)

    @classmethod
    def from_config(cls, config: Any, custom_objects: dict | None = None) -> Sequential:
        if isinstance(config, list):  # legacy: a bare list of layer configs
            config = {"layers": config}
        model = cls(
            name=config.get("name"),
            trainable=config.get("trainable", True) is not False,
            **({"dtype": config["dtype"]} if config.get("dtype") is not None else {}),
        )
        for data in config.get("layers", []):
            model.add(deserialize_layer(data, custom_objects), rebuild=False)
        shape = config.get("build_input_shape")
        if model._call_layers and isinstance(model._layers[0], InputLayer):
            model._maybe_rebuild()
        elif shape is not None and model._call_layers:
            model.build(shape)
        else:
            model._maybe_rebuild()
        return model

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, built={self.built}>"
