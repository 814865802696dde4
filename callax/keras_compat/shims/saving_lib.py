"""``keras.src.saving.saving_lib``: ``H5IOStore``, the h5 variable store.

KerasHub saves and loads LoRA weights through it (``Backbone.save_lora_weights``).
The layout is Keras's: each entry ``path`` is the group ``<path>/vars`` holding one
dataset per key, so files written here and by Keras read in either.

Example:
    >>> import io, numpy as np
    >>> from callax.keras_compat.shims.saving_lib import H5IOStore
    >>> buf = io.BytesIO()
    >>> store = H5IOStore(buf, mode="w")
    >>> store.make("lora/0")["kernel"] = np.eye(2)
    >>> store.close()
    >>> H5IOStore(buf, mode="r").get("lora/0")["kernel"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import numpy as np

from callax.ops import convert_to_numpy


class H5IOStore:
    """Reads (``mode="r"``) or writes (``mode="w"``) variables in an h5 file.

    ``make(path)`` (write) / ``get(path)`` (read) select an entry and return the
    store, which then acts as a dict of arrays for that entry: ``store[key] = value``,
    ``store[key]``, ``key in store``, ``len(store)``, ``store.keys()``.
    ``archive`` (a ``zipfile.ZipFile``) keeps the h5 file inside a zip archive
    under the name ``path_or_io``.
    """

    def __init__(self, path_or_io: Any, archive: Any = None, mode: str = "r"):
        import h5py  # optional dependency, needed only when a store is opened

        if mode not in ("r", "w"):
            raise ValueError(f"H5IOStore: mode must be 'r' or 'w'; received mode={mode!r}.")
        if isinstance(path_or_io, io.BytesIO):
            if archive is not None:
                raise ValueError(
                    "H5IOStore: archive must be None when path_or_io is an io.BytesIO; "
                    f"received archive={archive!r}."
                )
        elif isinstance(path_or_io, (str, pathlib.Path)):
            path_or_io = pathlib.Path(path_or_io)
        else:
            raise TypeError(
                "H5IOStore: path_or_io must be a str, pathlib.Path or io.BytesIO; "
                f"received {type(path_or_io).__name__}."
            )
        self.path_or_io = path_or_io
        self.mode = mode
        self.archive = archive
        self.io_file: Any = None
        if archive is not None:
            self.io_file = io.BytesIO() if mode == "w" else archive.open(str(path_or_io), "r")
            self.h5_file = h5py.File(self.io_file, mode=mode)
        else:
            self.h5_file = h5py.File(path_or_io, mode=mode)
        self._path: str | None = None
        self._group: Any = {}  # the selected entry's "vars" group ({} until it exists)

    def __bool__(self) -> bool:
        return bool(self.h5_file)

    def make(self, path: str, metadata: dict | None = None) -> H5IOStore:
        """Selects entry ``path`` for writing; its group is created on the first
        assignment (no empty groups) unless ``metadata`` attributes are given."""
        if self.mode != "w":
            raise ValueError(f"H5IOStore.make: the store is open for reading (mode={self.mode!r}).")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(
                f"H5IOStore.make: metadata must be a dict or None; received {metadata!r}."
            )
        self._path, self._group = path, {}
        if metadata:
            self._create_group()
            for key, value in metadata.items():
                self._group.attrs[key] = value
        return self

    def get(self, path: str) -> H5IOStore:
        """Selects entry ``path`` for reading (empty when the file lacks it)."""
        if self.mode != "r":
            raise ValueError(f"H5IOStore.get: the store is open for writing (mode={self.mode!r}).")
        self._path, self._group = path, {}
        name = f"{path}/vars" if path else "vars"
        if name in self.h5_file:
            self._group = self.h5_file[name]
        return self

    def has_path(self, path: str) -> bool:
        """Whether the file holds a group at ``path``."""
        return path in self.h5_file

    def close(self) -> None:
        """Closes the file (and, writing into an archive, stores it there)."""
        self.h5_file.close()
        if self.archive is not None and self.mode == "w":
            self.archive.writestr(str(self.path_or_io), self.io_file.getvalue())
        if self.io_file is not None:
            self.io_file.close()

    def _create_group(self) -> None:
        self._group = self.h5_file.create_group(f"{self._path}/vars" if self._path else "vars")

    def __len__(self) -> int:
        return len(self._group)

    def keys(self) -> Any:
        return self._group.keys()

    def __contains__(self, key: str) -> bool:
        return key in self._group

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._group:
            raise KeyError(
                f"H5IOStore: entry {self._path!r} has no value {key!r}; "
                f"it holds {sorted(self._group.keys())}."
            )
        ds = self._group[key]
        value = np.asarray(ds[()])
        if ds.attrs.get("dtype", None) == "bfloat16":  # stored as opaque 2-byte values
            import ml_dtypes

            value = value.view(ml_dtypes.bfloat16)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if self.mode != "w":
            raise ValueError(
                f"H5IOStore: cannot set {key!r}, the store is open for reading (mode='r')."
            )
        if isinstance(self._group, dict):
            self._create_group()
        array = convert_to_numpy(value)
        if array.dtype.name == "bfloat16":  # h5py stores it opaque: tag it, as Keras does
            ds = self._group.create_dataset(key, data=array)
            ds.attrs["dtype"] = "bfloat16"
        else:
            self._group[key] = array

    def __delitem__(self, key: str) -> None:
        if self.mode != "w":
            raise ValueError(
                f"H5IOStore: cannot delete {key!r}, the store is open for reading (mode='r')."
            )
        del self._group[key]


__all__ = ["H5IOStore"]
