"""The ``keras.src.*`` module paths callax provides once installed as ``keras``.

``keras.src`` is Keras's private implementation tree. Some libraries built on Keras
import from it anyway; this table lists exactly the paths they use, and nothing else
(it is not a mirror of Keras internals). Any other ``keras.src.X`` is missing, as
for any module that does not exist: ``ModuleNotFoundError`` on import, ``None`` from
``importlib.util.find_spec`` (so tools probing for optional parts work).

Each entry maps a Keras path to the callax module whose names it exposes, or to
``None`` for a namespace that only holds the entries below it. Entries of which other
entries are children become small forwarding modules, so ``keras.src.saving.saving_lib``
is reachable as an attribute of ``keras.src.saving`` without importing it first (as
KerasHub's ``Backbone.save_lora_weights`` does) and callax's own modules stay untouched.

To add a path: add one line here (the target must import on its own) and the test
``tests/keras_compat/test_src_paths.py`` imports it.

Example:
    >>> from callax.keras_compat.src_paths import SRC_PATHS
    >>> SRC_PATHS["keras.src.ops"].target
    'callax.ops'
"""

from __future__ import annotations

from typing import NamedTuple


class SrcPath(NamedTuple):
    """One ``keras.src`` path: the callax module providing it and who needs it."""

    target: str | None
    used_by: str


_SHIMS = "callax.keras_compat.shims"

SRC_PATHS: dict[str, SrcPath] = {
    "keras.src": SrcPath(None, "namespace of the entries below"),
    # keras-tuner 1.4 (keras_tuner/src/backend/ops.py): `from keras.src.ops import *`
    "keras.src.ops": SrcPath("callax.ops", "keras-tuner: from keras.src.ops import *"),
    # keras-hub: masks travel as `_keras_mask` attributes (layers/modeling/*.py)
    "keras.src.backend": SrcPath(f"{_SHIMS}.backend", "keras-hub: get_keras_mask, set_keras_mask"),
    "keras.src.saving": SrcPath(
        "callax.saving",
        "keras-hub: from keras.src import saving (serialize/deserialize_keras_object)",
    ),
    "keras.src.saving.serialization_lib": SrcPath(
        "callax.core.serialization", "keras-hub tokenizers: in_safe_mode()"
    ),
    "keras.src.saving.saving_lib": SrcPath(
        f"{_SHIMS}.saving_lib", "keras-hub Backbone.save/load_lora_weights: H5IOStore"
    ),
    "keras.src.losses": SrcPath("callax.losses", "namespace of keras.src.losses.losses"),
    "keras.src.losses.losses": SrcPath(
        "callax.losses", "keras-hub DepthAnything loss: LossFunctionWrapper"
    ),
    "keras.src.distribution": SrcPath(
        "callax.distribution", "namespace of keras.src.distribution.distribution_lib"
    ),
    "keras.src.distribution.distribution_lib": SrcPath(
        "callax.distribution", "keras-hub CausalLM: distribution(), distribute_tensor()"
    ),
    "keras.src.utils": SrcPath("callax.utils", "namespace of keras.src.utils.backend_utils"),
    "keras.src.utils.backend_utils": SrcPath(
        f"{_SHIMS}.backend_utils", "keras-hub tensor_utils: in_grain_data_pipeline()"
    ),
    "keras.src.trainers": SrcPath(None, "namespace of keras.src.trainers.data_adapters"),
    "keras.src.trainers.data_adapters": SrcPath(
        None, "namespace of keras.src.trainers.data_adapters.data_adapter_utils"
    ),
    "keras.src.trainers.data_adapters.data_adapter_utils": SrcPath(
        f"{_SHIMS}.data_adapter_utils", "keras-hub PipelineModel: class_weight_to_sample_weights"
    ),
}


def children(path: str) -> list[str]:
    """The table's entries directly below ``path`` (their last name only).

    >>> children("keras.src.trainers")
    ['data_adapters']
    """
    prefix = path + "."
    return [
        p[len(prefix) :] for p in SRC_PATHS if p.startswith(prefix) and "." not in p[len(prefix) :]
    ]
