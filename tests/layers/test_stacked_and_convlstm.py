"""StackedRNNCells / RNN([cells]) and ConvLSTM1D/2D/3D: numpy references, Keras 3
as oracle with the same weights, weight-file interop, gradients and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax

L = callax.layers
RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.normal(size=shape).astype("float32")


def _max_diff(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert [np.shape(u) for u in la] == [np.shape(v) for v in lb]
    return max(float(np.abs(np.asarray(u) - np.asarray(v)).max()) for u, v in zip(la, lb))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ------------------------------------------------------------------ stacked cells
def _np_lstm_step(x, h, c, k, rk, b):
    z = x @ k + h @ rk + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def test_stacked_cells_match_numpy_two_lstms():
    rnn = L.RNN([L.LSTMCell(4), L.LSTMCell(3)], return_sequences=True, return_state=True)
    x = _x(2, 5, 6)
    seq, (h1, c1), (h2, c2) = rnn(x)
    w = [np.asarray(v.value) for v in rnn.weights]
    hs = [np.zeros((2, 4)), np.zeros((2, 3))]
    cs = [np.zeros((2, 4)), np.zeros((2, 3))]
    outs = []
    for t in range(5):
        inp = x[:, t]
        for j in range(2):
            hs[j], cs[j] = _np_lstm_step(inp, hs[j], cs[j], *w[3 * j : 3 * j + 3])
            inp = hs[j]
        outs.append(inp)
    np.testing.assert_allclose(seq, np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(h1, hs[0], atol=1e-5)
    np.testing.assert_allclose(c2, cs[1], atol=1e-5)
    np.testing.assert_allclose(h2, seq[:, -1], atol=1e-6)


def test_stacked_cells_state_layout_and_paths():
    cells = [L.LSTMCell(4), L.GRUCell(3), L.SimpleRNNCell(2)]
    rnn = L.RNN(cells, return_state=True)
    assert isinstance(rnn.cell, L.StackedRNNCells)
    out, lstm_states, gru_states, rnn_states = rnn(_x(2, 3, 5))
    assert out.shape == (2, 2)
    assert [s.shape for s in lstm_states] == [(2, 4), (2, 4)]
    assert [s.shape for s in gru_states] == [(2, 3)]
    assert [s.shape for s in rnn_states] == [(2, 2)]
    assert rnn.cell.state_size == [[4, 4], 3, 2]
    assert rnn.compute_output_shape((2, 3, 5)) == [(2, 2), [(2, 4), (2, 4)], [(2, 3)], [(2, 2)]]
    assert rnn.cell.output_size == 2
    prefix = f"{rnn.name}/{rnn.cell.name}/{cells[0].name}"  # rnn/stacked_rnn_cells/lstm_cell
    assert [w.path for w in rnn.weights][:2] == [f"{prefix}/kernel", f"{prefix}/recurrent_kernel"]
    assert rnn.cell.name.startswith("stacked_rnn_cells")


def test_stacked_cells_initial_state_nested_and_direct_call():
    cell = L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])
    rnn = L.RNN(cell)
    x = _x(2, 4, 5)
    init = [[_x(2, 3), _x(2, 3)], [_x(2, 2)]]
    out = rnn(x, initial_state=init)
    # One step by hand through the stacked cell equals the first step of a 1-step RNN.
    step_out, new = cell(x[:, 0], init)
    one = rnn(x[:, :1], initial_state=init)
    np.testing.assert_allclose(step_out, one, atol=1e-6)
    assert [len(new[0]), len(new[1])] == [2, 1]
    assert out.shape == (2, 2)


def test_stacked_cells_config_round_trip():
    rnn = L.RNN([L.LSTMCell(3), L.SimpleRNNCell(2)], return_sequences=True)
    x = _x(2, 4, 5)
    y = rnn(x)
    clone = L.RNN.from_config(rnn.get_config())
    clone(x)
    clone.set_weights(rnn.get_weights())
    np.testing.assert_allclose(clone(x), y, atol=1e-6)
    assert isinstance(clone.cell, L.StackedRNNCells)


def test_stacked_cells_dropout_training_and_jit():
    rnn = L.RNN([L.LSTMCell(4, dropout=0.5, recurrent_dropout=0.3, seed=1), L.GRUCell(3)])
    x = _x(2, 5, 6)
    infer = rnn(x)
    train = rnn(x, training=True)
    assert np.all(np.isfinite(train)) and not np.allclose(train, infer)
    np.testing.assert_allclose(callax.jit(rnn)(x), infer, atol=1e-5)


def test_stacked_cells_errors():
    with pytest.raises(ValueError, match=r"StackedRNNCells .* at least one cell.*cells=\[\]"):
        L.StackedRNNCells([])
    with pytest.raises(ValueError, match="state_size"):
        L.StackedRNNCells([L.Dense(3)])
    cell = L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])
    with pytest.raises(ValueError, match=r"one entry per cell \(2\); received 1"):
        cell(_x(2, 5), [[_x(2, 3), _x(2, 3)]])


@pytest.mark.parametrize("masked", [False, True])
def test_stacked_cells_match_keras(masked):
    keras = pytest.importorskip("keras")
    x = _x(2, 5, 6)
    kr = keras.layers.RNN(
        [keras.layers.LSTMCell(4), keras.layers.GRUCell(3), keras.layers.SimpleRNNCell(2)],
        return_sequences=True, return_state=True, go_backwards=masked,
    )  # fmt: skip
    cr = L.RNN([L.LSTMCell(4), L.GRUCell(3), L.SimpleRNNCell(2)], return_sequences=True,
               return_state=True, go_backwards=masked)  # fmt: skip
    kr(x)
    cr(x)
    assert [(w.name, w.shape) for w in cr.weights] == [(w.name, w.shape) for w in kr.weights]
    cr.set_weights(kr.get_weights())
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool) if masked else None
    assert _max_diff(cr(x, mask=mask), kr(x, mask=mask)) < 1e-5


def test_stacked_cells_weight_file_from_keras(tmp_path):
    keras = pytest.importorskip("keras")
    x = _x(2, 4, 5)
    km = keras.Sequential([keras.Input((4, 5)), keras.layers.RNN(
        [keras.layers.LSTMCell(3), keras.layers.GRUCell(2)])])  # fmt: skip
    km.save_weights(tmp_path / "k.weights.h5")
    cm = callax.Sequential([callax.Input((4, 5)), L.RNN([L.LSTMCell(3), L.GRUCell(2)])])
    cm.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(cm(x), km(x), atol=1e-5)


# ---------------------------------------------------------------------- ConvLSTM
def _np_conv1d_valid(x, w):
    """x (batch, steps, in), w (k, in, out): cross-correlation, stride 1, 'valid'."""
    k = w.shape[0]
    n = x.shape[1] - k + 1
    return np.stack([np.einsum("bki,kio->bo", x[:, t : t + k], w) for t in range(n)], 1)


def _np_conv1d_same(x, w):
    k = w.shape[0]
    left = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (left, k - 1 - left), (0, 0)))
    return _np_conv1d_valid(xp, w)


def test_conv_lstm1d_matches_numpy_formula():
    layer = L.ConvLSTM1D(3, 3, return_sequences=True, return_state=True)
    x = _x(2, 4, 8, 2)
    seq, h_last, c_last = layer(x)
    k, rk, b = (np.asarray(v.value) for v in layer.weights)
    h = np.zeros((2, 6, 3))
    c = np.zeros((2, 6, 3))
    outs = []
    for t in range(4):
        z = _np_conv1d_valid(x[:, t], k) + b + _np_conv1d_same(h, rk)
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    np.testing.assert_allclose(seq, np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(h_last, h, atol=1e-5)
    np.testing.assert_allclose(c_last, c, atol=1e-5)


def test_conv_lstm_weights_layout():
    layer = L.ConvLSTM2D(5, (3, 2))
    assert layer(_x(2, 3, 6, 6, 4)).shape == (2, 4, 5, 5)
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("conv_lstm2d/conv_lstm_cell/kernel", (3, 2, 4, 20)),
        ("conv_lstm2d/conv_lstm_cell/recurrent_kernel", (3, 2, 5, 20)),
        ("conv_lstm2d/conv_lstm_cell/bias", (20,)),
    ]
    # unit_forget_bias: ones on the forget gate only.
    np.testing.assert_array_equal(layer.cell.bias.value, np.r_[np.zeros(5), np.ones(5),
                                                               np.zeros(10)])  # fmt: skip


KERAS_CONFIGS = [
    ("ConvLSTM2D", (2, 4, 7, 7, 3), {"filters": 4, "kernel_size": 3}),
    ("ConvLSTM2D", (2, 4, 7, 7, 3), {"filters": 4, "kernel_size": 3, "padding": "same",
                                     "strides": 2, "return_sequences": True,
                                     "return_state": True, "go_backwards": True}),
    ("ConvLSTM2D", (2, 3, 9, 9, 3), {"filters": 2, "kernel_size": (3, 2), "dilation_rate": 2,
                                     "return_state": True}),
    ("ConvLSTM2D", (2, 3, 3, 6, 6), {"filters": 2, "kernel_size": 3,
                                     "data_format": "channels_first"}),
    ("ConvLSTM1D", (2, 4, 9, 3), {"filters": 2, "kernel_size": 3, "return_sequences": True,
                                  "activation": "relu", "use_bias": False}),
    ("ConvLSTM3D", (1, 3, 5, 5, 5, 2), {"filters": 2, "kernel_size": 3, "padding": "same"}),
]  # fmt: skip


@pytest.mark.parametrize("name,shape,kwargs", KERAS_CONFIGS)
def test_conv_lstm_matches_keras(name, shape, kwargs):
    keras = pytest.importorskip("keras")
    x = _x(*shape)
    kl = getattr(keras.layers, name)(**kwargs)
    ko = kl(x)
    cl = getattr(L, name)(**kwargs)
    cl(x)
    assert [(w.name, w.shape) for w in cl.weights] == [(w.name, w.shape) for w in kl.weights]
    cl.set_weights([np.asarray(w) for w in kl.get_weights()])
    assert _max_diff(cl(x), ko) < 2e-5
    kc, cc = kl.get_config(), cl.get_config()
    assert set(kc) == set(cc)
    assert {k: cc[k] for k in ("filters", "kernel_size", "strides", "padding")} == {
        k: kc[k] for k in ("filters", "kernel_size", "strides", "padding")
    }
    # Keras's config builds the same callax layer.
    clone = getattr(L, name).from_config(kc)
    clone(x)
    clone.set_weights(cl.get_weights())
    assert _max_diff(clone(x), ko) < 2e-5


def test_conv_lstm_mask_skips_steps():
    # (Keras's JAX backend cannot mask ConvLSTM inputs; the expectation is the RNN rule:
    # a masked step keeps the states and repeats the previous output.)
    x = _x(2, 5, 6, 2)
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], bool)
    layer = L.ConvLSTM1D(2, 3, return_sequences=True, return_state=True)
    seq, h, c = layer(x, mask=mask)
    _, h_ref, c_ref = layer(x[:1, [0, 1, 3]])
    np.testing.assert_allclose(h[:1], h_ref, atol=1e-6)
    np.testing.assert_allclose(c[:1], c_ref, atol=1e-6)
    np.testing.assert_allclose(seq[0, 2], seq[0, 1], atol=0)
    np.testing.assert_allclose(seq[0, 4], seq[0, 3], atol=0)
    full, _, _ = layer(x[1:])
    np.testing.assert_allclose(seq[1:], full, atol=1e-6)


def test_conv_lstm_gradients():
    layer = L.ConvLSTM1D(2, 2, padding="same")
    x = jnp.asarray(_x(2, 3, 4, 2))
    layer(x)
    values = [v.value for v in layer.trainable_variables]

    def f(x, *ws):
        out, _ = layer.stateless_call(list(ws), [v.value for v in layer.non_trainable_variables],
                                      x)  # fmt: skip
        return out

    check_grads(f, (x, *values), order=1, modes=["rev"], atol=2e-2, rtol=2e-2)


def test_conv_lstm_dropout_stateful_and_initial_state():
    layer = L.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=3)
    x = _x(2, 3, 5, 5, 2)
    infer = layer(x)
    train = layer(x, training=True)
    assert np.all(np.isfinite(train)) and not np.allclose(train, infer)

    stateful = L.ConvLSTM1D(2, 3, stateful=True, return_state=True)
    seq = _x(2, 4, 6, 2)
    _, h1, c1 = stateful(seq[:, :2])
    _, h2, c2 = stateful(seq[:, 2:])
    plain = L.ConvLSTM1D(2, 3, return_state=True)
    plain(seq)
    plain.cell.set_weights(stateful.cell.get_weights())
    _, h, c = plain(seq)
    np.testing.assert_allclose(h2, h, atol=1e-5)
    _, h_again, _ = plain(seq[:, 2:], initial_state=[h1, c1])
    np.testing.assert_allclose(h_again, h, atol=1e-5)
    stateful.reset_state()
    assert float(jnp.abs(stateful.states[0].value).max()) == 0.0


def test_conv_lstm_errors():
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'conv_lstm2d.*' expects inputs of rank 5"):
        L.ConvLSTM2D(2, 3)(_x(2, 3, 4, 4))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'.*'causal'"):
        L.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="strides > 1 cannot be combined with dilation_rate"):
        L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    layer = L.ConvLSTM1D(2, 3)
    with pytest.raises(ValueError, match=r"initial_state must be \[h, c\] of shapes"):
        layer(_x(2, 3, 6, 2), initial_state=[_x(2, 4, 2), _x(2, 3, 2)])


@pytest.mark.slow
def test_keras_archives_both_ways(tmp_path):
    keras = pytest.importorskip("keras")
    x = _x(2, 3, 5, 5, 2)

    def build(lib):
        layers = lib.layers
        return lib.Sequential([
            lib.Input((3, 5, 5, 2)),
            layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
            layers.TimeDistributed(layers.Flatten()),
            layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)]),
            layers.Dense(1),
        ])  # fmt: skip

    ours = build(callax)
    ours.save(tmp_path / "c.keras")
    theirs = keras.saving.load_model(tmp_path / "c.keras")
    np.testing.assert_allclose(theirs(x), ours(x), atol=1e-5)
    theirs = build(keras)
    theirs.save(tmp_path / "k.keras")
    ours = callax.saving.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5)
