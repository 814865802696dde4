"""``Model``: a layer that can also be trained, evaluated, saved and inspected.

Subclass it exactly as in Keras 3: layers in ``__init__``, the forward pass in
``call``. ``Model(inputs, outputs)`` makes a Functional model instead.

Example:
    >>> import callax
    >>> class SimpleSequentialModel(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense1 = callax.layers.Dense(64, activation="relu")
    ...         self.dense2 = callax.layers.Dense(10, activation="softmax")
    ...     def call(self, inputs):
    ...         return self.dense2(self.dense1(inputs))
    >>> model = SimpleSequentialModel()
    >>> model(callax.random.normal((32, 32))).shape
    (32, 10)
    >>> model.count_params()
    2762
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from callax.core.layer import Layer
from callax.core.serialization import serialize_keras_object
from callax.export.model_export import export_model
from callax.inspect.summary import summary as print_summary
from callax.inspect.trace import trace as trace_calls
from callax.models import state_tree as _state_tree
from callax.models.pickling import reduce_model
from callax.saving import building, saving_api
from callax.training.trainer import Trainer


class _FunctionalHooks:
    """How ``Model`` becomes Functional: ``functional.py`` (which subclasses
    ``Model``, so this module cannot import it) fills these at import."""

    cls: type | None = None
    is_call: Callable[[tuple, dict], bool] | None = None
    become: Callable[..., None] | None = None
    is_config: Callable[[type, dict], bool] | None = None
    from_config: Callable[..., Any] | None = None


functional_hooks = _FunctionalHooks()


class Model(Trainer, Layer):
    """A trainable layer; ``Model(inputs, outputs)`` builds a Functional model."""

    # `layers` is the model's sublayers: Layer's `layers` setter refuses it for a Model
    # (core tests this attribute: it cannot import Model).
    _reserves_layers = True
    # The whole state as nested dicts keyed by variable path (models/state_tree.py).
    get_state_tree = _state_tree.get_state_tree
    set_state_tree = _state_tree.set_state_tree

    def __new__(cls, *args: Any, **kwargs: Any):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            functional = functional_hooks.cls
            return functional.__new__(functional)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any):
        if args or "inputs" in kwargs:
            if functional_hooks.is_call(args, kwargs):
                # `class M(Model)` built as `M(inputs, outputs)` or calling
                # `super().__init__(inputs, outputs)`: a Functional model of class M.
                functional_hooks.become(self, *args, **kwargs)
                return
        if args:
            raise TypeError(
                f"{type(self).__name__}.__init__ got unexpected positional arguments {args}. "
                "A subclassed model takes keyword arguments such as name= and dtype=."
            )
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    def __reduce__(self) -> tuple:
        """Pickles as Keras 3 does: through the ``.keras`` format (see
        ``callax.models.pickling``)."""
        return reduce_model(self)

    # ----------------------------------------------------------- weights
    # ---------------------------------------------------------- inspection
    def summary(
        self,
        line_length: int | None = None,
        positions: list[float] | None = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Prints the layer table (output shape per call, params), as Keras does,
        for subclassed models too: see :func:`callax.inspect.summary.summary`."""
        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable,
                layer_range)  # fmt: skip

    def trace(self, *inputs: Any, **kwargs: Any) -> Any:
        """``callax.trace(self, *inputs, **kwargs)``: the tree of layer calls."""
        return trace_calls(self, *inputs, **kwargs)

    # ------------------------------------------------------------ saving
    def to_json(self, **kwargs: Any) -> str:
        """The model's config as JSON (``callax.models.model_from_json`` reads it back);
        ``kwargs`` go to ``json.dumps``."""
        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Saves config, weights and optimizer state to a ``.keras`` archive
        (atomically): see :func:`callax.saving.save_model`."""
        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Saves the weights to a Keras-compatible ``.weights.h5`` file (atomically)."""
        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        """Loads weights from ``.weights.h5`` or ``.keras``, all or nothing, matching
        by layer path; ``skip_mismatch=True`` loads what matches and warns."""
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def export(
        self,
        filepath: Any,
        format: str = "tf_saved_model",
        verbose: bool | None = None,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> None:
        """Exports the inference call (``training=False``) for serving, atomically:
        ``format="jax"`` (a ``jax.export`` StableHLO file that runs with JAX alone),
        ``"onnx"`` (jax2onnx) or ``"tf_saved_model"`` (jax2tf); the batch axis is
        dynamic. See :func:`callax.export.export_model`."""
        export_model(self, filepath, format, verbose, input_signature, **kwargs)

    def get_build_config(self) -> dict | None:
        """The input structure this model was built with (to rebuild it on load)."""
        return building.get_build_config(self)

    def build_from_config(self, config: dict) -> None:
        """Builds the model from :meth:`get_build_config`'s dict (abstractly)."""
        building.build_from_config(self, config)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """A model from its config; a Functional config (``layers`` with
        ``input_layers``/``output_layers``, as Keras writes) rebuilds the graph."""
        if functional_hooks.is_config(cls, config):
            return functional_hooks.from_config(cls, config, custom_objects)
        return super().from_config(config)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A direct sublayer by name or index."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{self.name}.get_layer: index {index} out of range; the model has "
                    f"{len(layers)} layers."
                )
            return layers[index]
        for layer in self._flatten_layers(include_self=False):
            if layer.name == name:
                return layer
        raise ValueError(
            f"{self.name}.get_layer: no layer named {name!r}. Layers: "
            f"{[layer.name for layer in layers]}."
        )
