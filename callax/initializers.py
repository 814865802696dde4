"""Weight initializers, by name or object, seedable.

They draw with NumPy on the host rather than ``jax.random``: a JAX draw compiles
once per new weight shape (0.3-0.5 s each on a small CPU), which made a model's
first call take seconds. NumPy has no such cost; the values move to the device
once, when the variable is created.

Example:
    >>> from callax import initializers
    >>> init = initializers.get("glorot_uniform")
    >>> init((64, 10)).shape
    (64, 10)
    >>> (initializers.HeNormal(seed=3)((4, 4)) == initializers.HeNormal(seed=3)((4, 4))).all()
    np.True_
"""

from __future__ import annotations

import math

import numpy as np

from callax.core import config
from callax.core.registry import NameRegistry
from callax.core.seed_generator import make_default_seed


def _np_dtype(dtype):
    import jax.numpy as jnp

    return jnp.dtype(dtype or config.floatx())


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> array``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype).")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """An initializer with a seed: an int gives the same values on every call;
    ``None`` draws a new seed each call from the global RNG."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"{type(self).__name__}: seed must be an int or None; received {seed!r}."
            )
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed if self.seed is not None else make_default_seed())

    def get_config(self) -> dict:
        return {"seed": self.seed}


def _cast(x, dtype):
    dtype = _np_dtype(dtype)
    return np.asarray(x).astype(dtype)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _np_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, _np_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, _np_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class _MeanStddev(RandomInitializer):
    """The arguments and config of the normal initializers (``mean``, ``stddev``)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomNormal(_MeanStddev):
    def __call__(self, shape, dtype=None):
        return _cast(self._rng().normal(self.mean, self.stddev, shape), dtype)


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return _cast(self._rng().uniform(self.minval, self.maxval, shape), dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated(rng: np.random.Generator, shape, stddev) -> np.ndarray:
    """Normal samples with ``|x| <= 2`` (resampled), scaled by ``stddev``."""
    size = int(np.prod(shape, dtype=np.int64))
    out = rng.standard_normal(size)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return (out * stddev).reshape(shape)


class TruncatedNormal(_MeanStddev):
    def __call__(self, shape, dtype=None):
        return _cast(_truncated(self._rng(), shape, self.stddev) + self.mean, dtype)


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[float, float]:
    """``(fan_in, fan_out)`` for a kernel: dense ``(in, out)`` or conv ``(*k, in, out)``,
    or the products over ``input_axes`` / ``output_axes`` when both are given
    (einsum-style kernels such as attention's ``(dim, heads, key_dim)``)."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (float(np.prod([shape[a] for a in input_axes])),
                float(np.prod([shape[a] for a in output_axes])))  # fmt: skip
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


# The constant that turns the stddev of a normal truncated at two standard
# deviations back into the requested one: the stddev of N(0, 1) cut to [-2, 2].
_TRUNC_STD = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    """Samples with variance ``scale / n``, ``n`` the fan chosen by ``mode``."""

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
        input_axes=None, output_axes=None,
    ):  # fmt: skip
        super().__init__(seed)
        self.input_axes, self.output_axes = input_axes, output_axes
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive; received {scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg'; received {mode!r}."
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(
                "VarianceScaling: distribution must be 'truncated_normal', "
                f"'untruncated_normal' or 'uniform'; received {distribution!r}."
            )
        self.scale, self.mode = scale, mode
        self.distribution = "truncated_normal" if distribution == "normal" else distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated(rng, shape, math.sqrt(variance) / _TRUNC_STD)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        return _cast(values, dtype)

    def get_config(self):
        return {
            "seed": self.seed, "scale": self.scale, "mode": self.mode,
            "distribution": self.distribution, "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }  # fmt: skip


def _variance_scaling_alias(name, scale, mode, distribution):
    class Alias(VarianceScaling):
        def __init__(self, seed=None, input_axes=None, output_axes=None):
            super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

        def get_config(self):
            return {
                "seed": self.seed,
                "input_axes": self.input_axes,
                "output_axes": self.output_axes,
            }

    Alias.__name__ = Alias.__qualname__ = name
    Alias.__doc__ = f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    return Alias


GlorotUniform = _variance_scaling_alias("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling_alias("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling_alias("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling_alias("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling_alias("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling_alias("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR of a normal sample."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2; received {tuple(shape)}.")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # a uniform distribution over orthogonal matrices
        if rows < cols:
            q = q.T
        return _cast(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape; received {tuple(shape)}.")
        return _cast(self.gain * np.eye(*shape), dtype)

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity,
    "uniform": RandomUniform, "normal": RandomNormal,
}  # fmt: skip
_REGISTRY = NameRegistry(
    "initializer",
    "keras.initializers",
    classes=_ALIASES.values(),
    aliases=_ALIASES,
    extra_class_names={"IdentityInitializer": Identity},
    base=Initializer,
)

# Keras's function-style names (`keras.initializers.glorot_uniform`).
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal, he_uniform, he_normal = (
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
)
lecun_uniform, lecun_normal, orthogonal, identity = LecunUniform, LecunNormal, Orthogonal, Identity
variance_scaling = VarianceScaling


# One rule for every family: callax.core.registry.
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize
