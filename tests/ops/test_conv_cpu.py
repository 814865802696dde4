"""The CPU convolution route (``callax.ops.convolution.conv_general``): values, both
gradients, jvp, vmap and second order against ``lax.conv_general_dilated``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import callax
from callax import ops
from callax.ops import convolution
from callax.ops.convolution import _NHWC, conv_general, cpu_conv_plan

pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU route only")


def _native(x, k, strides, padding, dilation=(1, 1), dn=_NHWC, groups=1):
    return lax.conv_general_dilated(
        x, k, strides, padding, rhs_dilation=dilation, dimension_numbers=dn,
        feature_group_count=groups,
    )  # fmt: skip


def _data(xshape, kshape, seed=0):
    kx, kk, kg = jax.random.split(jax.random.key(seed), 3)
    return jax.random.normal(kx, xshape), jax.random.normal(kk, kshape), kg


# (input shape, kernel shape, strides, padding): odd sizes, stride 1 and 2,
# same / valid / explicit (asymmetric) padding, 1 to 16 channels.
CASES = [
    ((4, 9, 9, 1), (3, 3, 1, 5), (1, 1), "VALID"),
    ((4, 9, 9, 1), (3, 3, 1, 5), (2, 2), "SAME"),
    ((3, 8, 7, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    ((3, 8, 7, 3), (2, 3, 3, 4), (2, 1), "VALID"),
    ((2, 11, 10, 8), (3, 3, 8, 6), (2, 2), "SAME"),
    ((2, 10, 10, 16), (5, 5, 16, 4), (1, 1), ((1, 2), (0, 3))),
    ((2, 12, 12, 6), (3, 3, 6, 7), (2, 2), ((1, 1), (1, 1))),
]
# Every formulation the route can run, whatever the measured rule picks today.
PLANS = [("taps", w) for w in convolution.WEIGHT_FORMS] + [("native", "native"), ("taps", "native")]


def _routed(plan, strides, padding):
    def conv(x, k):
        pads = convolution._explicit_pads(padding, x.shape[1:3], k.shape[:2], strides)
        return convolution._conv2d_cpu(x, k, strides, pads, *plan)

    return conv


def test_the_rule_routes_single_channel_2d_convolutions():
    assert cpu_conv_plan((128, 28, 28, 1), (3, 3, 1, 32), "float32", (1, 1), (1, 1), 1, _NHWC)
    assert cpu_conv_plan((2, 9, 9, 1), (3, 3, 1, 4), "float32", (2, 2), (1, 1), 1, _NHWC)
    assert not cpu_conv_plan((128, 13, 13, 32), (3, 3, 32, 64), "float32", (1, 1), (1, 1), 1, _NHWC)


@pytest.mark.parametrize("xshape,kshape,strides,padding", CASES)
def test_value_and_both_gradients_match_xla(xshape, kshape, strides, padding):
    x, k, kg = _data(xshape, kshape)
    ref = jax.jit(lambda x, k: _native(x, k, strides, padding))
    g = jax.random.normal(kg, ref(x, k).shape)
    d_ref = jax.grad(lambda x, k: jnp.vdot(ref(x, k), g), argnums=(0, 1))(x, k)
    for plan in PLANS:
        ours = jax.jit(_routed(plan, strides, padding))
        np.testing.assert_allclose(ours(x, k), ref(x, k), rtol=1e-5, atol=1e-4, err_msg=str(plan))
        d_ours = jax.grad(lambda x, k, f=ours: jnp.vdot(f(x, k), g), argnums=(0, 1))(x, k)
        for a, b in zip(d_ours, d_ref):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4, err_msg=str(plan))


def test_kernel_gradient_only_and_input_gradient_only():
    x, k, _ = _data((3, 9, 9, 1), (3, 3, 1, 4))
    ours = lambda x, k: conv_general(x, k, (1, 1), "SAME", (1, 1), _NHWC).sum()  # noqa: E731
    ref = lambda x, k: _native(x, k, (1, 1), "SAME").sum()  # noqa: E731
    np.testing.assert_allclose(
        jax.grad(ours, 1)(x, k), jax.grad(ref, 1)(x, k), rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(
        jax.grad(ours, 0)(x, k), jax.grad(ref, 0)(x, k), rtol=1e-5, atol=1e-4
    )


def test_finite_differences_on_a_tiny_case():
    x, k, _ = _data((1, 4, 4, 1), (2, 2, 1, 2))
    x, k = x.astype(jnp.float64) if jax.config.x64_enabled else x, k
    f = lambda k: jnp.sum(conv_general(x, k, (1, 1), "VALID", (1, 1), _NHWC) ** 2)  # noqa: E731
    grad = np.asarray(jax.grad(f)(k))
    eps = 1e-2
    kn = np.asarray(k, np.float64)
    for idx in np.ndindex(kn.shape):
        up, down = kn.copy(), kn.copy()
        up[idx] += eps
        down[idx] -= eps
        fd = (float(f(jnp.asarray(up, k.dtype))) - float(f(jnp.asarray(down, k.dtype)))) / (2 * eps)
        assert abs(fd - grad[idx]) <= 2e-2 * max(1.0, abs(fd)), (idx, fd, grad[idx])


def test_jvp_vmap_and_second_order():
    x, k, kg = _data((2, 7, 7, 1), (3, 3, 1, 2))
    ours = lambda x, k: conv_general(x, k, (1, 1), "SAME", (1, 1), _NHWC)  # noqa: E731
    assert cpu_conv_plan(x.shape, k.shape, x.dtype, (1, 1), (1, 1), 1, _NHWC)
    ref = lambda x, k: _native(x, k, (1, 1), "SAME")  # noqa: E731
    tx, tk = jax.random.normal(kg, x.shape), jax.random.normal(kg, k.shape)
    for a, b in zip(jax.jvp(ours, (x, k), (tx, tk)), jax.jvp(ref, (x, k), (tx, tk))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    # vmap over a leading axis of both inputs (per-example kernels).
    xs, ks = jnp.stack([x, 2 * x]), jnp.stack([k, -k])
    np.testing.assert_allclose(jax.vmap(ours)(xs, ks), jax.vmap(ref)(xs, ks), rtol=1e-5, atol=1e-4)
    dv = jax.vmap(jax.grad(lambda x, k: ours(x, k).sum(), 1))(xs, ks)
    dr = jax.vmap(jax.grad(lambda x, k: ref(x, k).sum(), 1))(xs, ks)
    np.testing.assert_allclose(dv, dr, rtol=1e-5, atol=1e-4)

    # grad of grad: the kernel gradient's norm, differentiated again in x and k.
    def second(conv):
        def gnorm(x, k):
            return jnp.sum(jax.grad(lambda k: jnp.sum(jnp.tanh(conv(x, k))), 0)(k) ** 2)

        return jax.grad(gnorm, argnums=(0, 1))(x, k)

    for a, b in zip(second(ours), second(ref)):  # float32 sums of terms up to ~1e2
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * float(jnp.abs(b).max()))
    hess = jax.hessian(lambda k: jnp.sum(jnp.tanh(ours(x, k))))(k)
    hess_ref = jax.hessian(lambda k: jnp.sum(jnp.tanh(ref(x, k))))(k)
    np.testing.assert_allclose(hess, hess_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "xshape,kshape,dtype,strides,dilation,groups,dn",
    [
        ((2, 9, 9, 1), (3, 3, 1, 4), "float32", (1, 1), (2, 2), 1, _NHWC),  # dilation
        ((2, 9, 9, 2), (3, 3, 1, 4), "float32", (1, 1), (1, 1), 2, _NHWC),  # groups
        ((2, 9, 9, 1), (1, 1, 1, 4), "float32", (1, 1), (1, 1), 1, _NHWC),  # 1x1
        ((2, 9, 9, 1), (3, 3, 1, 4), "bfloat16", (1, 1), (1, 1), 1, _NHWC),  # dtype
        ((2, 9, 9, 8), (3, 3, 8, 4), "float32", (1, 1), (1, 1), 1, _NHWC),  # 8 channels
        ((2, 9, 1), (3, 1, 4), "float32", (1,), (1,), 1, convolution._dimension_numbers(1, False)),
        ((2, 1, 9, 9), (3, 3, 1, 4), "float32", (1, 1), (1, 1), 1,
         convolution._dimension_numbers(2, True)),  # channels_first
    ],
)  # fmt: skip
def test_everything_else_keeps_xla_native_path(
    xshape, kshape, dtype, strides, dilation, groups, dn
):
    assert cpu_conv_plan(xshape, kshape, dtype, strides, dilation, groups, dn) is None
    x, k, _ = _data(xshape, kshape)
    x, k = x.astype(dtype), k.astype(dtype)
    ours = jax.grad(
        lambda x, k: conv_general(x, k, strides, "SAME", dilation, dn, groups).sum(), (0, 1)
    )
    ref = jax.grad(lambda x, k: _native(x, k, strides, "SAME", dilation, dn, groups).sum(), (0, 1))
    for a, b in zip(ours(x, k), ref(x, k)):
        np.testing.assert_array_equal(a, b)


def test_other_backends_keep_xla_native_path(monkeypatch):
    monkeypatch.setattr(convolution.jax, "default_backend", lambda: "gpu")
    assert cpu_conv_plan((8, 9, 9, 1), (3, 3, 1, 8), "float32", (1, 1), (1, 1), 1, _NHWC) is None


def test_ops_conv_and_conv2d_layer_use_the_route_and_match():
    seen = []
    real = convolution._conv2d_cpu
    convolution._conv2d_cpu = lambda *a: seen.append(a[4:]) or real(*a)
    x, k, _ = _data((2, 10, 10, 1), (3, 3, 1, 5))
    ref = _native(x, k, (2, 2), "SAME")
    np.testing.assert_allclose(ops.conv(x, k, 2, "same"), ref, rtol=1e-5, atol=1e-5)
    layer = callax.layers.Conv2D(5, 3, strides=2, padding="same", use_bias=False)
    layer.build(x.shape)
    layer.kernel.assign(k)
    try:
        np.testing.assert_allclose(layer(x), ref, rtol=1e-5, atol=1e-5)
    finally:
        convolution._conv2d_cpu = real
    assert seen == [("taps", "taps")] * 2
