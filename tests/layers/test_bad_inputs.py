"""Bad input gets an exception that names the layer/model/argument, what was
expected and what was received, never a raw JAX error or a silent wrong result."""

import math

import numpy as np
import pytest

import callax


# ------------------------------------------------- call() without `return`
class _NoReturn(callax.Model):
    def __init__(self):
        super().__init__()
        self.d = callax.layers.Dense(1)

    def call(self, x):
        self.d(x)  # forgot `return`


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_call_returning_none_is_named(method):
    model = _NoReturn()
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    args = (x,) if method == "predict" else (x, y)
    with pytest.raises(TypeError, match=r"_NoReturn\.call\(\).*'no_return'.*returned None.*return"):
        getattr(model, method)(*args, verbose=0)


def test_custom_predict_step_may_return_anything():
    class Custom(_NoReturn):
        def predict_step(self, state, data):
            trainable, non_trainable = state
            return data[0] * 0 + 5.0 if isinstance(data, tuple) else data * 0 + 5.0, non_trainable

    out = Custom().predict(np.ones((4, 3), "float32"), verbose=0)
    np.testing.assert_allclose(out, np.full((4, 3), 5.0))


def test_call_returning_python_float_in_predict():
    class Const(callax.Model):
        def call(self, x):
            return 1.0

    with pytest.raises(ValueError, match=r"Const\.call\(\).*scalar.*batch dimension"):
        Const().predict(np.ones((4, 2), "float32"), verbose=0)


# ------------------------------------------------------ learning rates
@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "AdamW", "Lion"])
@pytest.mark.parametrize("lr", [-0.1, math.nan])
def test_negative_or_nan_learning_rate_is_refused(cls, lr):
    with pytest.raises(ValueError, match=r"`learning_rate` must be a non-negative.*received"):
        getattr(callax.optimizers, cls)(learning_rate=lr)


def test_learning_rate_setter_checks_too_and_zero_is_fine():
    opt = callax.optimizers.SGD(learning_rate=0.0)
    opt.learning_rate = 0.25
    assert float(np.asarray(opt.learning_rate.value)) == 0.25
    with pytest.raises(ValueError, match="received learning_rate=-1"):
        opt.learning_rate = -1
    assert float(np.asarray(opt.learning_rate.value)) == 0.25  # unchanged
