"""JAX settings callax applies once, at import.

The persistent compilation cache: XLA compiles every new function (and every
eager op on a new shape) in 20-500 ms on a small CPU, which made a script's
first model call take most of a second *every run*. With the cache, compiled
executables are reused across processes, so a rerun's first call is several
times faster. It is on unless the user configured JAX's cache already or set
``CALLAX_COMPILATION_CACHE=0``; ``CALLAX_CACHE_DIR`` moves it (default
``~/.cache/callax/jax-cache``). On by default rather than opt-in because a first
call that is several times faster on every rerun is the speed users notice most.
The setting is JAX's, so it also applies to other JAX code in the same process
(it caches, it never changes results).

The folder is capped at ``CALLAX_CACHE_MAX_BYTES`` (default 1 GiB; ``-1`` for no
cap). Not with JAX's own eviction (``jax_compilation_cache_max_size``): that
takes a lock file shared by every process using the folder and rescans the
whole folder under it on every write, which made parallel test processes here
spend most of their time waiting (measured: 4.5 s of a 5.8 s test asleep in the
lock). Instead each process, once, on a background thread started at import,
removes the least recently used files (by access or modification time) down to
3/4 of the cap when the folder is over it. A file removed while another process
wants it is a cache miss there (a compile), never a wrong result.
"""

from __future__ import annotations

import os
import threading

import jax

DEFAULT_CACHE_MAX_BYTES = 1 << 30


def enable_compilation_cache() -> str | None:
    """Turns on JAX's persistent compilation cache; returns its directory or None."""
    if os.environ.get("CALLAX_COMPILATION_CACHE", "1").lower() in ("0", "false", "no"):
        return None
    if jax.config.jax_compilation_cache_dir:  # the user chose already
        return jax.config.jax_compilation_cache_dir
    max_bytes = _max_bytes()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.environ.get("CALLAX_CACHE_DIR") or os.path.join(base, "callax", "jax-cache")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if max_bytes >= 0:
        threading.Thread(
            target=prune_cache, args=(path, max_bytes), name="callax-cache-prune", daemon=True
        ).start()
    return path


def prune_cache(path: str, max_bytes: int) -> int:
    """Removes the least recently used files of ``path`` until it holds at most
    3/4 of ``max_bytes``, if it holds more than ``max_bytes``; returns the bytes
    removed. Never raises: a file another process removed first is skipped.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(4):
    ...     with open(os.path.join(folder, f"entry{i}"), "wb") as f:
    ...         _ = f.write(b"x" * 100)
    ...     os.utime(os.path.join(folder, f"entry{i}"), (1000 + i, 1000 + i))
    >>> prune_cache(folder, 300)  # 400 bytes > 300: down to 225, oldest first
    200
    >>> sorted(os.listdir(folder))
    ['entry2', 'entry3']
    """
    entries, total = [], 0
    try:
        with os.scandir(path) as it:
            for entry in it:
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                entries.append((max(st.st_atime, st.st_mtime), st.st_size, entry.path))
                total += st.st_size
    except OSError:
        return 0
    if total <= max_bytes:
        return 0
    removed, target = 0, max_bytes * 3 // 4
    for _, size, file in sorted(entries):
        if total - removed <= target:
            break
        try:
            os.remove(file)
            removed += size
        except OSError:
            continue
    return removed


def _max_bytes() -> int:
    raw = os.environ.get("CALLAX_CACHE_MAX_BYTES", "")
    try:
        return int(raw) if raw.strip() else DEFAULT_CACHE_MAX_BYTES
    except ValueError:
        raise ValueError(
            "CALLAX_CACHE_MAX_BYTES must be an integer number of bytes (-1: no cap); "
            f"received {raw!r}."
        ) from None
