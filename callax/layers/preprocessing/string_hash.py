"""The two string hashes Keras's ``Hashing`` layer uses (through TensorFlow), in
pure Python so bins match Keras without TensorFlow:

- :func:`fingerprint64`: FarmHash ``Fingerprint64`` (``farmhashna::Hash64``), the
  unsalted hash (``tf.strings.to_hash_bucket_fast``);
- :func:`siphash64`: SipHash-2-4 with a 128-bit key, the salted hash
  (``tf.strings.to_hash_bucket_strong``).

Both follow the published algorithms; all arithmetic is modulo 2**64.

Example:
    >>> from callax.layers.preprocessing.string_hash import fingerprint64
    >>> [fingerprint64(s) % 3 for s in ("A", "B", "C", "D", "E")]
    [1, 0, 1, 1, 2]
"""

from __future__ import annotations

import struct

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _rot(v: int, s: int) -> int:
    return v if s == 0 else ((v >> s) | (v << (64 - s))) & _M


def _f64(b: bytes, i: int) -> int:
    return struct.unpack_from("<Q", b, i)[0]


def _f32(b: bytes, i: int) -> int:
    return struct.unpack_from("<I", b, i)[0]


def _smix(v: int) -> int:
    return v ^ (v >> 47)


def _h16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s: bytes, n: int) -> int:
    if n >= 8:
        mul = _K2 + n * 2
        a = (_f64(s, 0) + _K2) & _M
        b = _f64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _h16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        a = _f32(s, 0)
        return _h16((n + (a << 3)) & _M, _f32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_smix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _mix(a: int, b: int, c: int, d: int, k: int) -> tuple[int, int]:
    """The pair of 64-bit words the medium-length hashes feed to ``_h16``."""
    return (
        (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
        (a + _rot((b + k) & _M, 18) + c) & _M,
    )


def _start(s: bytes, n: int, k: int) -> tuple[int, int, int, int, int]:
    """``mul`` and the four words both medium-length hashes start from (the
    first multiplied by ``k``)."""
    mul = _K2 + n * 2
    a = (_f64(s, 0) * k) & _M
    c = (_f64(s, n - 8) * mul) & _M
    return mul, a, _f64(s, 8), c, (_f64(s, n - 16) * _K2) & _M


def _len17to32(s: bytes, n: int) -> int:
    mul, a, b, c, d = _start(s, n, _K1)
    return _h16(*_mix(a, b, c, d, _K2), mul)


def _len33to64(s: bytes, n: int) -> int:
    mul, a, b, c, d = _start(s, n, _K2)
    y, w = _mix(a, b, c, d, _K2)
    z = _h16(y, w, mul)
    e = (_f64(s, 16) * mul) & _M
    f = _f64(s, 24)
    g = ((y + _f64(s, n - 32)) * mul) & _M
    h = ((z + _f64(s, n - 24)) * mul) & _M
    return _h16(*_mix(e, f, g, h, a), mul)


def _weak32(s: bytes, i: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(data: bytes | str) -> int:
    """FarmHash ``Fingerprint64`` of ``data`` (str is UTF-8 encoded): an unsigned
    64-bit int, stable across platforms and runs."""
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    n = len(s)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_smix((y * _K2 + 113) & _M) * _K2) & _M
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _f64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v[0] + _f64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v[1] + _f64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y = (y + v[0] + _f64(s, i + 40)) & _M
        z = (_rot((z + w[0]) & _M, 33) * _K1) & _M
        v = _weak32(s, i, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _f64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w = ((w[0] + ((n - 1) & 63)) & _M, w[1])
    v = ((v[0] + w[0]) & _M, v[1])
    w = ((w[0] + v[0]) & _M, w[1])
    x = (_rot((x + y + v[0] + _f64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v[1] + _f64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * 9) & _M
    y = (y + v[0] * 9 + _f64(s, i + 40)) & _M
    z = (_rot((z + w[0]) & _M, 33) * mul) & _M
    v = _weak32(s, i, (v[1] * mul) & _M, (x + w[0]) & _M)
    w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _f64(s, i + 16)) & _M)
    z, x = x, z
    return _h16(
        (_h16(v[0], w[0], mul) + _smix(y) * _K0 + z) & _M,
        (_h16(v[1], w[1], mul) + x) & _M,
        mul,
    )


def siphash64(data: bytes | str, key: tuple[int, int]) -> int:
    """SipHash-2-4 of ``data`` under the 128-bit key ``(k0, k1)`` (two uint64)."""
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    k0, k1 = key[0] & _M, key[1] & _M
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(v0, v1, v2, v3, count):
        for _ in range(count):
            v0 = (v0 + v1) & _M
            v1 = _rot(v1, 64 - 13) ^ v0
            v0 = _rot(v0, 64 - 32)
            v2 = (v2 + v3) & _M
            v3 = _rot(v3, 64 - 16) ^ v2
            v0 = (v0 + v3) & _M
            v3 = _rot(v3, 64 - 21) ^ v0
            v2 = (v2 + v1) & _M
            v1 = _rot(v1, 64 - 17) ^ v2
            v2 = _rot(v2, 64 - 32)
        return v0, v1, v2, v3

    n = len(s)
    full = n - n % 8
    for i in range(0, full, 8):
        m = _f64(s, i)
        v3 ^= m
        v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = (n & 0xFF) << 56
    for j, byte in enumerate(s[full:]):
        last |= byte << (8 * j)
    v3 ^= last
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3
