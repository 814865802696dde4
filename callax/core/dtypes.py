"""Dtype names as Keras spells them, and Keras's promotion rules.

``standardize_dtype`` turns anything naming a dtype (``None``, ``"float"``,
Python ``int``, ``np.float32``, ``jnp.bfloat16``, an array's ``dtype``) into
Keras's canonical string. ``result_type`` follows JAX's promotion lattice (which
Keras adopted), with Python ``int``/``float``/``complex`` as weak types that
defer to the other operands, and narrowed to 32 bits unless ``jax_enable_x64``
is on, as Keras on JAX does.

Example:
    >>> import numpy as np
    >>> from callax.core import dtypes
    >>> dtypes.standardize_dtype(np.float32), dtypes.standardize_dtype(int)
    ('float32', 'int32')
    >>> dtypes.result_type("int32", "float16"), dtypes.result_type("bfloat16", float)
    ('float16', 'bfloat16')
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

ALLOWED_DTYPES = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8",
    "int16", "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn",
    "float8_e5m2", "complex64", "complex128",
)  # fmt: skip
_PYTHON_TYPES = {bool: "bool", int: "int32", float: "float32", str: "string",
                 complex: "complex64", "int": "int32"}  # fmt: skip

# The default float dtype (``keras.config.floatx``). It lives here, beside the
# names it picks from, so dtype code reads it without importing ``config`` (which
# re-exports it and imports the dtype policies).
_FLOATX = "float32"


def floatx() -> str:
    """The default float dtype for new variables and converted inputs."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float dtype: ``"float16"``, ``"bfloat16"``, ``"float32"``
    or ``"float64"``."""
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            f"Unknown floatx {value!r}: expected one of 'float16', 'bfloat16', 'float32', 'float64'."
        )
    _FLOATX = value


def standardize_dtype(dtype: Any) -> str:
    """Keras's name for ``dtype`` (``None`` means ``floatx()``).

    Raises:
        ValueError: ``dtype`` names no dtype Keras knows.
    """
    if dtype is None:
        return floatx()
    if isinstance(dtype, str) or isinstance(dtype, type):
        dtype = _PYTHON_TYPES.get(dtype, dtype)
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):  # an array or a jnp scalar type
        dtype = dtype.dtype
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(
            f"standardize_dtype: expected a dtype among {', '.join(ALLOWED_DTYPES)}; "
            f"received dtype={dtype!r}."
        )
    return dtype


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating type (bfloat16 and float8 included)."""
    name = standardize_dtype(dtype)
    return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type."""
    name = standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")


def _kind(name: str) -> int:
    """Rank of a dtype's kind: bool < int < float < complex."""
    if name == "bool":
        return 0
    if name.startswith(("int", "uint")):
        return 1
    if name.startswith(("float", "bfloat")):
        return 2
    return 3


def _promote(a: str, b: str) -> str:
    import jax.numpy as jnp

    if "string" in (a, b):
        if a != b:
            raise ValueError(f"result_type: a string dtype promotes with nothing else; "
                             f"received {a!r} and {b!r}.")  # fmt: skip
        return a
    # jnp.promote_types implements JAX's lattice without x64 canonicalisation.
    return np.dtype(jnp.promote_types(a, b)).name


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion rules give to an op over ``dtypes``.

    Python ``int``/``float``/``complex`` (the types or values) are weak: they
    take the other operands' precision; with no strong operand they mean
    ``int32``/``floatx()``/``complex64``.
    """
    if not dtypes:
        return floatx()
    strong: list[str] = []
    weak: list[int] = []  # kinds of the weak operands
    for d in dtypes:
        if d in (int, float, complex) or (type(d) in (int, float, complex)):
            kind = {int: 1, float: 2, complex: 3}[d if isinstance(d, type) else type(d)]
            weak.append(kind)
            continue
        name = standardize_dtype(d)
        if name.startswith("float8"):
            raise ValueError(
                "result_type: there is no implicit conversion from float8 dtypes; cast "
                f"explicitly. Received dtypes={dtypes!r}."
            )
        strong.append(name)
    result = None
    for name in strong:
        result = name if result is None else _promote(result, name)
    for kind in weak:
        if result is None:
            result = {1: "int32", 2: floatx(), 3: "complex64"}[kind]
        elif kind > _kind(result):
            if kind == 1:
                result = "int32"
            elif kind == 2:
                result = floatx()
            else:
                result = "complex128" if result == "float64" else "complex64"
    # As Keras on JAX: 64-bit results narrow to 32 bits unless jax_enable_x64 is on.
    import jax

    return np.dtype(jax.dtypes.canonicalize_dtype(result)).name if result != "string" else result


_UIDS: collections.defaultdict = collections.defaultdict(int)


def get_uid(prefix: str = "") -> int:
    """A counter per ``prefix``: 1, 2, 3... (reset by ``clear_session``)."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids() -> None:
    _UIDS.clear()
