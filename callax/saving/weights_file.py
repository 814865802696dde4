"""``.weights.h5`` files, laid out exactly as Keras 3 lays them out.

Keras 3 files a model's state by the object tree, not by variable names::

    vars                          (the model's own variables; attr name="my_model")
    dense1/vars/0, dense1/vars/1  (a sublayer held in attribute ``dense1``)
    blocks/block/inner/vars/0     (a list ``blocks``: entries named by class, snake_case)
    layers/dense_1/vars/0         (Functional/Sequential: the ``layers`` list)
    optimizer/vars/0 ...          (iterations, learning rate, then slots)

Attributes are visited in name order, public ones first; a layer seen twice is
filed once, under its first path. Within a layer, variables are numbered
trainable first (in creation order), then non-trainable. Seed-generator state
is not part of it (Keras does not save it either).

Loading matches by path, checks everything first, and only then assigns: a
missing, extra or mis-shaped variable raises a report naming the layer, the
variable and both shapes, and leaves the model untouched (unless
``skip_mismatch=True``, which loads what matches and warns with the rest).

The reader treats the file as hostile: only plain groups and numeric datasets
are read (no soft or external links, no external storage, no object dtypes),
and a dataset is read only once its shape matches what the model expects.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from callax.core import layer as layer_mod
from callax.core import names as _names
from callax.core.layer import Layer
from callax.core.own_state import variables_in_file_order
from callax.optimizers.base_optimizer import Optimizer
from callax.training.trainer import Trainer

# Public attributes of Keras's base Layer that callax's Layer does not define:
# Keras never files a child held under one of these names, so neither do we.
_KERAS_LAYER_NAMES = frozenset({
    "add_metric", "build_from_config", "call_signature_parameters", "compute_mask",
    "get_build_config", "get_weights", "input", "input_dtype", "load_own_variables",
    "metrics", "metrics_variables", "output", "quantization_mode", "quantize",
    "quantized_build", "quantized_call", "rematerialized_call", "save_own_variables",
    "set_weights", "supports_jit", "symbolic_call",
})  # fmt: skip
_skip_cache: dict[str, frozenset] = {}


class WeightsFileError(ValueError):
    """A weights file that cannot be read (corrupt, truncated, hostile, foreign)."""


def _to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def _base_skipset() -> frozenset:
    skip = _skip_cache.get("layer")
    if skip is None:
        base = Layer.__new__(Layer)
        Layer.__init__(base, name="__callax_skipset__")
        _names._name_counts.pop("__callax_skipset__", None)
        skip = frozenset(dir(base)) | frozenset(layer_mod._UNTRACKED) | _KERAS_LAYER_NAMES
        skip = skip | {"_init_args", "_build_dtypes"}
        _skip_cache["layer"] = skip
    return skip


def _is_layer(obj: Any) -> bool:
    return isinstance(obj, Layer)


def _is_optimizer(obj: Any) -> bool:
    return isinstance(obj, Optimizer)


def _is_graph_model(obj: Any) -> bool:
    """A Functional model (or Sequential), told by class name so that saving
    needs nothing from ``callax.models`` (which sits above it). A subclassed
    model built as a graph (KerasHub's backbones) is Functional to Keras too."""
    names = {cls.__name__ for cls in type(obj).__mro__}
    return (
        "Functional" in names
        or type(obj).__name__ == "Sequential"
        or hasattr(obj, "_functional_graph")
    )


def _is_saveable(obj: Any) -> bool:
    if _is_layer(obj):
        # Keras does not file metrics' state; a callax metric may be a layer.
        return not type(obj).__module__.startswith("callax.metrics")
    return _is_optimizer(obj)


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def _children(obj: Any) -> list[tuple[str, Any]]:
    """``(attribute, value)`` pairs Keras 3 would visit under ``obj``."""
    out: list[tuple[str, Any]] = []
    if not _is_layer(obj):
        return out  # an optimizer's slots are its own variables
    skip = _base_skipset()
    names = [k for k in obj.__dict__ if k not in skip and not k.startswith("__")]
    # A model is a layer that trains (``Model`` = ``Trainer`` + ``Layer``); a graph
    # model's layers are filed first, under "layers".
    is_model = isinstance(obj, Trainer)
    if is_model and _is_graph_model(obj):
        out.append(("layers", obj.layers))
    elif is_model:
        names.append("layers")
    for name in sorted(set(names), key=_name_key):
        value = obj.layers if name == "layers" and is_model else obj.__dict__.get(name)
        out.append((name, value))
    return out


def own_variables(obj: Any) -> list[Any]:
    """A saveable's own variables in file order."""
    if _is_optimizer(obj):
        return list(obj.variables)
    return variables_in_file_order(obj)


def _custom_hook(obj: Any, name: str) -> Any:
    """``obj``'s own ``save_own_variables`` / ``load_own_variables`` when its class
    overrides Layer's (a custom layer keeping state that is not a variable)."""
    if _is_layer(obj) and getattr(type(obj), name) is not getattr(Layer, name):
        return getattr(obj, name)
    return None


@dataclass
class Entry:
    """One saveable: where it lives in the file and what it holds."""

    path: str
    obj: Any
    variables: list = field(default_factory=list)

    def describe(self) -> str:
        name = getattr(self.obj, "name", "")
        where = self.path or "(the model itself)"
        return f"{where} ({type(self.obj).__name__} '{name}')"


def saveable_entries(root: Any, include_optimizer: bool = True) -> list[Entry]:
    """Every saveable under ``root`` with its file path, in Keras's visit order."""
    entries: list[Entry] = []
    visited: set[int] = set()

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        entries.append(Entry(path, obj, own_variables(obj)))
        for attr, child in _children(obj):
            child_path = f"{path}/{attr}" if path else attr
            if _is_saveable(child):
                if attr == "optimizer" and not include_optimizer:
                    continue
                visit(child, child_path)
            elif isinstance(child, (list, tuple, dict)):
                visit_container(child, child_path, set())

    def visit_container(container: Any, path: str, seen: set[int]) -> None:
        if id(container) in seen:
            return
        seen.add(id(container))
        used: dict[str, int] = {}
        items = list(container.values()) if isinstance(container, dict) else list(container)
        for item in items:
            if _is_saveable(item):
                name = _unique(_to_snake_case(type(item).__name__), used)
                visit(item, f"{path}/{name}")
            elif isinstance(item, (list, tuple, dict)):
                name = _unique("container", used)
                visit_container(item, f"{path}/{name}", seen)

    visit(root, "")
    return entries


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# ------------------------------------------------------------------ writing
def write_weights(
    root: Any,
    fileobj: IO[bytes] | str,
    include_optimizer: bool = True,
    extra: dict | None = None,
    attrs: dict | None = None,
) -> None:
    """Writes ``root``'s state to an h5 file (path or binary file object).

    ``extra`` maps group names to lists of arrays stored under ``<name>/vars``
    (callax's backups keep seed-generator state there; Keras ignores it), and
    ``attrs`` strings to set on the root group.
    """
    import h5py

    with h5py.File(fileobj, "w") as f:
        for key, value in (attrs or {}).items():
            f.attrs[key] = value
        for entry in saveable_entries(root, include_optimizer):
            group = f.create_group(f"{entry.path}/vars" if entry.path else "vars")
            name = getattr(entry.obj, "name", None)
            if isinstance(name, str):
                group.attrs["name"] = name
            save = _custom_hook(entry.obj, "save_own_variables")
            if save is not None:
                store: dict[str, Any] = {}
                save(store)
                for key, value in store.items():
                    group.create_dataset(str(key), data=np.asarray(value))
                continue
            for i, v in enumerate(entry.variables):
                group.create_dataset(str(i), data=np.asarray(v.value))
        for name, arrays in (extra or {}).items():
            group = f.create_group(f"{name}/vars")
            for i, a in enumerate(arrays):
                group.create_dataset(str(i), data=np.asarray(a))


# ------------------------------------------------------------------ reading
class WeightsReader:
    """Read access to a weights h5 file: ``reader.vars(path)`` lists the
    datasets stored for ``path`` (without reading their values)."""

    def __init__(self, source: IO[bytes] | str, display_name: str):
        import h5py

        self.display_name = display_name
        try:
            self.file = h5py.File(source, "r")
        except (OSError, ValueError) as e:
            raise WeightsFileError(
                f"Could not read weights file {display_name!r}: it is not a valid HDF5 "
                f"file (truncated, corrupted, or another format). Details: {e}"
            ) from None
        self.groups: dict[str, list[Any]] = {}
        try:
            self._scan(self.file, "", depth=0)
        except WeightsFileError:
            self.close()
            raise
        except Exception as e:  # h5py errors on a damaged file surface here
            self.close()
            raise WeightsFileError(
                f"Could not read weights file {display_name!r}: its contents are damaged "
                f"({type(e).__name__}: {e})."
            ) from None

    def _scan(self, group: Any, path: str, depth: int) -> None:
        import h5py

        if depth > 64:
            raise WeightsFileError(
                f"Weights file {self.display_name!r} nests groups more than 64 deep at "
                f"{path!r}; refusing it as malformed."
            )
        for key in group:
            self._refuse_links(group, key, path, "groups and datasets")
            item = group[key]
            sub = f"{path}/{key}" if path else key
            if key == "vars" and isinstance(item, h5py.Group):
                self.groups[path] = self._datasets(item, sub)
            elif isinstance(item, h5py.Group):
                self._scan(item, sub, depth + 1)

    def _refuse_links(self, group: Any, key: str, path: str, accepted: str) -> None:
        import h5py

        link = group.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise WeightsFileError(
                f"Weights file {self.display_name!r} holds a {type(link).__name__} at "
                f"'{path}/{key}': only plain {accepted} are accepted (links could read "
                "other files)."
            )

    def _datasets(self, group: Any, path: str) -> list[Any]:
        import h5py

        items = {}
        for key in group:
            self._refuse_links(group, key, path, "datasets")
            ds = group[key]
            if (
                ds is None
                or not isinstance(ds, h5py.Dataset)
                or not key.isdigit()
                or key != str(int(key))  # "01" would stand in for "1"
            ):
                raise WeightsFileError(
                    f"Weights file {self.display_name!r}: '{path}/{key}' is not a numbered "
                    "dataset (expected vars/0, vars/1, ...)."
                )
            if ds.dtype.kind not in "biufcV" or ds.dtype.hasobject or ds.is_virtual:
                raise WeightsFileError(
                    f"Weights file {self.display_name!r}: '{path}/{key}' has dtype "
                    f"{ds.dtype}; only numeric arrays are accepted."
                )
            if ds.external:
                raise WeightsFileError(
                    f"Weights file {self.display_name!r}: '{path}/{key}' stores its data in "
                    "an external file; refusing it."
                )
            items[int(key)] = ds
        if sorted(items) != list(range(len(items))):
            raise WeightsFileError(
                f"Weights file {self.display_name!r}: '{path}' numbers its datasets "
                f"{sorted(items)}; expected 0..{len(items) - 1}."
            )
        return [items[i] for i in range(len(items))]

    def read(self, ds: Any) -> np.ndarray:
        try:
            value = ds[()]
        except Exception as e:
            raise WeightsFileError(
                f"Could not read '{ds.name}' from weights file {self.display_name!r}: the "
                f"file is damaged ({type(e).__name__}: {e})."
            ) from None
        value = np.asarray(value)
        if ds.attrs.get("dtype", None) == "bfloat16":
            import ml_dtypes

            value = value.view(ml_dtypes.bfloat16) if value.dtype.itemsize == 2 else value
        return value

    def close(self) -> None:
        try:
            self.file.close()
        except Exception:  # closing a damaged file can fail; nothing to keep
            pass


def _shape(ds: Any) -> tuple:
    return tuple(int(d) for d in ds.shape)


def load_weights_from(
    root: Any,
    reader: WeightsReader,
    skip_mismatch: bool = False,
    include_optimizer: bool = True,
) -> list[str]:
    """Matches ``root``'s state against the file and assigns it, all or nothing.

    Returns the list of problems skipped (``skip_mismatch=True``); otherwise
    raises ``ValueError`` listing every problem and assigns nothing.
    """
    entries = saveable_entries(root, include_optimizer=include_optimizer)
    problems: list[str] = []
    plan: list[tuple[Any, Any]] = []
    custom_loads: list[tuple[Any, list]] = []
    expected_paths = set()
    optimizer_notes: list[str] = []
    for entry in entries:
        expected_paths.add(entry.path)
        found = reader.groups.get(entry.path, [])
        is_opt = _is_optimizer(entry.obj)
        if is_opt:
            if not entry.variables and found:
                _build_optimizer(root, entry.obj)
                entry.variables = own_variables(entry.obj)
            if len(entry.variables) != len(found):
                optimizer_notes.append(
                    f"optimizer {type(entry.obj).__name__} '{getattr(entry.obj, 'name', '')}' "
                    f"has {len(entry.variables)} variables, the file {len(found)}: its state "
                    "was not loaded (a different optimizer, or one not built yet)."
                )
                continue
        if entry.path not in reader.groups and entry.variables:
            for v in entry.variables:
                problems.append(
                    f"missing: {entry.describe()}: variable '{v.name}' (shape {v.shape}) is not "
                    f"in the file (no group '{entry.path or '/'}/vars')."
                )
            continue
        load = _custom_hook(entry.obj, "load_own_variables")
        if load is not None:  # the layer's own hook reads its group (after all checks)
            custom_loads.append((load, found))
            continue
        for i, v in enumerate(entry.variables):
            if i >= len(found):
                problems.append(
                    f"missing: {entry.describe()}: variable '{v.name}' (#{i}, shape {v.shape}) "
                    f"is not in the file, which has {len(found)} variable(s) for this layer."
                )
                continue
            if _shape(found[i]) != tuple(v.shape):
                problems.append(
                    f"shape mismatch: {entry.describe()}: variable '{v.name}' expects shape "
                    f"{tuple(v.shape)}, the file has {_shape(found[i])}."
                )
                continue
            plan.append((v, found[i]))
        for i in range(len(entry.variables), len(found)):
            problems.append(
                f"extra: {entry.describe()}: the file has variable #{i} (shape "
                f"{_shape(found[i])}) that the layer does not."
            )
    optimizer_paths = {e.path for e in entries if _is_optimizer(e.obj)}
    for path, found in reader.groups.items():
        if path in expected_paths or not found or path.split("/")[0] == "callax_rng":
            continue
        if path == "optimizer" or path in optimizer_paths:
            continue  # optimizer state without an optimizer here: weights still load
        problems.append(
            f"extra: the file has {len(found)} variable(s) under '{path}' (shapes "
            f"{[_shape(d) for d in found]}), which match no layer of the model."
        )
    if problems and not skip_mismatch:
        shown = "\n  - ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise ValueError(
            f"Could not load weights from {reader.display_name!r} into "
            f"{type(root).__name__} '{getattr(root, 'name', '')}': {len(problems)} problem(s); "
            f"nothing was loaded.\n  - {shown}{more}\n"
            "Pass skip_mismatch=True to load the variables that match and skip the rest."
        )
    values = [(v, reader.read(ds)) for v, ds in plan]  # read everything before assigning
    for v, value in values:
        v.assign(value.astype(v.dtype) if value.dtype != v.dtype else value)
    for load, found in custom_loads:
        load({str(i): reader.read(ds) for i, ds in enumerate(found)})
    for note in optimizer_notes:
        warnings.warn(note, stacklevel=3)
    if problems:
        warnings.warn(
            f"Loaded weights from {reader.display_name!r} with skip_mismatch=True; skipped "
            f"{len(problems)} problem(s):\n  - " + "\n  - ".join(problems),
            stacklevel=3,
        )
    return problems


def _build_optimizer(model: Any, optimizer: Any) -> None:
    build = getattr(optimizer, "build", None)
    if callable(build):
        build(model.trainable_variables)


def read_extra(reader: WeightsReader, name: str) -> list[np.ndarray] | None:
    found = reader.groups.get(name)
    return None if found is None else [reader.read(ds) for ds in found]


def display(path: Any) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
