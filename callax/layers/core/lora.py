"""LoRA (low-rank adaptation, Hu et al. 2021) as in Keras 3: ``enable_lora(rank)``
on Dense, EinsumDense, Embedding (and MultiHeadAttention's projections, which
KerasHub's ``backbone.enable_lora`` finds by name).

After ``layer.enable_lora(rank, lora_alpha)``, the layer's kernel is frozen and two
trainable factors ``a`` (``kernel.shape[:-1] + (rank,)``) and ``b``
(``(rank, kernel.shape[-1])``) are added; the layer computes with
``kernel + (lora_alpha / rank) * a @ b``. As in Keras, a saved file holds that
merged kernel (and no factors); loading one assigns the kernel and zeroes the
factors.

Difference from Keras: ``layer.kernel`` stays the (frozen) variable; Keras returns
the merged tensor there. ``layer.effective_kernel`` is the merged value.

Example:
    >>> import callax
    >>> layer = callax.layers.Dense(3)
    >>> _ = layer(callax.ops.ones((1, 4)))
    >>> layer.enable_lora(2)
    >>> [w.name for w in layer.trainable_weights]
    ['bias', 'lora_kernel_a', 'lora_kernel_b']
    >>> layer.lora_kernel_a.shape, layer.lora_kernel_b.shape
    ((4, 2), (2, 3))
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import jax.numpy as jnp
import numpy as np

from callax import initializers


class _MergedWeight:
    """What a weights file holds for a LoRA layer's kernel: reads the merged value;
    assigning sets the kernel and zeroes the LoRA factors (Keras's behaviour)."""

    def __init__(self, layer: Any):
        self.layer = layer
        self.base = getattr(layer, layer._lora_target)
        self.name = self.base.name
        self.shape = self.base.shape
        self.dtype = self.base.dtype
        self.trainable = False

    @property
    def value(self) -> Any:
        return self.layer._lora_merge(self.base.value).astype(self.dtype)

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def assign(self, value: Any) -> None:
        self.base.assign(value)
        for factor in self.layer._lora_factors():
            factor.assign(jnp.zeros(factor.shape, factor.dtype))


_raw = threading.local()


@contextlib.contextmanager
def raw_lora_weights() -> Iterator[None]:
    """Inside, weights files hold LoRA layers' own variables as they are (kernel
    and factors), not Keras's merged kernel: for exact resumes (BackupAndRestore),
    where zeroed factors would stop LoRA training (``a = b = 0`` has no gradient)."""
    depth = getattr(_raw, "depth", 0)
    _raw.depth = depth + 1
    try:
        yield
    finally:
        _raw.depth = depth


class LoraMixin:
    """Adds Keras 3's ``enable_lora`` to a layer whose weight ``_lora_target``
    (``"kernel"``, ``"embeddings"``) is multiplied by its inputs."""

    _lora_target = "kernel"
    _lora_names = ("lora_kernel_a", "lora_kernel_b")
    _lora_regularizer = "kernel_regularizer"
    _lora_constraint = "kernel_constraint"

    def _lora_setup(self, lora_rank: Any, lora_alpha: Any) -> None:
        """Called from ``__init__``: a ``lora_rank`` enables LoRA when built."""
        if lora_rank is not None and (
            not isinstance(lora_rank, (int, np.integer)) or isinstance(lora_rank, bool)
            or lora_rank <= 0
        ):  # fmt: skip
            raise ValueError(
                f"{type(self).__name__} '{self.name}': lora_rank must be a positive int or "
                f"None; received lora_rank={lora_rank!r}."
            )
        self.lora_rank = None if lora_rank is None else int(lora_rank)
        self.lora_alpha = lora_alpha if lora_alpha is not None else self.lora_rank
        self.lora_enabled = False

    def _lora_after_build(self) -> None:
        if self.lora_rank and not self.lora_enabled:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha, _in_build=True)

    def enable_lora(
        self,
        rank: int,
        lora_alpha: float | None = None,
        a_initializer: Any = "he_uniform",
        b_initializer: Any = "zeros",
        _in_build: bool = False,
    ) -> None:
        """Freezes the kernel and adds trainable low-rank factors ``a``, ``b``; the
        layer then computes with ``kernel + (lora_alpha / rank) * a @ b``
        (``lora_alpha`` defaults to ``rank``). Once per layer, after it is built."""
        label = f"{type(self).__name__} '{self.name}'"
        if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) or rank <= 0:
            raise ValueError(f"{label}.enable_lora: rank must be a positive int; received "
                             f"rank={rank!r}.")  # fmt: skip
        if getattr(self, self._lora_constraint, None) is not None:
            raise ValueError(
                f"{label}: LoRA is incompatible with {self._lora_constraint}; remove the "
                f"constraint to enable LoRA. Received {self._lora_constraint}="
                f"{getattr(self, self._lora_constraint)!r}."
            )
        if not self.built and not _in_build:
            raise ValueError(
                f"{label}: cannot enable LoRA on a layer that isn't built yet; call it on "
                "data (or build it) first. Received an unbuilt layer."
            )
        if self.lora_enabled:
            raise ValueError(
                f"{label}: LoRA is already enabled (rank {self.lora_rank}); it can be enabled "
                f"once per layer. Received enable_lora(rank={rank!r})."
            )
        base = getattr(self, self._lora_target)
        regularizer = getattr(self, self._lora_regularizer, None)
        shape = tuple(base.shape)
        a = self.add_weight(
            name=self._lora_names[0], shape=shape[:-1] + (int(rank),), dtype="float32",
            initializer=initializers.get(a_initializer), regularizer=regularizer,
        )  # fmt: skip
        b = self.add_weight(
            name=self._lora_names[1], shape=(int(rank), shape[-1]), dtype="float32",
            initializer=initializers.get(b_initializer), regularizer=regularizer,
        )  # fmt: skip
        setattr(self, self._lora_names[0], a)
        setattr(self, self._lora_names[1], b)
        base.trainable = False
        self._trainable_flags[id(base)] = False  # stays frozen when the layer is unfrozen
        self.lora_enabled = True
        self.lora_rank = int(rank)
        self.lora_alpha = lora_alpha if lora_alpha is not None else int(rank)

    def _lora_factors(self) -> tuple:
        return tuple(getattr(self, n) for n in self._lora_names)

    def _lora_merge(self, base: Any) -> Any:
        """``base + (alpha / rank) * a @ b`` in ``base``'s dtype."""
        a, b = self._lora_factors()
        delta = jnp.matmul(a.value, b.value) * (self.lora_alpha / self.lora_rank)
        return (base + delta.astype(base.dtype)).astype(base.dtype)

    def _lora_value(self) -> Any:
        """The weight the layer computes with (merged when LoRA is enabled)."""
        value = getattr(self, self._lora_target).value
        return self._lora_merge(value) if self.lora_enabled else value

    @property
    def effective_kernel(self) -> Any:
        """The kernel the layer computes with: ``kernel + (alpha / rank) * a @ b``."""
        return self._lora_value()

    def _saved_own_variables(self) -> list | None:
        """A weights file's entries for this layer (Keras's layout: the merged kernel
        in the kernel's place, no factors); ``None`` without LoRA."""
        if not getattr(self, "lora_enabled", False) or getattr(_raw, "depth", 0):
            return None
        base = getattr(self, self._lora_target)
        factors = {id(f) for f in self._lora_factors()}
        merged = _MergedWeight(self)
        own = [merged if v is base else v for v in self._own_variables if id(v) not in factors]
        return own

    def _lora_config(self) -> dict:
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}
