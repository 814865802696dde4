"""explain(): building, training routing, shared layers and pitfalls, in words."""

import numpy as np
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax


def _section(report, title):
    return dict(report.sections)[title]


def test_example2_training_routes_and_the_conditional_dropout():
    report = callax.explain(ConditionalModel(), np.zeros((4, 32), "float32"))
    assert set(report.traces) == {"training=False", "training=True"}
    building = _section(report, "Building")
    assert building[0].startswith("dense1 (Dense): built by its first call in this trace, "
                                  "from input shape (4, 32) → kernel (32,32), bias (32,)")  # fmt: skip
    training = _section(report, "training")
    assert "declares `training` (default False)" in training[0]
    assert "with training=True: dropout (Dropout) saw training=True" in training
    assert "dropout (Dropout) runs only with training=True (a Python `if` on training)" in training
    assert report.pitfalls == []
    assert str(report).endswith("Pitfalls\n  • none found")


def test_example3_shared_layer_and_prebuilt_model():
    model = MultiInputModel()
    model(np.zeros((8, 16), "float32"), np.zeros((8, 16), "float32"))
    report = callax.explain(model)
    assert _section(report, "Shared layers") == [
        "dense1 (Dense) is called 2 times: the same weights (kernel, bias) every call"
    ]
    assert _section(report, "Building")[0] == (
        "dense1 (Dense): already built before this trace, from input shape (8, 16) (2 weights)"
    )
    assert "does not declare `training`" in _section(report, "training")[0]


def test_pitfalls_found():
    class Careless(callax.Model):
        def __init__(self):
            super().__init__()
            self.encoder = callax.layers.Dense(3)
            self.unused = callax.layers.Dense(2)
            self.spare = self.add_weight(shape=(3,), name="spare")

        def call(self, x):
            return callax.layers.Dense(4)(self.encoder(x))  # a new layer every call

    report = callax.explain(Careless(), (2, 5))
    text = "\n".join(report.pitfalls)
    assert "a new Dense is created inside Careless.call on every call" in text
    assert "unused (Dense) is assigned in __init__ but no call used it" in text
    assert "weights no traced call reads: careless/spare" in text
    assert len(report.pitfalls) == 3


def test_call_override_is_reported():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        class Overrides(callax.layers.Dense):
            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)

    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = Overrides(2)

        def call(self, x):
            return self.d(x)

    report = callax.explain(Net(), (1, 3))
    assert any("Overrides defines __call__" in p for p in report.pitfalls)
