"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``.

Example:
    >>> import os, tempfile, numpy as np, callax
    >>> class Tiny(callax.Model):
    ...     def __init__(self, units=2, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.dense = callax.layers.Dense(units)
    ...     def call(self, x):
    ...         return self.dense(x)
    >>> model = Tiny(units=3)
    >>> x = np.ones((1, 4), "float32")
    >>> y = model(x)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     model.save(os.path.join(d, "tiny.keras"))
    ...     same = callax.saving.load_model(os.path.join(d, "tiny.keras"),
    ...                                     custom_objects={"Tiny": Tiny})
    >>> bool((same(x) == y).all())
    True
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

from callax.core import custom_objects as _reg
from callax.core import serialization as _ser
from callax.core.layer import Layer
from callax.core.variable import variable_budget
from callax.distribution.multihost import write_on_primary
from callax.saving import keras_archive as _archive
from callax.saving import weights_file as _wf
from callax.saving.legacy_h5 import (
    is_legacy_h5,
    legacy_group,
    load_legacy_h5,
    load_legacy_h5_group,
    read_legacy_h5_model,
    write_legacy_h5,
)
from callax.utils.atomic_files import atomic_write, remove_stale_temps

# load_model refuses a config whose variables exceed the archive's weights file
# this many times over, plus the slack (state not saved: seeds, lookup tables).
MAX_VARIABLES_RATIO = 4
MAX_VARIABLES_SLACK = 256 * 2**20


def _path_str(filepath: Any) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"filepath must be a str or os.PathLike; received {type(filepath).__name__}: "
            f"{filepath!r}."
        )
    return os.fspath(filepath)


def model_config(model: Any) -> dict:
    """The whole model's config, checked JSON-serializable (raises before any
    file is touched)."""
    config = _ser.serialize_keras_object(model)
    try:
        json.dumps(config)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"The config of {type(model).__name__} '{getattr(model, 'name', '')}' is not "
            f"JSON-serializable ({e}). Make get_config() return numbers, strings, "
            "booleans, None, lists and dicts (use callax.saving.serialize_keras_object "
            "for objects)."
        ) from None
    return config


def save_model(model: Any, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
    """Saves ``model`` (config, weights, optimizer state) to a ``.keras`` file.

    The config is made first, so a model that cannot be described fails before
    anything is written; the file is written atomically (old file or new file,
    never a broken one).

    Args:
        model: the model.
        filepath: a path ending in ``.keras``.
        overwrite: replace an existing file (else ``FileExistsError``).
        include_optimizer: save the optimizer's state (default True).
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    kwargs.pop("zipped", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword argument(s) {sorted(kwargs)}.")
    path = _path_str(filepath)
    legacy = path.endswith((".h5", ".hdf5")) and not path.endswith(".weights.h5")
    if not legacy and not path.endswith(".keras"):
        raise ValueError(
            f"Invalid filepath extension for saving: {path!r}. A whole model is saved to "
            "a path ending in '.keras' (e.g. 'model.keras')."
        )
    config = model_config(model)
    if not include_optimizer:
        config.pop("compile_config", None)
    if legacy:
        warnings.warn(
            f"Saving {path!r} in the legacy HDF5 format (as Keras does for a '.h5' path): "
            "the config and the weights are kept, the optimizer's state is not. The "
            "'.keras' format keeps everything: model.save('model.keras').",
            UserWarning,
            stacklevel=3,
        )
        compile_config = config.pop("compile_config", None)

        def write_h5():
            import h5py

            with atomic_write(path, overwrite=overwrite) as f, h5py.File(f, "w") as h5:
                write_legacy_h5(model, h5, config, compile_config)

        write_on_primary(_saved_variables(model, False), write_h5, "save_model")
        return

    def write():
        with atomic_write(path, overwrite=overwrite) as f:
            _archive.write_archive(
                f,
                config,
                lambda w: _wf.write_weights(model, w, include_optimizer=include_optimizer),
            )

    # Several processes: values gathered from all, process 0 writes, the others wait.
    write_on_primary(_saved_variables(model, include_optimizer), write, "save_model")


def load_model(
    filepath: Any,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Loads a model saved by ``model.save()`` (callax or Keras 3).

    Args:
        filepath: a ``.keras`` file.
        custom_objects: ``{name: class_or_function}`` for user classes not
            registered with ``register_keras_serializable``.
        compile: recompile with the saved optimizer/loss/metrics and restore the
            optimizer's state.
        safe_mode: refuse configs holding Python code (``lambda``s).

    Raises:
        FileNotFoundError, or ValueError naming the file for anything that is not
        a valid archive.
    """
    path = _path_str(filepath)
    if path.endswith(".weights.h5"):
        raise ValueError(
            f"{path!r} holds weights only, not a model: build the model in code and call "
            "model.load_weights(...) on it."
        )
    if path.endswith((".h5", ".hdf5")):
        return _load_legacy_h5_model(path, custom_objects, compile, safe_mode)
    if os.path.isdir(path):
        raise ValueError(
            f"Cannot load {path!r}: it is a directory (a TensorFlow SavedModel?); "
            "callax loads .keras files."
        )
    remove_stale_temps(path)  # left by a save of this file that was killed
    with _archive.ArchiveReader(path) as archive:
        config = archive.read_json(_archive.CONFIG)
        if archive.has(_archive.METADATA):
            archive.read_json(_archive.METADATA)  # must at least be valid JSON
        compile_config = config.pop("compile_config", None)
        # A hostile config could ask for layers of any size: the variables it builds
        # may not outgrow the weights file by much (see MAX_VARIABLES_RATIO).
        weights_size = archive.zip.getinfo(_archive.WEIGHTS).file_size
        budget = variable_budget(
            MAX_VARIABLES_RATIO * weights_size + MAX_VARIABLES_SLACK,
            f"its config (with a weights file of {weights_size} bytes)",
        )
        with _reg.CustomObjectScope(custom_objects), _ser.SafeModeScope(safe_mode), budget:
            try:
                model = _ser.deserialize_keras_object(config, safe_mode=safe_mode)
                if not isinstance(model, Layer):
                    raise TypeError(
                        "its config.json does not describe a model (a dict with "
                        "'class_name' and 'config'); it gives a "
                        f"{type(model).__name__}"
                    )
                if compile and compile_config and hasattr(model, "compile_from_config"):
                    model.compile_from_config(compile_config)
            except (TypeError, ValueError, KeyError) as e:
                raise type(e)(f"Could not rebuild the model stored in {path!r}: {e}") from e
            except Exception as e:  # a malformed config can fail anywhere in rebuilding
                raise ValueError(
                    f"Could not rebuild the model stored in {path!r}: its config is "
                    f"malformed ({type(e).__name__}: {e})."
                ) from e
        with archive.weights_file() as weights_path:
            reader = _wf.WeightsReader(weights_path, f"{path} ({_archive.WEIGHTS})")
            try:
                _wf.load_weights_from(model, reader, include_optimizer=compile)
            finally:
                reader.close()
    return model


def _load_legacy_h5_model(
    path: str, custom_objects: dict | None, compile: bool, safe_mode: bool
) -> Any:
    """A whole model from a legacy ``.h5`` file (Keras 3's ``model.save("x.h5")``,
    Keras 2's, or callax's): rebuilt from its config, weights matched layer by
    layer in order, compiled from its ``training_config``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}.")
    config, compile_config, f = read_legacy_h5_model(path)
    with f:
        budget = variable_budget(
            MAX_VARIABLES_RATIO * os.path.getsize(path) + MAX_VARIABLES_SLACK,
            f"its config (in a file of {os.path.getsize(path)} bytes)",
        )
        with _reg.CustomObjectScope(custom_objects), _ser.SafeModeScope(safe_mode), budget:
            try:
                model = _ser.deserialize_keras_object(config, safe_mode=safe_mode)
            except (TypeError, ValueError, KeyError) as e:
                raise type(e)(f"Could not rebuild the model stored in {path!r}: {e}") from e
        if not isinstance(model, Layer):
            raise TypeError(
                f"Could not rebuild the model stored in {path!r}: its model_config gives a "
                f"{type(model).__name__}, not a model."
            )
        group = legacy_group(f)
        if group is not None:
            load_legacy_h5_group(model, group, path)
    if compile and compile_config and compile_config.get("optimizer") is not None:
        model.compile_from_config(compile_config)
    return model


def save_weights(model: Any, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
    """Saves ``model``'s weights (and optimizer state) to ``*.weights.h5``,
    atomically, in Keras 3's layout."""
    kwargs.pop("max_shard_size", None)
    if kwargs:
        raise TypeError(f"save_weights() got unexpected keyword argument(s) {sorted(kwargs)}.")
    path = _path_str(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(
            f"The filename must end in '.weights.h5' (Keras 3's weights format); received {path!r}."
        )

    def write():
        with atomic_write(path, overwrite=overwrite) as f:
            _wf.write_weights(model, f)

    write_on_primary(_saved_variables(model, True), write, "save_weights")


def _saved_variables(model: Any, include_optimizer: bool) -> list:
    """The variables a save writes (their values are gathered across processes)."""
    return [v for e in _wf.saveable_entries(model, include_optimizer) for v in e.variables]


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """Loads weights from ``*.weights.h5`` or ``*.keras`` into ``model`` (or from a
    legacy Keras 2 ``.h5`` file, whose layers are matched in order).

    All or nothing: every variable is matched by layer path and shape first;
    any problem raises a ``ValueError`` listing them all, with nothing loaded.
    ``skip_mismatch=True`` loads what matches and warns with the rest.
    """
    kwargs.pop("by_name", None)
    if kwargs:
        raise TypeError(f"load_weights() got unexpected keyword argument(s) {sorted(kwargs)}.")
    path = _path_str(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}.")
    if not getattr(model, "built", True) and model.weights == []:
        raise ValueError(
            f"Cannot load weights into {type(model).__name__} '{model.name}': it has not been "
            "built yet, so it has no variables to receive them. Call it on a batch of "
            "data (model(x)) or model.build(input_shape) first."
        )
    remove_stale_temps(path)  # left by a save of this file that was killed
    if path.endswith(".keras"):
        with _archive.ArchiveReader(path) as archive, archive.weights_file() as weights_path:
            reader = _wf.WeightsReader(weights_path, f"{path} ({_archive.WEIGHTS})")
            try:
                _wf.load_weights_from(model, reader, skip_mismatch=skip_mismatch)
            finally:
                reader.close()
        return
    if not path.endswith(".weights.h5") and path.endswith((".h5", ".hdf5")):
        if is_legacy_h5(path):  # a Keras 2 file: layers matched in order
            load_legacy_h5(model, path)
            return
    reader = _wf.WeightsReader(path, path)
    try:
        _wf.load_weights_from(model, reader, skip_mismatch=skip_mismatch)
    finally:
        reader.close()
