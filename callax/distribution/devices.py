"""Devices and processes: ``list_devices``, ``get_device_count``, ``initialize``.

Everything here is JAX's own runtime: ``jax.devices`` lists the accelerators and
``jax.distributed.initialize`` joins the processes of a multi-host job.

Example:
    >>> from callax import distribution
    >>> distribution.list_devices("cpu")[0]
    'cpu:0'
"""

from __future__ import annotations

import os
from typing import Any

import jax


def _jax_devices(device_type: str | None) -> list:
    if device_type is None:
        return jax.devices()
    if not isinstance(device_type, str):
        raise TypeError(
            f"list_devices: device_type must be a string such as 'cpu', 'gpu' or 'tpu'; "
            f"received {device_type!r}."
        )
    try:
        return jax.devices(device_type.lower())
    except RuntimeError as e:
        raise ValueError(
            f"list_devices: no {device_type!r} devices are available to JAX; "
            f"received device_type={device_type!r}."
        ) from e


def list_devices(device_type: str | None = None) -> list[str]:
    """All devices of ``device_type`` (default: JAX's default backend), across all
    processes, as ``"platform:id"`` strings (``"gpu:0"``), as Keras names them.

    Example:
        >>> len(list_devices()) == jax.device_count()
        True
    """
    return [f"{d.platform}:{d.id}" for d in _jax_devices(device_type)]


def get_device_count(device_type: str | None = None) -> int:
    """How many devices of ``device_type`` JAX sees (all processes)."""
    return len(_jax_devices(device_type))


def to_jax_device(device: Any) -> Any:
    """A ``jax.Device`` for a ``"platform:id"`` string (a device passes through)."""
    if not isinstance(device, str):
        return device
    platform, _, index = device.partition(":")
    for candidate in _jax_devices(platform or None):
        if str(candidate.id) == index:
            return candidate
    raise ValueError(
        f"DeviceMesh: unknown device {device!r}; expected one of {list_devices(platform)}; "
        f"received {device!r}."
    )


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as e:
        raise ValueError(f"initialize: environment variable {name} must be an int; "
                         f"received {raw!r}.") from e  # fmt: skip


def initialize(
    job_addresses: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    **jax_kwargs: Any,
) -> None:
    """Joins this process to a multi-process job (``jax.distributed.initialize``).

    Args:
        job_addresses: ``"host:port"`` of the coordinator, or a comma-separated list
            of every job's address (the first is the coordinator). Default: the
            ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` environment variable.
        num_processes: number of processes. Default:
            ``KERAS_DISTRIBUTION_NUM_PROCESSES``.
        process_id: this process's id in ``[0, num_processes)``. Default:
            ``KERAS_DISTRIBUTION_PROCESS_ID``.

        **jax_kwargs: passed on to ``jax.distributed.initialize`` (JAX 0.10:
            ``heartbeat_timeout_seconds``, ``initialization_timeout``,
            ``shutdown_timeout_seconds``, ``local_device_ids``, ...).

    Left unset everywhere, JAX detects the cluster itself (TPU pods, SLURM, ...).
    Call it first, before any computation. As in Keras, when no random seed was
    set (``callax.utils.set_random_seed``), process 0's seed is set on every
    process, so the processes initialize the same weights (JAX refuses to lay out
    values that differ between processes). See docs/scaling.md.
    """
    if job_addresses is None:
        job_addresses = os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES") or None
    if num_processes is None:
        num_processes = _env_int("KERAS_DISTRIBUTION_NUM_PROCESSES")
    if process_id is None:
        process_id = _env_int("KERAS_DISTRIBUTION_PROCESS_ID")
    coordinator = job_addresses
    if job_addresses and "," in job_addresses:
        addresses = [a.strip() for a in job_addresses.split(",") if a.strip()]
        if num_processes is not None and num_processes != len(addresses):
            raise ValueError(
                f"initialize: job_addresses lists {len(addresses)} jobs but "
                f"num_processes={num_processes}; received job_addresses={job_addresses!r}."
            )
        coordinator = addresses[0]
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        **jax_kwargs,
    )
    _same_random_seed()


def _same_random_seed() -> None:
    """Seeds every process with process 0's seed unless a seed was set (Keras's
    ``initialize_rng``)."""
    from callax.core import seed_generator

    if jax.process_count() == 1 or seed_generator._global["seed"] is not None:
        return
    from callax.distribution.multihost import same_seed
    from callax.utils.rng import set_random_seed

    set_random_seed(same_seed(int(seed_generator.make_default_seed()) & 0x7FFFFFFF))
