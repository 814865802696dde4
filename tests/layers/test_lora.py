"""LoRA (``enable_lora``) on Dense, EinsumDense, Embedding and MultiHeadAttention's
projections: Keras 3 oracle with the same weights (outputs, gradients), freezing,
config, saving (Keras's layout: the merged kernel), errors, KerasHub's
``backbone.enable_lora`` in a subprocess."""

import os

import jax
import numpy as np
import pytest

import callax

RS = np.random.RandomState(0)
X = RS.randn(3, 4).astype("float32")


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def _close(a, b, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-5)


def _twin(k_layer, c_layer, x, rank=2, alpha=None, seed=1):
    """Builds both, copies base weights, enables LoRA, copies random factors."""
    k_layer(x)
    c_layer(x)
    c_layer.set_weights(k_layer.get_weights())
    k_layer.enable_lora(rank, lora_alpha=alpha)
    c_layer.enable_lora(rank, lora_alpha=alpha)
    rng = np.random.RandomState(seed)
    values = [rng.randn(*w.shape).astype("float32") * 0.3 for w in k_layer.weights]
    k_layer.set_weights(values)
    c_layer.set_weights(values)


def test_dense_lora_matches_keras_outputs_and_gradients():
    keras = _keras()
    k, c = keras.layers.Dense(5), callax.layers.Dense(5)
    _twin(k, c, X, rank=2, alpha=6.0)
    assert [w.name for w in c.weights] == [w.name for w in k.weights]
    assert [w.name for w in c.trainable_weights] == [w.name for w in k.trainable_weights]
    _close(c(X), k(X))
    _close(c.effective_kernel, k.kernel)

    def loss_c(tv):
        return (c.stateless_call(tv, [v.value for v in c.non_trainable_variables], X)[0] ** 2).sum()

    def loss_k(tv):
        ntv = [v.value for v in k.non_trainable_variables]
        return (k.stateless_call(tv, ntv, X)[0] ** 2).sum()

    g_c = jax.grad(loss_c)([v.value for v in c.trainable_variables])
    g_k = jax.grad(loss_k)([v.value for v in k.trainable_variables])
    for a, b in zip(g_c, g_k):
        _close(a, b, atol=1e-4)


def test_einsum_dense_and_embedding_lora_match_keras():
    keras = _keras()
    kw = {"equation": "ab,bcd->acd", "output_shape": (2, 3), "bias_axes": "cd"}
    k, c = keras.layers.EinsumDense(**kw), callax.layers.EinsumDense(**kw)
    _twin(k, c, X)
    assert c.lora_kernel_a.shape == k.lora_kernel_a.shape == (4, 2, 2)
    _close(c(X), k(X))
    ids = np.array([[1, 2, 9], [0, 3, 3]])
    k, c = keras.layers.Embedding(10, 4), callax.layers.Embedding(10, 4)
    _twin(k, c, ids, rank=3)
    assert [w.name for w in c.weights] == [w.name for w in k.weights]
    _close(c(ids), k(ids))


def test_kernel_frozen_factors_trainable_and_stays_frozen():
    layer = callax.layers.Dense(3)
    layer(X)
    layer.enable_lora(2)
    assert [w.name for w in layer.non_trainable_weights] == ["kernel"]
    layer.trainable = False
    layer.trainable = True
    assert [w.name for w in layer.non_trainable_weights] == ["kernel"]
    # b starts at zero: the output is the base layer's
    _close(layer(X), X @ np.asarray(layer.kernel.value) + np.asarray(layer.bias.value))


def test_fit_updates_only_lora_factors():
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(2)])
    model.layers[0].enable_lora(1)
    kernel = np.asarray(model.layers[0].kernel.value).copy()
    model.compile("sgd", "mse")
    model.fit(X, np.ones((3, 2), "float32"), epochs=2, verbose=0)
    np.testing.assert_array_equal(np.asarray(model.layers[0].kernel.value), kernel)
    assert np.abs(np.asarray(model.layers[0].lora_kernel_b.value)).sum() > 0


def test_config_round_trip_enables_lora_when_built():
    layer = callax.layers.Dense(3, lora_rank=2, lora_alpha=4.0)
    layer(X)
    assert layer.lora_enabled and layer.lora_kernel_a.shape == (4, 2)
    cfg = layer.get_config()
    assert (cfg["lora_rank"], cfg["lora_alpha"]) == (2, 4.0)
    again = callax.layers.Dense.from_config(cfg)
    assert again.get_config() == cfg
    assert "lora_rank" not in callax.layers.Dense(3).get_config()  # as in Keras


def test_save_load_keeps_predictions_and_writes_keras_layout(tmp_path):
    model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(3)])
    model.layers[0].enable_lora(2)
    model.layers[0].lora_kernel_b.assign(RS.randn(2, 3).astype("float32"))
    want = np.asarray(model(X))
    path = str(tmp_path / "lora.keras")
    model.save(path)
    loaded = callax.saving.load_model(path)
    assert loaded.layers[0].lora_enabled
    _close(loaded(X), want)
    # Keras's layout: the merged kernel in the file, the factors zeroed on load.
    np.testing.assert_array_equal(np.asarray(loaded.layers[0].lora_kernel_b.value), 0.0)
    keras = _keras()
    k_model = keras.saving.load_model(path)
    _close(k_model(X), want)


def test_keras_saved_lora_model_loads(tmp_path):
    keras = _keras()
    k_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    k_model.layers[0].enable_lora(2)
    k_model.layers[0].lora_kernel_b.assign(RS.randn(2, 3).astype("float32"))
    path = str(tmp_path / "k.keras")
    k_model.save(path)
    loaded = callax.saving.load_model(path)
    _close(loaded(X), k_model(X))


def test_mha_projections_accept_lora():
    mha = callax.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q = RS.randn(2, 3, 4).astype("float32")
    before = np.asarray(mha(q, q))
    mha.query_dense.enable_lora(2)
    _close(mha(q, q), before)  # b = 0
    mha.query_dense.lora_kernel_b.assign(np.ones((2, 3), "float32"))
    assert not np.allclose(np.asarray(mha(q, q)), before)


def test_errors():
    with pytest.raises(ValueError, match="isn't built yet"):
        callax.layers.Dense(3).enable_lora(2)
    layer = callax.layers.Dense(3, kernel_constraint="max_norm")
    layer(X)
    with pytest.raises(ValueError, match="incompatible with kernel_constraint"):
        layer.enable_lora(2)
    layer = callax.layers.Dense(3)
    layer(X)
    layer.enable_lora(2)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="rank must be a positive int"):
        callax.layers.Dense(3).build((None, 4)) or callax.layers.Dense(3, lora_rank=0)


KERAS_HUB = """
import json
model = build("bert")
x = inputs("bert")
before = outputs(model, x)
model.enable_lora(2)
names = sorted({w.path.split("/")[-1] for w in model.trainable_weights})
after = outputs(model, x)
diff = max(float(np.abs(before[k] - after[k]).max()) for k in before)
print(json.dumps({"names": names, "n": len(model.trainable_weights), "diff": diff,
                  "lora_layers": len(model._lora_enabled_layers)}))
"""


@pytest.mark.slow
def test_keras_hub_bert_enable_lora_like_keras():
    pytest.importorskip("keras_hub")
    from keras_hub_runners import run_callax, run_keras

    mine = run_callax(KERAS_HUB)
    theirs = run_keras(KERAS_HUB)
    assert mine["names"] == theirs["names"], (mine, theirs)
    assert mine["n"] == theirs["n"] and mine["lora_layers"] == theirs["lora_layers"] == 4
    assert mine["diff"] < 1e-6


class _Interrupt(callax.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt("simulated crash")


def test_backup_and_restore_resumes_lora_training_exactly(tmp_path):
    # Weights files hold Keras's merged kernel, but a backup keeps the factors as they
    # are: zeroed factors (a = b = 0) would have no gradient and stop LoRA training.
    def make():
        callax.utils.set_random_seed(3)
        model = callax.Sequential([callax.Input((4,)), callax.layers.Dense(2)])
        model.layers[0].enable_lora(2)
        model.compile(callax.optimizers.Adam(0.05), "mse")
        return model

    y = np.ones((3, 2), "float32")
    fit = dict(epochs=3, batch_size=3, verbose=0, shuffle=False)
    expected = make()
    expected.fit(X, y, **fit)
    model = make()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            X, y, callbacks=[callax.callbacks.BackupAndRestore(tmp_path / "b"), _Interrupt()], **fit
        )
    model = make()
    model.fit(X, y, callbacks=[callax.callbacks.BackupAndRestore(tmp_path / "b")], **fit)
    for a, b in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.abs(model.layers[0].lora_kernel_b.numpy()).sum() > 0
