"""Math ops of ``keras.ops`` (Keras's ``ops.math``): special functions, top-k,
segment reductions, QR, framing, Fourier and short-time Fourier transforms,
pairwise distances and complex-number views.

As in Keras, complex tensors go in and out of the Fourier ops as ``(real, imag)``
tuples of float tensors.

Example:
    >>> from callax import ops
    >>> real, imag = ops.rfft(ops.array([1.0, 0.0, 0.0, 0.0]))
    >>> real.tolist(), imag.tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from callax.ops.dispatch import op

__all__ = [
    "erf", "erfinv", "erfc", "logsumexp", "rsqrt", "top_k", "in_top_k", "segment_sum",
    "segment_max", "qr", "extract_sequences", "fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "segment_min", "segment_prod",
    "cdist", "view_as_complex", "view_as_real",
]  # fmt: skip


@op
def erf(x):
    return jax.scipy.special.erf(x)


@op
def erfinv(x):
    return jax.scipy.special.erfinv(x)


@op
def logsumexp(x, axis=None, keepdims=False):
    return jax.scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)


@op
def rsqrt(x):
    return lax.rsqrt(jnp.asarray(x))


@op
def top_k(x, k, sorted=True):  # noqa: A002
    return lax.top_k(x, k)


@op
def in_top_k(targets, predictions, k):
    """Whether each target index is among the ``k`` largest predictions of its row."""
    targets = jnp.asarray(targets).astype(jnp.int32)
    target_score = jnp.take_along_axis(predictions, targets[:, None], axis=-1)
    higher = jnp.sum(predictions > target_score, axis=-1)
    return higher < k


@op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


@op
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return jax.ops.segment_max(data, segment_ids, num_segments, indices_are_sorted=sorted)


@op
def qr(x, mode="reduced"):
    return jnp.linalg.qr(x, mode=mode)


@op
def extract_sequences(x, sequence_length, sequence_stride):
    n = (x.shape[-1] - sequence_length) // sequence_stride + 1
    idx = jnp.arange(n)[:, None] * sequence_stride + jnp.arange(sequence_length)[None, :]
    return x[..., idx]


def _complex(x, name: str):
    """The complex tensor of a ``(real, imag)`` pair of float tensors."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name} expects a tuple of two tensors (real, imag). Received: x={x!r}")
    real, imag = jnp.asarray(x[0]), jnp.asarray(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            f"{name} expects real and imag parts of the same shape. "
            f"Received: shapes {tuple(real.shape)} and {tuple(imag.shape)}"
        )
    if not (jnp.issubdtype(real.dtype, jnp.floating) and jnp.issubdtype(imag.dtype, jnp.floating)):
        raise ValueError(
            f"{name} expects float real and imag parts. "
            f"Received: dtypes {real.dtype} and {imag.dtype}"
        )
    return jax.lax.complex(real, imag)


def _pair(z):
    return jnp.real(z), jnp.imag(z)


@op
def fft(x):
    """The 1-D FFT over the last axis of ``x = (real, imag)``; returns ``(real, imag)``."""
    return _pair(jnp.fft.fft(_complex(x, "fft")))


@op
def fft2(x):
    """The 2-D FFT over the last two axes of ``x = (real, imag)``."""
    return _pair(jnp.fft.fft2(_complex(x, "fft2")))


@op
def ifft2(x):
    """The inverse 2-D FFT over the last two axes of ``x = (real, imag)``."""
    return _pair(jnp.fft.ifft2(_complex(x, "ifft2")))


@op
def rfft(x, fft_length=None):
    """The FFT of a real signal over its last axis: ``fft_length // 2 + 1`` bins."""
    return _pair(jnp.fft.rfft(x, n=fft_length, axis=-1))


@op
def irfft(x, fft_length=None):
    """The real signal of the one-sided spectrum ``x = (real, imag)`` (last axis)."""
    return jnp.fft.irfft(_complex(x, "irfft"), n=fft_length, axis=-1)


def _stft_window(window, sequence_length: int, fft_length: int, dtype):
    """The analysis window, zero-padded (centred) from ``sequence_length`` to
    ``fft_length``; ``None`` means a rectangular window of ``fft_length``."""
    if window is None:
        return jnp.ones((fft_length,), dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                f"stft/istft window must be 'hann', 'hamming', a tensor or None. "
                f"Received: window={window!r}"
            )
        # Periodic windows (scipy.signal.get_window's default, used by Keras).
        n = jnp.arange(sequence_length, dtype=jnp.float64 if dtype == jnp.float64 else dtype)
        a = 0.5 if window == "hann" else 0.54
        win = (a - (1 - a) * jnp.cos(2 * math.pi * n / sequence_length)).astype(dtype)
    else:
        win = jnp.asarray(window, dtype)
        if win.shape != (sequence_length,):
            raise ValueError(
                f"stft/istft window must have shape (sequence_length,) = ({sequence_length},). "
                f"Received: window.shape={tuple(win.shape)}"
            )
    left = (fft_length - sequence_length) // 2
    return jnp.pad(win, (left, fft_length - sequence_length - left))


@op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of real signals over the last axis.

    Returns ``(real, imag)`` of shape ``(..., num_frames, fft_length // 2 + 1)``.
    With ``center``, the signal is reflect-padded by ``fft_length // 2`` on each side.
    """
    x = jnp.asarray(x)
    if x.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"stft expects a float32 or float64 signal. Received: dtype={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            "stft expects fft_length >= sequence_length. "
            f"Received: sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _stft_window(window, sequence_length, fft_length, x.dtype)
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    num_frames = 1 + (x.shape[-1] - fft_length) // sequence_stride
    starts = jnp.arange(num_frames) * sequence_stride
    frames = x[..., starts[:, None] + jnp.arange(fft_length)[None, :]]
    return _pair(jnp.fft.rfft(frames * win, n=fft_length, axis=-1))


@op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of :func:`stft`: ``x = (real, imag)`` of shape ``(..., frames, bins)``.

    Overlap-adds the windowed frames and divides by the summed squared window.
    """
    spectrum = _complex(x, "istft")
    if spectrum.ndim < 2:
        raise ValueError(
            "istft expects a spectrum of rank >= 2 (..., frames, bins). "
            f"Received: shape={tuple(spectrum.shape)}"
        )
    dtype = jnp.real(spectrum).dtype
    win = _stft_window(window, sequence_length, fft_length, dtype)
    frames = jnp.fft.irfft(spectrum, n=fft_length, axis=-1) * win
    num_frames = frames.shape[-2]
    total = fft_length + sequence_stride * (num_frames - 1)
    positions = (jnp.arange(num_frames)[:, None] * sequence_stride + jnp.arange(fft_length)).ravel()
    signal = jnp.zeros((*frames.shape[:-2], total), dtype)
    signal = signal.at[..., positions].add(frames.reshape(*frames.shape[:-2], -1))
    norm = jnp.zeros((total,), dtype).at[positions].add(jnp.tile(win * win, num_frames))
    signal = signal * win.sum() / jnp.where(norm > 1e-10, norm, 1.0)
    # Keras's scaling: by the window sum, or by the stride for a rectangular window.
    signal = signal / (win.sum() if window is not None else sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start : start + length]
    return signal[..., start : total - fft_length // 2] if center else signal


def _need_num_segments(num_segments, name: str) -> None:
    if num_segments is None:
        raise ValueError(
            f"{name} needs num_segments (a static output size under JAX). "
            "Received: num_segments=None"
        )


@op
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The minimum of ``data`` rows per segment id (empty segments hold the max value)."""
    _need_num_segments(num_segments, "segment_min")
    return jax.ops.segment_min(data, segment_ids, num_segments, indices_are_sorted=sorted)


@op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The product of ``data`` rows per segment id (empty segments hold 1)."""
    _need_num_segments(num_segments, "segment_prod")
    return jax.ops.segment_prod(data, segment_ids, num_segments, indices_are_sorted=sorted)


@op
def erfc(x):
    """The complementary error function ``1 - erf(x)``."""
    return jax.scipy.special.erfc(x)


@op
def cdist(x, y):
    """Euclidean distances between the rows of ``x`` (..., P, M) and ``y`` (..., R, M)."""
    if jnp.ndim(x) < 2 or jnp.ndim(y) < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            "cdist expects tensors of rank >= 2 with the same last dimension. "
            f"Received: x.shape={tuple(jnp.shape(x))}, y.shape={tuple(jnp.shape(y))}"
        )
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


@op
def view_as_complex(x):
    """A complex tensor from a real one whose last axis (size 2) holds (real, imag)."""
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            f"view_as_complex expects a last dimension of size 2. Received: shape={x.shape}"
        )
    return jax.lax.complex(x[..., 0], x[..., 1])


@op
def view_as_real(x):
    """A real tensor with a new last axis of size 2 holding (real, imag)."""
    x = jnp.asarray(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)
