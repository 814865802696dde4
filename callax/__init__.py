"""callax: Keras 3's model-subclassing workflow on a JAX-native engine.

``import callax as keras`` runs Keras 3 code: subclass ``callax.Model``, create
layers in ``__init__``, write the forward pass in ``call``, and call ``model(x)``.
"""

from callax.core.jax_setup import enable_compilation_cache as _enable_compilation_cache

_enable_compilation_cache()  # before anything compiles; see callax/core/jax_setup.py

from callax import (  # noqa: I001
    activations,
    backend,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from callax.core import config
from callax.core.dtype_policy import DTypePolicy
from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.core.stateless_scope import StatelessScope
from callax.core.variable import Variable
from callax.models import Model
from callax.models import Functional, Sequential  # noqa: E402
from callax.layers.input_layer import Input, InputLayer  # noqa: E402
from callax.compiled_call import jit
from callax.inspect import explain, trace
from callax.initializers import Initializer
from callax.losses import Loss
from callax.metrics import Metric
from callax.optimizers import Optimizer
from callax.regularizers import Regularizer


def version() -> str:
    """The callax version (``keras.version()``)."""
    return __version__

__version__ = "0.1.0"

__all__ = [
    "backend", "Initializer", "Loss", "Metric", "Optimizer", "Regularizer", "version",
    "activations", "constraints", "initializers", "ops", "random", "regularizers", "config",
    "DTypePolicy", "KerasTensor", "Layer", "SeedGenerator", "StatelessScope", "Variable",
    "layers", "mixed_precision", "models", "optimizers", "utils", "Model", "jit",
    "trace", "explain", "saving", "losses", "metrics",
]  # fmt: skip
__all__ += ["Functional", "Sequential", "Input", "InputLayer"]
__all__ += ["callbacks"]
