"""keras.ops.nn and keras.ops.math ops (normalizations, pixel shuffles, Fourier/STFT,
segments), rearrange and CTC: against numpy formulas written here and Keras 3 as oracle."""

from __future__ import annotations

import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import ops

rng = np.random.default_rng(2)
X = rng.normal(size=(2, 6, 4, 8)).astype("float32")
XT = X.transpose(0, 3, 1, 2)  # (2, 8, 6, 4) channels first
V = rng.normal(size=(3, 7)).astype("float32")
IMG = rng.normal(size=(2, 3, 7, 6)).astype("float32")  # NCHW
SIG = rng.normal(size=(2, 40)).astype("float32")
SEG = np.array([0, 0, 2, 1, 2, 2], "int32")
DATA = rng.normal(size=(6, 3)).astype("float32")
G8 = rng.normal(size=(8,)).astype("float32")
B8 = rng.normal(size=(8,)).astype("float32")
CPLX_PAIR = (V, V[::-1].copy())


def _close(a, b, tol=1e-4):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _np_adaptive(x, size, reduce):
    """PyTorch bins along axes 1..n of channels-last x."""
    for axis, out in zip(range(1, x.ndim - 1), size):
        n = x.shape[axis]
        pieces = [
            reduce(np.take(x, range(i * n // out, -(-(i + 1) * n // out)), axis), axis)
            for i in range(out)
        ]
        x = np.stack(pieces, axis=axis)
    return x


def _np_unfold(x, k, s, p, d):
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, c, h, w = x.shape
    oh, ow = (h - d * (k - 1) - 1) // s + 1, (w - d * (k - 1) - 1) // s + 1
    out = np.zeros((n, c, k, k, oh, ow), x.dtype)
    for i in range(k):
        for j in range(k):
            for a in range(oh):
                for b in range(ow):
                    out[:, :, i, j, a, b] = x[:, :, a * s + i * d, b * s + j * d]
    return out.reshape(n, c * k * k, oh * ow)


def _np_sparsemax(z):
    """Sparsemax by its definition: tau from cumsum(z) at the last support index."""
    out = np.zeros_like(z)
    for idx in np.ndindex(z.shape[:-1]):
        v = np.sort(z[idx])[::-1]
        k = np.arange(1, len(v) + 1)
        support = 1 + k * v > np.cumsum(v)
        kz = support.sum()
        tau = (np.cumsum(v)[kz - 1] - 1) / kz
        out[idx] = np.maximum(z[idx] - tau, 0)
    return out


def _np_layer_norm(x, g, b, axes, eps=1e-3):
    m = x.mean(axes, keepdims=True)
    return (x - m) / np.sqrt(x.var(axes, keepdims=True) + eps) * g + b


def _np_stft(x, seq, stride, fft, center):
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(seq) / seq)
    left = (fft - seq) // 2
    win = np.pad(win, (left, fft - seq - left))
    if center:
        x = np.pad(x, ((0, 0), (fft // 2, fft // 2)), mode="reflect")
    frames = [x[:, i : i + fft] * win for i in range(0, x.shape[1] - fft + 1, stride)]
    z = np.fft.rfft(np.stack(frames, 1), n=fft)
    return z.real, z.imag


# name, args, kwargs, numpy reference
CASES = [
    ("sparse_sigmoid", (V,), {}, lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("threshold", (V, 0.3, -1.0), {}, lambda x, t, d: np.where(x > t, x, d)),
    ("sparsemax", (V,), {}, _np_sparsemax),
    ("sparsemax", (X,), {"axis": 1},
     lambda x, axis: np.moveaxis(_np_sparsemax(np.moveaxis(x, 1, -1)), -1, 1)),
    ("psnr", (V, V * 0.9, 2.0), {},
     lambda a, b, m: 20 * np.log10(m) - 10 * np.log10(np.mean((a - b) ** 2))),
    ("polar", (np.abs(V), V), {}, lambda r, t: r * np.exp(1j * t)),
    ("layer_normalization", (X, G8, B8), {},
     lambda x, g, b: _np_layer_norm(x, g, b, -1, 1e-7)),
    ("layer_normalization", (X,), {"axis": (1, 2), "epsilon": 1e-5},
     lambda x, axis, epsilon: _np_layer_norm(x, 1, 0, axis, 1e-5)),
    ("rms_normalization", (X, G8), {},
     lambda x, s: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-7) * s),
    ("depth_to_space", (X, 2), {},
     lambda x, b: x.reshape(2, 6, 4, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(2, 12, 8, 2)),
    ("depth_to_space", (XT, 2), {"data_format": "channels_first"},
     lambda x, b, data_format: x.reshape(2, 2, 2, 2, 6, 4).transpose(0, 1, 4, 2, 5, 3)
     .reshape(2, 2, 12, 8)),
    ("space_to_depth", (X, 2), {},
     lambda x, b: x.reshape(2, 3, 2, 2, 2, 8).transpose(0, 1, 3, 2, 4, 5).reshape(2, 3, 2, 32)),
    ("space_to_depth", (X, 2), {"data_format": "channels_first"},
     lambda x, b, data_format: x.reshape(2, 6, 2, 2, 4, 2).transpose(0, 1, 3, 5, 2, 4)
     .reshape(2, 24, 2, 4)),
    ("unfold", (IMG, 3), {}, lambda x, k: _np_unfold(x, 3, 1, 0, 1)),
    ("unfold", (IMG, 2), {"stride": 2, "padding": 1, "dilation": 2},
     lambda x, k, stride, padding, dilation: _np_unfold(x, 2, 2, 1, 2)),
    ("adaptive_average_pool", (X, (4, 3)), {},
     lambda x, s: _np_adaptive(x, s, lambda a, ax: a.mean(ax))),
    ("adaptive_max_pool", (X, (4, 3)), {},
     lambda x, s: _np_adaptive(x, s, lambda a, ax: a.max(ax))),
    ("adaptive_average_pool", (X[:, 0], 5), {},
     lambda x, s: _np_adaptive(x, (5,), lambda a, ax: a.mean(ax))),
    ("adaptive_max_pool", (X[..., None], 3), {},
     lambda x, s: _np_adaptive(x, (3, 3, 3), lambda a, ax: a.max(ax))),
    ("adaptive_average_pool", (IMG, (3, 4)), {"data_format": "channels_first"},
     lambda x, s, data_format: np.moveaxis(
         _np_adaptive(np.moveaxis(x, 1, -1), s, lambda a, ax: a.mean(ax)), -1, 1)),
    ("fft", (CPLX_PAIR,), {}, lambda p: _pair(np.fft.fft(p[0] + 1j * p[1]))),
    ("fft2", (CPLX_PAIR,), {}, lambda p: _pair(np.fft.fft2(p[0] + 1j * p[1]))),
    ("ifft2", (CPLX_PAIR,), {}, lambda p: _pair(np.fft.ifft2(p[0] + 1j * p[1]))),
    ("rfft", (V,), {}, lambda x: _pair(np.fft.rfft(x))),
    ("rfft", (V,), {"fft_length": 10}, lambda x, fft_length: _pair(np.fft.rfft(x, 10))),
    ("irfft", (CPLX_PAIR,), {}, lambda p: np.fft.irfft(p[0] + 1j * p[1])),
    ("irfft", (CPLX_PAIR,), {"fft_length": 9},
     lambda p, fft_length: np.fft.irfft(p[0] + 1j * p[1], 9)),
    ("stft", (SIG, 10, 4, 16), {}, lambda x, a, b, c: _np_stft(x, a, b, c, True)),
    ("stft", (SIG, 16, 5, 16), {"center": False},
     lambda x, a, b, c, center: _np_stft(x, a, b, c, False)),
    ("segment_min", (DATA, SEG), {"num_segments": 4}, None),
    ("segment_prod", (DATA, SEG), {"num_segments": 3}, None),
    ("erfc", (V,), {}, None),
    ("cdist", (V[:2, :3], V[:, 3:6]), {},
     lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))),
    ("view_as_real", (V + 1j * V[::-1],), {}, lambda z: np.stack([z.real, z.imag], -1)),
    ("view_as_complex", (X[..., :2],), {}, lambda x: x[..., 0] + 1j * x[..., 1]),
]  # fmt: skip
IDS = [f"{c[0]}{i}" for i, c in enumerate(CASES)]


def _pair(z):
    return z.real, z.imag


def _segment_reference(name, data, ids, num_segments):
    fill = {"segment_min": np.inf, "segment_prod": 1.0}[name]
    reduce = {"segment_min": np.min, "segment_prod": np.prod}[name]
    return np.stack(
        [
            reduce(data[ids == s], 0) if (ids == s).any() else np.full(data.shape[1:], fill)
            for s in range(num_segments)
        ]
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_numpy(case):
    name, args, kwargs, reference = case
    got = getattr(ops, name)(*args, **kwargs)
    if name.startswith("segment"):
        expected = _segment_reference(name, *args, **kwargs)
    elif name == "erfc":
        import scipy.special

        expected = scipy.special.erfc(args[0])
    else:
        expected = reference(*args, **kwargs)
    _close(got, expected, 2e-4)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_keras(case):
    keras = pytest.importorskip("keras")
    name, args, kwargs, _ = case
    if name == "sparsemax":
        pytest.skip("Keras 3.15's JAX sparsemax rows do not sum to 1; checked against numpy")
    _close(getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs), 2e-4)


@pytest.mark.parametrize(
    "name", ["sparse_sigmoid", "sparsemax", "threshold", "psnr", "polar", "layer_normalization",
             "rms_normalization", "depth_to_space", "space_to_depth", "unfold", "fold",
             "adaptive_average_pool", "adaptive_max_pool", "ctc_loss", "ctc_decode"],
)  # fmt: skip
def test_nn_namespace(name):
    assert getattr(ops.nn, name) is getattr(ops, name)


def test_fold_is_the_adjoint_of_unfold():
    cols = rng.normal(size=(2, 3 * 4, 3 * 2)).astype("float32")
    kw = {"kernel_size": 2, "stride": (2, 3), "padding": 1, "dilation": 1}
    # <unfold(x), cols> == <x, fold(cols)> for every x: fold sums overlapping blocks.
    lhs = np.sum(np.asarray(ops.unfold(IMG[:, :, :5, :5], **kw)) * cols)
    rhs = np.sum(IMG[:, :, :5, :5] * np.asarray(ops.fold(cols, (5, 5), **kw)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4)
    keras = pytest.importorskip("keras")
    _close(ops.fold(cols, (5, 5), **kw), keras.ops.fold(cols, (5, 5), **kw))


@pytest.mark.parametrize(
    "kw", [{}, {"window": "hamming"}, {"window": None}, {"center": False}, {"length": 30}]
)
def test_istft_inverts_stft_and_matches_keras(kw):
    length = kw.pop("length", None)
    spec = ops.stft(SIG, 16, 4, 16, **{k: v for k, v in kw.items()})
    back = ops.istft(spec, 16, 4, 16, length=length, **kw)
    if kw.get("window", "hann") is not None and kw.get("center", True):
        _close(back, SIG[:, : back.shape[-1]], 1e-4)
    keras = pytest.importorskip("keras")
    _close(back, keras.ops.istft(spec, 16, 4, 16, length=length, **kw), 1e-4)


def test_rearrange():
    x = rng.normal(size=(2, 6, 4, 3)).astype("float32")
    _close(ops.rearrange(x, "b h w c -> b c h w"), x.transpose(0, 3, 1, 2))
    _close(ops.rearrange(x, "b (h1 h) w c -> (b h1) h w c", h1=2), x.reshape(4, 3, 4, 3))
    _close(
        ops.rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2),
        x.reshape(2, 3, 2, 2, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 3, 2, 12),
    )
    _close(ops.rearrange(x, "b ... c -> b c ..."), x.transpose(0, 3, 1, 2))
    _close(ops.rearrange(x, "b ... -> b (...)"), x.reshape(2, -1))
    keras = pytest.importorskip("keras")
    for pattern, kw in [("b h w c -> h (b w) c", {}), ("b (h1 h) w c -> (b h1) w h c", {"h1": 3})]:
        _close(ops.rearrange(x, pattern, **kw), keras.ops.rearrange(x, pattern, **kw))
    with pytest.raises(ValueError, match="cannot split an axis of size 6"):
        ops.rearrange(x, "b (h1 h) w c -> b h1 h w c", h1=4)


def test_gradients():
    check_grads(lambda x: ops.sparsemax(x), (V,), 1, rtol=2e-2, eps=1e-3)
    check_grads(lambda x: ops.layer_normalization(x, G8, B8), (X[0, 0],), 1, rtol=2e-2)
    check_grads(lambda x: ops.adaptive_average_pool(x, 3), (X[:, 0],), 1, rtol=2e-2)


def test_symbolic_inputs():
    x = callax.Input((6, 4, 8))
    y = ops.depth_to_space(ops.rms_normalization(x), 2)
    z = ops.adaptive_max_pool(x, (2, 2))
    r = ops.rearrange(x, "b h w c -> b (h w) c")
    real, imag = ops.rfft(x)
    assert tuple(y.shape) == (None, 12, 8, 2) and tuple(z.shape) == (None, 2, 2, 8)
    assert tuple(r.shape) == (None, 24, 8) and tuple(real.shape) == (None, 6, 4, 5)
    model = callax.Model(x, [y, z, r, imag])
    out = model(X)
    _close(out[1], _np_adaptive(X, (2, 2), lambda a, ax: a.max(ax)))
    _close(out[2], X.reshape(2, 24, 8))
    _close(out[3], np.fft.rfft(X).imag)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        ops.psnr(V, V[:2], 1.0)
    with pytest.raises(ValueError, match="tuple of two tensors"):
        ops.fft(V)
    with pytest.raises(ValueError, match="num_segments"):
        ops.segment_min(DATA, SEG)
    with pytest.raises(ValueError, match="3D, 4D or 5D"):
        ops.adaptive_average_pool(V, 2)
    with pytest.raises(ValueError, match="data_format"):
        ops.depth_to_space(X, 2, data_format="nhwc")
