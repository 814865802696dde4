"""What a multi-process job (``jax.distributed``) needs beyond one process.

In a job of several processes an array laid out over the mesh may span devices
of other processes: reading it (``np.asarray``) is then impossible for JAX. The
helpers here use JAX's own collectives (``jax.experimental.multihost_utils``):

- ``to_host`` (defined in ``callax.core.placement``, where ``Variable.numpy``
  reads through it too): numpy values of arrays, gathered from every process
  when they span several (a collective: every process must call it, in the same
  order);
- ``write_on_primary``: process 0 writes a file from gathered values, the others
  wait, and every process learns whether the write succeeded;
- ``gather_flags``: every process's answer to a yes/no question (e.g. whether
  it sees a file), so that all of them take the same branch;
- ``check_same_shapes``: the first batch of each shape is compared across the
  processes, so a mismatch raises a ``ValueError`` naming both shapes instead of
  a hang or an XLA error.

With one process each helper costs one ``jax.process_count()`` call.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import jax
import numpy as np

from callax.core.placement import to_host


def is_multi_process() -> bool:
    """Whether this process is one of several (``jax.distributed`` initialized)."""
    return jax.process_count() > 1


def write_on_primary(variables: list, write: Callable[[], None], what: str) -> None:
    """Runs ``write()`` on process 0 with ``variables`` reading their gathered
    values; the other processes wait for it. Raises on every process when the
    write failed (process 0 re-raises its own error). One process: ``write()``."""
    if not is_multi_process():
        write()
        return
    from jax.experimental import multihost_utils

    from callax.core.stateless_scope import StatelessScope

    values = to_host([v.value for v in variables])  # collective: all processes
    error: BaseException | None = None
    if jax.process_index() == 0:
        try:
            with StatelessScope(list(zip(variables, values))):
                write()
        except BaseException as e:  # noqa: BLE001 - re-raised below, after the others hear
            error = e
    # Doubles as the barrier: no process returns before process 0 has written.
    ok = int(multihost_utils.broadcast_one_to_all(np.int32(error is None)))
    if error is not None:
        raise error
    if not ok:
        raise RuntimeError(
            f"{what}: process 0 failed to write the file (its traceback is in its log); "
            f"nothing was written. Received the failure on process {jax.process_index()}."
        )


def gather_flags(flag: bool) -> list[bool]:
    """``flag`` of every process, in process order (a collective when there are
    several: every process must call it). One process: ``[flag]``."""
    if not is_multi_process():
        return [bool(flag)]
    from jax.experimental import multihost_utils

    flags = np.asarray(multihost_utils.process_allgather(np.int32(bool(flag))))
    return [bool(f) for f in flags.reshape(-1)]


def _signature_code(shapes: list[tuple]) -> np.ndarray:
    text = repr(shapes).encode()
    return np.array([len(shapes), zlib.crc32(text) & 0x7FFFFFFF], dtype=np.int32)


def check_same_shapes(shapes: list[tuple], what: str) -> None:
    """Raises a ``ValueError`` on every process when the processes' batch shapes
    ``shapes`` (one tuple per array) differ. A collective: all processes call it."""
    if not is_multi_process():
        return
    from jax.experimental import multihost_utils

    codes = np.asarray(multihost_utils.process_allgather(_signature_code(shapes)))
    if (codes == codes[0]).all():
        return
    mine = jax.process_index()
    others = [p for p in range(len(codes)) if not (codes[p] == codes[mine]).all()]
    raise ValueError(
        f"{what}: the processes fed batches of different shapes, so they cannot run "
        f"one step together; each process must feed its local batch of the same shapes "
        f"(the global batch size divided by the process count). Process {mine} fed "
        f"shapes {shapes}; processes {others} fed others (see their errors)."
    )


def same_seed(seed: int) -> int:
    """Process 0's ``seed`` on every process (a collective when there are several),
    so per-process shuffling of the same arrays picks the same order everywhere."""
    if not is_multi_process():
        return seed
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int32(seed)))
