"""JAX settings callax applies once, at import.

The persistent compilation cache: XLA compiles every new function (and every
eager op on a new shape) in 20-500 ms on a small CPU, which made a script's
first model call take most of a second *every run*. With the cache, compiled
executables are reused across processes, so a rerun's first call is several
times faster. It is on unless the user configured JAX's cache already or set
``CALLAX_COMPILATION_CACHE=0``; ``CALLAX_CACHE_DIR`` moves it (default
``~/.cache/callax/jax-cache``).

It is capped: JAX evicts the least recently used entries once the folder holds
more than ``CALLAX_CACHE_MAX_BYTES`` (default 1 GiB; ``-1`` for no cap). JAX's
eviction keeps an access-time file beside each entry and takes a file lock
(the ``filelock`` package, a dependency) so that processes sharing the folder
evict safely; a folder filled earlier by an uncapped cache lacks those files,
which is why the default folder is not the ``xla`` one callax 0.1 used. On by
default rather than opt-in because a first call that is several times faster on
every rerun is the speed users notice most, and a capped folder under
``~/.cache`` costs nothing they must manage. The setting is JAX's, so it also
applies to other JAX code in the same process (it caches, it never changes
results).
"""

from __future__ import annotations

import os

import jax


def enable_compilation_cache() -> str | None:
    """Turns on JAX's persistent compilation cache; returns its directory or None."""
    if os.environ.get("CALLAX_COMPILATION_CACHE", "1").lower() in ("0", "false", "no"):
        return None
    if jax.config.jax_compilation_cache_dir:  # the user chose already
        return jax.config.jax_compilation_cache_dir
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.environ.get("CALLAX_CACHE_DIR") or os.path.join(base, "callax", "jax-cache")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if "jax_compilation_cache_max_size" in jax.config.values:  # JAX's LRU eviction
        jax.config.update("jax_compilation_cache_max_size", _max_bytes())
    return path


DEFAULT_CACHE_MAX_BYTES = 1 << 30


def _max_bytes() -> int:
    raw = os.environ.get("CALLAX_CACHE_MAX_BYTES", "")
    try:
        return int(raw) if raw.strip() else DEFAULT_CACHE_MAX_BYTES
    except ValueError:
        raise ValueError(
            "CALLAX_CACHE_MAX_BYTES must be an integer number of bytes (-1: no cap); "
            f"received {raw!r}."
        ) from None
