"""``_RandomLayer``: the base of the noise and structured-dropout layers
(GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D). They are the
identity unless training, and draw from a
:class:`~callax.core.seed_generator.SeedGenerator` (state in a variable, so they work
eagerly, in ``stateless_call`` and in compiled steps)."""

from __future__ import annotations

from typing import Any

from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator


def _check_rate(layer: Layer, rate: Any, upper_inclusive: bool = False) -> float:
    ok = isinstance(rate, (int, float)) and not isinstance(rate, bool)
    ok = ok and (0 <= rate <= 1 if upper_inclusive else 0 <= rate < 1)
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': rate must be a number in {interval}; "
            f"received rate={rate!r}."
        )
    return float(rate)


class _RandomLayer(Layer):
    _kernel_call = "training"  # a compiled kernel only pays off when noise is drawn

    def __init__(self, seed: int | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed, name=f"{self.name}_seed_generator")
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
