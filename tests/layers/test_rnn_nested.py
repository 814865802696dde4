"""RNN over nested inputs and multi-dimensional states (the RNN guide's NestedCell),
against numpy."""

import numpy as np
import pytest

import callax


def nested_cell_class(lib):
    class NestedCell(lib.layers.Layer):
        def __init__(self, unit_1, unit_2, unit_3, **kwargs):
            self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
            self.state_size = [(unit_1,), (unit_2, unit_3)]
            self.output_size = [(unit_1,), (unit_2, unit_3)]
            super().__init__(**kwargs)

        def build(self, input_shapes):
            i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
            self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform",
                                            name="kernel_1")  # fmt: skip
            self.kernel_2_3 = self.add_weight(
                shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform", name="kernel_2_3"
            )

        def call(self, inputs, states):
            input_1, input_2 = inputs
            s1, s2 = states
            output_1 = lib.ops.matmul(input_1, self.kernel_1)
            output_2_3 = lib.ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
            return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)

    return NestedCell


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((3, 5, 4)).astype("float32"), rng.random((3, 5, 2, 3)).astype("float32")


def _numpy_reference(k1, k23, a, b, return_sequences):
    s1, s2 = np.zeros((3, k1.shape[1])), np.zeros((3,) + k23.shape[2:])
    outs = []
    for t in range(a.shape[1]):
        o1, o2 = a[:, t] @ k1, np.einsum("bij,ijkl->bkl", b[:, t], k23)
        s1, s2 = s1 + o1, s2 + o2
        outs.append((o1, o2))
    if return_sequences:
        return [np.stack([o[i] for o in outs], 1) for i in range(2)], (s1, s2)
    return list(outs[-1]), (s1, s2)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_nested_inputs_and_states_match_numpy(return_sequences):
    a, b = _data()
    rnn = callax.layers.RNN(nested_cell_class(callax)(6, 2, 4), return_sequences=return_sequences,
                            return_state=True)  # fmt: skip
    (o1, o2), s1, s2 = rnn((a, b))
    k1, k23 = rnn.cell.kernel_1.numpy(), rnn.cell.kernel_2_3.numpy()
    (r1, r2), (rs1, rs2) = _numpy_reference(k1, k23, a, b, return_sequences)
    for got, want in [(o1, r1), (o2, r2), (s1, rs1), (s2, rs2)]:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_nested_rnn_in_a_functional_model_predicts_and_fits():
    """The guide's Functional use. (Keras 3.15 itself fails here: its RNN builds the
    cell with the first input's shape only.)"""
    a, b = _data(1)
    in1, in2 = callax.Input((None, 4)), callax.Input((None, 2, 3))
    rnn = callax.layers.RNN(nested_cell_class(callax)(6, 2, 4))
    model = callax.Model([in1, in2], rnn((in1, in2)))
    assert [tuple(o.shape) for o in model.outputs] == [(None, 6), (None, 2, 4)]
    got = model.predict([a, b], verbose=0)
    want, _ = _numpy_reference(rnn.cell.kernel_1.numpy(), rnn.cell.kernel_2_3.numpy(), a, b,
                               return_sequences=False)  # fmt: skip
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit([a, b], [np.zeros((3, 6)), np.zeros((3, 2, 4))], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_nested_inputs_must_share_batch_and_time():
    rnn = callax.layers.RNN(nested_cell_class(callax)(6, 2, 4))
    a, b = _data()
    with pytest.raises(ValueError, match="same batch and time"):
        rnn((a, b[:, :4]))
