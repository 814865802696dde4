"""callax: Keras 3's model-subclassing workflow on a JAX-native engine.

``import callax as keras`` runs Keras 3 code: subclass ``callax.Model``, create
layers in ``__init__``, write the forward pass in ``call``, and call ``model(x)``.
"""

import importlib as _importlib

from callax.core.jax_setup import enable_compilation_cache as _enable_compilation_cache

_enable_compilation_cache()  # before anything compiles; see callax/core/jax_setup.py

from callax import (  # noqa: I001
    activations,
    backend,
    constraints,
    initializers,
    layers,
    mixed_precision,
    models,
    ops,
    random,
    regularizers,
)
from callax.core import config
from callax.core.dtype_policy import DTypePolicy
from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.core.stateless_scope import StatelessScope
from callax.core.variable import Variable
from callax.models import Model
from callax.models import Functional, Sequential
from callax.layers.core.input_layer import Input, InputLayer
from callax.core.compiled_call import jit
from callax.core.lazy_attributes import lazy_attributes as _lazy_attributes
from callax.core.registry import declare_public_module as _declare_public_module

# The Keras modules configs name, and the callax modules holding the same names:
# callax.core.serialization looks classes up only there, loading a module this
# package imports on first use (losses, optimizers...) when a config first names it.
for _keras_name, _callax_name in {
    "keras.layers": "callax.layers", "keras.models": "callax.models", "keras": "callax",
    "keras.initializers": "callax.initializers", "keras.regularizers": "callax.regularizers",
    "keras.constraints": "callax.constraints", "keras.activations": "callax.activations",
    "keras.optimizers": "callax.optimizers",
    "keras.optimizers.schedules": "callax.optimizers.schedules",
    "keras.losses": "callax.losses", "keras.metrics": "callax.metrics",
    "keras.callbacks": "callax.callbacks", "keras.dtype_policies": "callax.dtype_policies",
    "keras.src.models.functional": "callax.models",
    "keras.src.models.sequential": "callax.models", "keras.src.models.model": "callax.models",
}.items():  # fmt: skip
    _declare_public_module(_keras_name, _callax_name, load=_importlib.import_module)
del _keras_name, _callax_name

# Imported on first use (PEP 562), so `import callax` stays quick: optax, h5py and
# the training/saving/inspection machinery load when a program first needs them.
_LAZY_MODULES = {
    "callbacks", "losses", "metrics", "optimizers", "saving", "utils", "inspect", "datasets",
    "distribution", "preprocessing", "tree", "applications",
    "export",
    "wrappers",
    "dtype_policies",
    "debug",
}  # fmt: skip
_LAZY_NAMES = {
    "trace": ("callax.inspect.trace", "trace"),
    "InputSpec": ("callax.layers", "InputSpec"),
    "explain": ("callax.inspect.explain", "explain"),
    "profile": ("callax.inspect.profile", "profile"),
    "show": ("callax.inspect.html_page", "show"),
    "Initializer": ("callax.initializers", "Initializer"),
    "Loss": ("callax.losses", "Loss"),
    "Metric": ("callax.metrics", "Metric"),
    "Optimizer": ("callax.optimizers", "Optimizer"),
    "Regularizer": ("callax.regularizers", "Regularizer"),
    "install_as_keras": ("callax.keras_compat", "install_as_keras"),
    "name_scope": ("callax.scopes", "name_scope"),
    "device": ("callax.scopes", "device"),
    "remat": ("callax.scopes", "remat"),
    "RematScope": ("callax.core.remat", "RematScope"),
    "SymbolicScope": ("callax.scopes", "SymbolicScope"),
    "Operation": ("callax.scopes", "Operation"),
    "Function": ("callax.scopes", "Function"),
    "FloatDTypePolicy": ("callax.dtype_policies", "FloatDTypePolicy"),
    "capture": ("callax.inspect.taps", "capture"),
    "capturing": ("callax.inspect.taps", "capturing"),
    "intervene": ("callax.inspect.taps", "intervene"),
    "intervention": ("callax.inspect.taps", "intervention"),
}


__getattr__, __dir__ = _lazy_attributes(
    "callax",
    globals(),
    {**_LAZY_NAMES, **{name: (f"callax.{name}", None) for name in _LAZY_MODULES}},
)


def version() -> str:
    """The callax version (``keras.version()`` under ``import callax as keras``).

    Installed as ``keras`` by :func:`callax.install_as_keras`, ``keras.version()``
    and ``keras.__version__`` instead give ``"3.15.1+callax.<this version>"``, so
    tools that check for Keras 3 accept it (see ``callax.keras_compat``)."""
    return __version__


from callax.package_version import __version__

__all__ = [
    "activations", "backend", "constraints", "initializers", "layers", "mixed_precision",
    "models", "ops", "random", "regularizers", "config", "DTypePolicy", "KerasTensor", "Layer",
    "SeedGenerator", "StatelessScope", "Variable", "Model", "Functional", "Sequential", "Input",
    "InputLayer", "jit", "version",
    # not "inspect": `from callax import *` must not shadow the standard library's inspect
    *sorted(_LAZY_MODULES - {"inspect"}), *sorted(_LAZY_NAMES),
]  # fmt: skip
