"""InputSpec (checked by Layer.__call__), Wrapper, ActivityRegularization,
RMSNormalization, SpectralNormalization and AdditiveAttention: numpy formulas,
Keras 3 as oracle with the same weights, gradients, configs, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax.layers import (
    ActivityRegularization,
    AdditiveAttention,
    Dense,
    InputSpec,
    RMSNormalization,
    SpectralNormalization,
    Wrapper,
)

RS = np.random.RandomState(0)
X = RS.randn(3, 4, 5).astype("float32")


# ----------------------------------------------------------------- InputSpec
class _Checked(callax.layers.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x


@pytest.mark.parametrize(
    "spec,x,match",
    [
        (InputSpec(ndim=2), X, r"Input 0 of _Checked 'checked'.*expected ndim=2, found ndim=3.*"
                               r"received an input of shape \(3, 4, 5\)"),
        (InputSpec(min_ndim=4), X, r"min_ndim=4, found ndim=3"),
        (InputSpec(max_ndim=2), X, r"max_ndim=2, found ndim=3"),
        (InputSpec(axes={-1: 6}), X, r"axis -1 of input shape to have value 6.*\(3, 4, 5\)"),
        (InputSpec(axes={1: 3}), X, r"axis 1 of input shape to have value 3"),
        (InputSpec(shape=(None, 4, 6)), X, r"shape=\(None, 4, 6\).*\(3, 4, 5\)"),
        (InputSpec(dtype="int32"), X, r"dtype=int32, found dtype=float32"),
    ],
)  # fmt: skip
def test_input_spec_violations_raise_naming_the_layer(spec, x, match):
    layer = _Checked(spec)
    with pytest.raises(ValueError, match=match):
        layer(x)


def test_input_spec_accepts_matching_inputs_and_lists():
    _Checked(InputSpec(ndim=3, axes={-1: 5, 1: 4}, shape=(None, 4, 5)))(X)
    _Checked(InputSpec(min_ndim=2, max_ndim=3, dtype="float32"))(X)
    pair = _Checked([InputSpec(ndim=3), InputSpec(ndim=2)])
    pair([X, X[:, 0]])
    with pytest.raises(ValueError, match=r"Input 1 of _Checked 'checked_2'.*ndim=2, found ndim=3"):
        pair([X, X])
    with pytest.raises(ValueError, match=r"_Checked 'checked_2' expects 2 input.*received 1"):
        pair([X])
    squeezed = _Checked(InputSpec(shape=(None, 4, 1), allow_last_axis_squeeze=True))
    squeezed(X[:, :, 0])


def test_input_spec_is_checked_on_symbolic_inputs_and_under_jit():
    layer = _Checked(InputSpec(axes={-1: 5}))
    layer(callax.Input((7, 5)))  # batch size unknown: fine
    with pytest.raises(ValueError, match=r"_Checked 'checked'.*value 5"):
        layer(callax.Input((7, 6)))
    with pytest.raises(ValueError, match=r"value 5"):
        jax.jit(lambda x: layer(x))(jnp.ones((2, 6)))


def test_input_spec_config_and_bad_axes():
    spec = InputSpec(dtype="float32", ndim=3, axes={-1: 5})
    assert InputSpec.from_config(spec.get_config()).get_config() == spec.get_config()
    assert "ndim=3" in repr(spec)
    with pytest.raises(ValueError, match=r"InputSpec: axis 4 is out of range for rank 2"):
        InputSpec(ndim=2, axes={4: 3})
    with pytest.raises(TypeError, match=r"InputSpec: axes must be a dict.*axes="):
        InputSpec(axes={"a": 3})


def test_keras_layers_exposes_the_same_names():
    keras = pytest.importorskip("keras")
    for name in ("InputSpec", "Wrapper", "ActivityRegularization", "RMSNormalization",
                 "SpectralNormalization", "AdditiveAttention"):  # fmt: skip
        assert hasattr(keras.layers, name) and hasattr(callax.layers, name)


# ------------------------------------------------------------------- Wrapper
class Twice(Wrapper):
    def call(self, x):
        return 2 * self.layer(x)


def test_wrapper_builds_tracks_and_round_trips():
    w = Twice(Dense(3, name="inner"), name="twice")
    y = w(X[:, 0])
    assert w.layer.built and [v.path for v in w.weights] == ["twice/inner/kernel",
                                                             "twice/inner/bias"]  # fmt: skip
    k, b = (np.asarray(v.value) for v in w.weights)
    np.testing.assert_allclose(np.asarray(y), 2 * (X[:, 0] @ k + b), rtol=1e-5)
    cfg = w.get_config()
    assert cfg["layer"]["class_name"] == "Dense" and cfg["layer"]["config"]["units"] == 3
    clone = Twice.from_config(cfg)
    assert isinstance(clone.layer, Dense) and clone.get_config() == cfg
    assert w.compute_output_shape((None, 5)) == (None, 3)
    with pytest.raises(ValueError, match=r"Twice: layer must be a callax layer.*received layer=3"):
        Twice(3)


# --------------------------------------------------------- ActivityRegularization
def test_activity_regularization_loss_and_identity():
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    out = layer(X)
    np.testing.assert_array_equal(np.asarray(out), X)
    want = (0.1 * np.abs(X).sum() + 0.01 * (X**2).sum()) / X.shape[0]
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)
    cfg = layer.get_config()
    assert cfg["l1"] == 0.1 and cfg["l2"] == 0.01 and "activity_regularizer" not in cfg
    assert ActivityRegularization.from_config(cfg).get_config() == cfg


def test_activity_regularization_matches_keras_and_reaches_fit():
    keras = pytest.importorskip("keras")
    k_layer = keras.layers.ActivityRegularization(l1=0.1, l2=0.01)
    k_layer(X)
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    layer(X)
    np.testing.assert_allclose(float(layer.losses[0]), float(k_layer.losses[0]), rtol=1e-5)
    # In training the penalty joins the loss (stateless_call reports it).
    _, _, losses = layer.stateless_call([], [], X, return_losses=True)
    np.testing.assert_allclose(float(losses[0]), float(k_layer.losses[0]), rtol=1e-5)


# ---------------------------------------------------------------- RMSNormalization
@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (2, 1)])
def test_rms_normalization_matches_numpy_and_keras(axis):
    layer = RMSNormalization(axis=axis, epsilon=1e-5)
    layer(X)
    axes = tuple(sorted(a % 3 for a in (axis if isinstance(axis, (list, tuple)) else [axis])))
    scale = RS.randn(*layer.scale.shape).astype("float32")
    layer.set_weights([scale])
    shape = [1, 1, 1]
    for a, s in zip(axes, scale.shape):
        shape[a] = s
    want = X / np.sqrt((X**2).mean(axis=axes, keepdims=True) + 1e-5) * scale.reshape(shape)
    np.testing.assert_allclose(np.asarray(layer(X)), want, rtol=1e-5, atol=1e-6)
    if axis == 1:
        return  # Keras 3.15 broadcasts a single non-last axis's scale against the last axis
    keras = pytest.importorskip("keras")
    k_layer = keras.layers.RMSNormalization(axis=axis, epsilon=1e-5)
    k_layer(X)
    k_layer.set_weights([scale])
    np.testing.assert_allclose(np.asarray(layer(X)), np.asarray(k_layer(X)), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    assert layer.get_config()["axis"] == list(k_layer.get_config()["axis"])
    assert layer.scale.path.endswith("/scale")


def test_rms_normalization_gradients_and_half_precision():
    layer = RMSNormalization()
    layer(X)
    check_grads(lambda s, x: layer.stateless_call([s], [], x)[0],
                (jnp.ones((5,)) * 1.3, jnp.asarray(X[:1])), order=1, modes=["rev"], atol=1e-2,
                rtol=1e-2)  # fmt: skip
    half = RMSNormalization(dtype="mixed_bfloat16")
    out = half(jnp.asarray(X * 1e3, jnp.bfloat16))
    assert out.dtype == jnp.bfloat16 and bool(jnp.all(jnp.isfinite(out.astype(jnp.float32))))


def test_rms_normalization_bad_axis():
    with pytest.raises(
        ValueError, match=r"RMSNormalization 'rms_normalization'.*axis 3.*\(3, 4, 5\)"
    ):
        RMSNormalization(axis=3)(X)


# ----------------------------------------------------------- SpectralNormalization
def test_spectral_normalization_weights_and_power_iteration():
    sn = SpectralNormalization(Dense(4), power_iterations=60)
    x = X[:, 0]
    sn(x)
    assert [v.path for v in sn.weights] == [
        "spectral_normalization/dense/kernel", "spectral_normalization/vector_u",
        "spectral_normalization/dense/bias",
    ]  # fmt: skip
    assert sn.vector_u.shape == (1, 4) and not sn.vector_u.trainable
    assert len(sn.trainable_weights) == 2
    kernel = np.asarray(sn.layer.kernel.value)
    y = sn(x, training=True)
    new_kernel = np.asarray(sn.layer.kernel.value)
    top = np.linalg.svd(kernel, compute_uv=False)[0]
    np.testing.assert_allclose(new_kernel, kernel / top, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.linalg.svd(new_kernel, compute_uv=False)[0], 1.0, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(y), x @ new_kernel, rtol=1e-4, atol=1e-5)
    before = np.asarray(sn.layer.kernel.value)
    sn(x)  # inference leaves the kernel as it is
    np.testing.assert_array_equal(np.asarray(sn.layer.kernel.value), before)


def test_spectral_normalization_matches_keras_from_the_same_state():
    keras = pytest.importorskip("keras")
    x = X[:, 0]
    for power in (1, 3):
        k_sn = keras.layers.SpectralNormalization(keras.layers.Dense(4), power_iterations=power)
        c_sn = SpectralNormalization(Dense(4), power_iterations=power)
        k_sn(x)
        c_sn(x)
        c_sn.set_weights(k_sn.get_weights())
        np.testing.assert_allclose(np.asarray(c_sn(x)), np.asarray(k_sn(x)), rtol=1e-5,
                                   atol=1e-6)  # fmt: skip
        want = np.asarray(k_sn(x, training=True))
        got = np.asarray(c_sn(x, training=True))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        for a, b in zip(c_sn.get_weights(), k_sn.get_weights()):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_spectral_normalization_weights_file_moves_between_keras_and_callax(tmp_path):
    keras = pytest.importorskip("keras")
    x = X[:, 0]

    class KM(keras.Model):
        def __init__(self):
            super().__init__()
            self.sn = keras.layers.SpectralNormalization(keras.layers.Dense(4))

        def call(self, x):
            return self.sn(x)

    class CM(callax.Model):
        def __init__(self):
            super().__init__()
            self.sn = SpectralNormalization(Dense(4))

        def call(self, x):
            return self.sn(x)

    km, cm = KM(), CM()
    km(x)
    cm(x)
    km.sn(x, training=True)  # a non-trivial vector_u
    km.save_weights(tmp_path / "k.weights.h5")
    cm.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(np.asarray(cm(x)), np.asarray(km(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(cm.sn.vector_u.value), np.asarray(km.sn.vector_u.value))
    cm.sn(x, training=True)
    cm.save_weights(tmp_path / "c.weights.h5")
    km.load_weights(tmp_path / "c.weights.h5")
    np.testing.assert_allclose(np.asarray(km(x)), np.asarray(cm(x)), rtol=1e-5, atol=1e-6)


def test_spectral_normalization_config_gradients_and_fit():
    sn = SpectralNormalization(Dense(3, kernel_regularizer="l2"), power_iterations=2)
    x = X[:, 0]
    sn(x)
    cfg = sn.get_config()
    assert cfg["power_iterations"] == 2 and cfg["layer"]["class_name"] == "Dense"
    clone = SpectralNormalization.from_config(cfg)
    assert clone.get_config()["layer"]["config"]["units"] == 3
    assert len(sn.losses) == 1  # the shared kernel's penalty counts once
    tv = [v.value for v in sn.trainable_variables]
    ntv = [v.value for v in sn.non_trainable_variables]
    out, new_ntv = sn.stateless_call(tv, ntv, x, training=True)
    assert not np.allclose(np.asarray(new_ntv[0]), np.asarray(ntv[0]))  # vector_u moved
    grads = jax.grad(lambda tv: jnp.sum(sn.stateless_call(tv, ntv, x, training=True)[0] ** 2))(tv)
    assert all(bool(jnp.all(jnp.isfinite(g))) and float(jnp.abs(g).max()) > 0 for g in grads)
    model = callax.Sequential([callax.Input((5,)), SpectralNormalization(Dense(2))])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(X[:, 0], RS.randn(3, 2).astype("float32"), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


def test_spectral_normalization_embedding_and_bad_input():
    emb = SpectralNormalization(callax.layers.Embedding(6, 3))
    assert emb(np.array([[1, 2]])).shape == (1, 2, 3)
    assert emb.kernel is emb.layer.embeddings
    with pytest.raises(ValueError, match=r"SpectralNormalization 'spectral_normalization_1'.*"
                                         r"power_iterations=0"):  # fmt: skip
        SpectralNormalization(Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match=r"SpectralNormalization.*`kernel` or `embeddings`.*"
                                         r"Dropout"):  # fmt: skip
        SpectralNormalization(callax.layers.Dropout(0.1))(X)
    sn = SpectralNormalization(Dense(2))
    sn(X[:, 0])
    with pytest.raises(ValueError, match=r"SpectralNormalization .*value 5.*\(3, 6\)"):
        sn(np.ones((3, 6), "float32"))


# ---------------------------------------------------------------- AdditiveAttention
Q = RS.randn(2, 3, 4).astype("float32")
V = RS.randn(2, 5, 4).astype("float32")
K = RS.randn(2, 5, 4).astype("float32")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_additive_attention_matches_numpy():
    att = AdditiveAttention()
    out, scores = att([Q, V, K], return_attention_scores=True)
    scale = np.asarray(att.scale.value)
    assert att.scale.shape == (4,)
    raw = (scale * np.tanh(Q[:, :, None, :] + K[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(np.asarray(scores), _softmax(raw), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), _softmax(raw) @ V, rtol=1e-5, atol=1e-6)
    plain = AdditiveAttention(use_scale=False)
    raw = np.tanh(Q[:, :, None, :] + V[:, None, :, :]).sum(-1)
    np.testing.assert_allclose(np.asarray(plain([Q, V])), _softmax(raw) @ V, rtol=1e-5, atol=1e-6)
    assert plain.weights == []


@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_additive_attention_matches_keras_with_masks(use_causal_mask):
    keras = pytest.importorskip("keras")
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    k_att, c_att = keras.layers.AdditiveAttention(), AdditiveAttention()
    kwargs = dict(mask=[q_mask, v_mask], return_attention_scores=True,
                  use_causal_mask=use_causal_mask)  # fmt: skip
    k_att([Q, V, K], **kwargs)
    c_att([Q, V, K], **kwargs)
    weights = [RS.randn(4).astype("float32")]
    k_att.set_weights(weights)
    c_att.set_weights(weights)
    for a, b in zip(c_att([Q, V, K], **kwargs), k_att([Q, V, K], **kwargs)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    c_cfg, k_cfg = c_att.get_config(), k_att.get_config()
    assert {k: v for k, v in c_cfg.items() if k != "name"} == {
        k: v for k, v in k_cfg.items() if k != "name"
    }
    assert AdditiveAttention.from_config(c_cfg).get_config() == c_cfg


def test_additive_attention_dropout_gradients_and_errors():
    att = AdditiveAttention(dropout=0.5, seed=1)
    eval_out = att([Q, V])
    np.testing.assert_allclose(np.asarray(att([Q, V])), np.asarray(eval_out))  # no dropout
    assert not np.allclose(np.asarray(att([Q, V], training=True)), np.asarray(eval_out))
    layer = AdditiveAttention()
    layer([Q, V])
    check_grads(lambda s, q: layer.stateless_call([s], [], [q, jnp.asarray(V[:1])])[0],
                (jnp.ones((4,)) * 0.5, jnp.asarray(Q[:1])), order=1, modes=["rev"], atol=1e-2,
                rtol=1e-2)  # fmt: skip
    with pytest.raises(ValueError, match=r"AdditiveAttention 'additive_attention_2'.*"
                                         r"\[query, value\].*array of shape \(2, 3, 4\)"):  # fmt: skip
        AdditiveAttention()(Q)


# ------------------------------------------------------------- whole model files
def _model_of_every_layer(lib):
    L = lib.layers
    a, b = lib.Input((6, 5)), lib.Input((6, 5))
    h = L.EinsumDense("abc,cd->abd", (6, 4), bias_axes="d", activation="relu")(a)
    h = L.RMSNormalization()(L.PReLU(shared_axes=[1])(h))
    g = L.LeakyReLU()(L.SpectralNormalization(L.Dense(4))(b))
    d = L.Dot(axes=2, normalize=True)([L.AdditiveAttention()([h, g]), g])
    d = L.ActivityRegularization(l1=0.01)(L.Softmax(axis=-1)(d))
    out = L.Dense(2)(L.Flatten()(L.ELU()(L.ReLU(max_value=3.0)(d))))
    return lib.Model([a, b], out)


@pytest.mark.slow
def test_keras_files_with_these_layers_load_both_ways(tmp_path):
    keras = pytest.importorskip("keras")
    x = [RS.randn(4, 6, 5).astype("float32") for _ in range(2)]
    y = RS.randn(4, 2).astype("float32")
    km = _model_of_every_layer(keras)
    km.compile(optimizer="adam", loss="mse")
    km.fit(x, y, epochs=1, verbose=0)
    km.save(tmp_path / "k.keras")
    cm = callax.saving.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(np.asarray(cm.predict(x, verbose=0)), km.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    cm = _model_of_every_layer(callax)
    cm.compile(optimizer="adam", loss="mse")
    sn = next(layer for layer in cm.layers if isinstance(layer, SpectralNormalization))
    u0 = np.asarray(sn.vector_u.value)
    hist = cm.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    assert not np.allclose(np.asarray(sn.vector_u.value), u0)  # power iteration ran in fit
    cm.save(tmp_path / "c.keras")
    back = keras.saving.load_model(tmp_path / "c.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), np.asarray(cm.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
