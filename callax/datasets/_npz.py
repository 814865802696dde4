"""Reading ``.npz`` files whose arrays may hold Python objects, without running
arbitrary pickled code.

IMDB and Reuters store ragged sequences as object arrays, which ``np.load``
reads only with ``allow_pickle=True`` (and pickle can run any code). Here each
member's pickle stream goes through an unpickler that may build only numpy
arrays, dtypes and scalars; anything else is refused.

Example:
    >>> import io, numpy as np
    >>> from callax.datasets._npz import load_npz
    >>> buf = io.BytesIO()
    >>> ragged = np.empty(2, dtype=object); ragged[0] = [1, 2]; ragged[1] = [3]
    >>> np.savez(buf, x=ragged, y=np.arange(2))
    >>> data = load_npz(buf)
    >>> [list(s) for s in data["x"]], data["y"].tolist()
    ([[1, 2], [3]], [0, 1])
"""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any

import numpy as np

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how protocol-2 pickles spell bytes; harmless
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"load_npz: refusing to unpickle {module}.{name}: only numpy arrays, dtypes "
            "and scalars may be stored in a data set file."
        )


def _read_npy(f: Any) -> np.ndarray:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        array = _NumpyOnlyUnpickler(f, encoding="latin1").load()
        return np.asarray(array, dtype=object).reshape(shape)
    count = int(np.prod(shape)) if shape else 1
    data = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype, count=count)
    order = "F" if fortran else "C"
    return data.reshape(shape, order=order).copy()


def load_npz(path: Any) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file (path or file object), keyed by name."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as f:
                out[member[: -len(".npy")]] = _read_npy(io.BytesIO(f.read()))
    return out
