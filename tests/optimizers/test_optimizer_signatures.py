"""The public constructors of the optimizers and learning-rate schedules: their
signatures (names, order, defaults, kinds, annotations), positional binding, the
attributes they set, and their configs, pinned as they are (Keras 3's where Keras 3
has the class; Keras itself is the oracle where it is installed).

The built-ins declare their arguments once (``_Hyperparameters`` / ``_Arguments``,
``callax.optimizers.declared_arguments``); these tests hold what that declaration
must reproduce."""

from __future__ import annotations

import inspect

import pytest

from callax import optimizers
from callax.optimizers import schedules
from callax.optimizers.base_optimizer import Optimizer
from callax.optimizers.declared_arguments import declared_init

P = inspect.Parameter

# The positional-or-keyword arguments, in order (the base arguments follow, keyword-only).
OWN_ARGUMENTS = {
    "SGD": "learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False",
    "Adam": "learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, "
    "epsilon: float = 1e-07, amsgrad: bool = False",
    "AdamW": "learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9, "
    "beta_2: float = 0.999, epsilon: float = 1e-07, amsgrad: bool = False",
    "RMSprop": "learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, "
    "epsilon: float = 1e-07, centered: bool = False",
    "Adagrad": "learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, "
    "epsilon: float = 1e-07",
    "Adadelta": "learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-07",
    "Adamax": "learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, "
    "epsilon: float = 1e-07",
    "Nadam": "learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, "
    "epsilon: float = 1e-07",
    "Lion": "learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99",
    "Ftrl": "learning_rate: Any = 0.001, learning_rate_power: float = -0.5, "
    "initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0, "
    "l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0, "
    "beta: float = 0.0",
    "Adafactor": "learning_rate: Any = 0.001, beta_2_decay: float = -0.8, epsilon_1: float = 1e-30, "
    "epsilon_2: float = 0.001, clip_threshold: float = 1.0, relative_step: bool = True",
    "Lamb": "learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, "
    "epsilon: float = 1e-07",
    "Muon": "learning_rate: Any = 0.001, adam_beta_1: float = 0.9, adam_beta_2: float = 0.999, "
    "adam_weight_decay: float | None = 0.004, epsilon: float = 1e-07, "
    "weight_decay: float | None = 0.004, exclude_layers: list[str] | None = None, "
    "exclude_embeddings: bool = True, muon_a: float = 3.4445, muon_b: float = -4.775, "
    "muon_c: float = 2.0315, adam_lr_ratio: float = 1, momentum: float = 0.95, ns_steps: int = 5, "
    "nesterov: bool = True, rms_rate: float | None = 0.2",
    "ScheduleFreeAdamW": "learning_rate: Any = 0.0025, beta_1: float = 0.9, beta_2: float = 0.999, "
    "epsilon: float = 1e-08, warmup_steps: int = 0",
}

# What get_config adds after the base arguments, in order (Keras's order).
CONFIG_TAIL = {
    "SGD": ["momentum", "nesterov"],
    "Adam": ["beta_1", "beta_2", "epsilon", "amsgrad"],
    "AdamW": ["beta_1", "beta_2", "epsilon", "amsgrad"],
    "RMSprop": ["rho", "momentum", "epsilon", "centered"],
    "Adagrad": ["initial_accumulator_value", "epsilon"],
    "Adadelta": ["rho", "epsilon"],
    "Adamax": ["beta_1", "beta_2", "epsilon"],
    "Nadam": ["beta_1", "beta_2", "epsilon"],
    "Lion": ["beta_1", "beta_2"],
    "Ftrl": [
        "learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
        "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta",
    ],
    "Adafactor": ["beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step"],
    "Lamb": ["beta_1", "beta_2", "epsilon"],
    "Muon": [
        "adam_beta_1", "adam_beta_2", "epsilon", "exclude_layers", "muon_a", "muon_b", "muon_c",
        "adam_lr_ratio", "momentum", "ns_steps", "nesterov", "exclude_embeddings",
        "adam_weight_decay", "rms_rate",
    ],
    "ScheduleFreeAdamW": ["beta_1", "beta_2", "epsilon", "warmup_steps"],
}  # fmt: skip

BASE_CONFIG = [
    "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
    "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
    "gradient_accumulation_steps",
]  # fmt: skip

WRAPPERS = {
    "LossScaleOptimizer": "(inner_optimizer: callax.optimizers.base_optimizer.Optimizer, "
    "initial_scale: float = 32768.0, dynamic_growth_steps: int = 2000, name: str | None = None, "
    "**kwargs: Any)",
    "MultiOptimizer": "(optimizer_map: Any, loss_scale_factor: float | None = None, "
    "name: str | None = None)",
}

SCHEDULES = {
    "ExponentialDecay": "(initial_learning_rate: float, decay_steps: int, decay_rate: float, "
    "staircase: bool = False, name: str | None = None)",
    "InverseTimeDecay": "(initial_learning_rate: float, decay_steps: int, decay_rate: float, "
    "staircase: bool = False, name: str | None = None)",
    "PiecewiseConstantDecay": "(boundaries: list, values: list, name: str = 'PiecewiseConstant')",
    "PolynomialDecay": "(initial_learning_rate: float, decay_steps: int, "
    "end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False, "
    "name: str = 'PolynomialDecay')",
    "CosineDecay": "(initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, "
    "name: str = 'CosineDecay', warmup_target: float | None = None, warmup_steps: int = 0)",
    "CosineDecayRestarts": "(initial_learning_rate: float, first_decay_steps: int, "
    "t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0, name: str = 'SGDRDecay')",
}

# One schedule of each class, every argument given positionally.
SCHEDULE_ARGS = {
    "ExponentialDecay": (0.1, 10, 0.5, True, "e"),
    "InverseTimeDecay": (0.1, 10, 0.5, True, "i"),
    "PiecewiseConstantDecay": ([2, 4], [1.0, 0.5, 0.1], "p"),
    "PolynomialDecay": (0.1, 10, 0.01, 2.0, True, "poly"),
    "CosineDecay": (0.1, 10, 0.1, "c", 1.0, 5),
    "CosineDecayRestarts": (0.1, 10, 1.5, 0.5, 0.1, "r"),
}

_BASE = [
    p for p in inspect.signature(Optimizer, eval_str=True).parameters.values() if p.name != "kwargs"
]


def _own(cls) -> list[P]:
    return [
        p for p in inspect.signature(cls).parameters.values() if p.kind is P.POSITIONAL_OR_KEYWORD
    ]


@pytest.mark.parametrize("name", sorted(OWN_ARGUMENTS))
def test_optimizer_signature_is_its_arguments_then_the_base_ones_keyword_only(name):
    cls = getattr(optimizers, name)
    params = list(inspect.signature(cls).parameters.values())
    own = _own(cls)
    assert ", ".join(str(p) for p in own) == OWN_ARGUMENTS[name]
    names = {p.name for p in own}
    expected_rest = [p.replace(kind=P.KEYWORD_ONLY) for p in _BASE if p.name not in names]
    assert params[len(own) : -1] == expected_rest
    assert params[-1].kind is P.VAR_KEYWORD and params[-1].name == "kwargs"
    # The constructor's own signature is the class's, with `self` first.
    assert list(inspect.signature(cls.__init__).parameters)[1:] == [p.name for p in params]


@pytest.mark.parametrize("name", sorted(OWN_ARGUMENTS))
def test_optimizer_arguments_bind_positionally_and_become_attributes(name):
    cls = getattr(optimizers, name)
    own = _own(cls)
    defaults = cls(name="defaults")
    for p in own[1:]:
        if p.name != "weight_decay":  # a base argument: read through the base attribute
            assert getattr(defaults, p.name) == ([] if p.name == "exclude_layers" else p.default)
    # The second argument, given positionally, lands on its name.
    second = own[1]
    default = second.default
    value = {bool: not default, int: default + 1}.get(
        type(default), default / 2 if default else 0.5
    )
    opt = cls(0.05, value, name="positional")
    assert getattr(opt, second.name) == value
    assert opt.get_config()["learning_rate"] == pytest.approx(0.05)
    assert opt.get_config()[second.name] == value


@pytest.mark.parametrize("name", sorted(CONFIG_TAIL))
def test_optimizer_config_keys_order_and_round_trip(name):
    cls = getattr(optimizers, name)
    config = cls(0.02, name="cfg", clipnorm=1.0).get_config()
    assert list(config) == BASE_CONFIG + CONFIG_TAIL[name]
    assert config["clipnorm"] == 1.0 and config["name"] == "cfg"
    for key in CONFIG_TAIL[name]:
        expected = getattr(cls(name="d"), key)
        assert cls(name="d").get_config()[key] == expected
    assert cls.from_config(config).get_config() == config


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_wrapper_signatures(name):
    assert str(inspect.signature(getattr(optimizers, name), eval_str=True)) == WRAPPERS[name]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_signature_attributes_and_config(name):
    cls = getattr(schedules, name)
    assert str(inspect.signature(cls, eval_str=True)) == SCHEDULES[name]
    args = SCHEDULE_ARGS[name]
    schedule = cls(*args)
    config = schedule.get_config()
    assert list(config) == list(inspect.signature(cls).parameters)
    assert list(config.values()) == list(args)
    assert cls.from_config(config).get_config() == config


def test_step_decay_name_defaults_to_the_class_name():
    assert schedules.ExponentialDecay(0.1, 10, 0.5).get_config()["name"] == "ExponentialDecay"
    assert schedules.InverseTimeDecay(0.1, 10, 0.5).name == "InverseTimeDecay"


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: optimizers.Adadelta(1, 2, 3, 4), TypeError, r"Adadelta\(\): too many positional"),
        (lambda: optimizers.Adam(0.1, learning_rate=0.2), TypeError, "multiple values"),
        (lambda: optimizers.Adam(foo=1), ValueError, r"not recognized.*'foo'"),
        (lambda: optimizers.SGD(momentum=2.0), ValueError, r"SGD 'sgd.*`momentum` must be"),
        (lambda: optimizers.Lion(beta_1=0.0), ValueError, r"`beta_1` must be in \(0, 1\]"),
        (lambda: optimizers.AdamW(weight_decay=None), ValueError, "`weight_decay` must be"),
        (lambda: optimizers.Ftrl(learning_rate_power=0.5), ValueError, "negative or zero"),
        (lambda: optimizers.Ftrl(beta=-1.0, l2_regularization_strength=-1), ValueError,
         "`l2_regularization_strength` must be positive or zero; received "
         "l2_regularization_strength=-1"),
        (lambda: schedules.CosineDecay(1.0), TypeError,
         r"CosineDecay\(\): missing a required argument: 'decay_steps'"),
        (lambda: schedules.PolynomialDecay(1.0, 2, foo=1), TypeError, "unexpected keyword"),
        (lambda: schedules.ExponentialDecay(1.0, 0, 0.5), ValueError, "`decay_steps` must be > 0"),
        (lambda: schedules.PiecewiseConstantDecay([1], [1.0]), ValueError, "one element fewer"),
        (lambda: schedules.CosineDecayRestarts(1.0, 0), ValueError,
         "CosineDecayRestarts: argument `first_decay_steps` must be > 0"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_naming_the_class_and_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_decay_is_still_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        opt = optimizers.Adam(decay=0.1)
    assert "decay" not in opt.get_config()


def test_a_declaration_and_an_init_together_are_refused():
    with pytest.raises(TypeError, match="declare its arguments or define `__init__`, not both"):

        class Both(Optimizer):
            class _Hyperparameters:
                learning_rate: float = 0.1

            def __init__(self, learning_rate=0.1, **kwargs):
                super().__init__(learning_rate=learning_rate, **kwargs)


def test_a_declaration_without_annotations_is_refused():
    class Base:
        pass

    class Bare(Base):
        class _Arguments:
            rate = 0.1  # no annotation: it would not be an argument

    with pytest.raises(TypeError, match=r"received \['rate'\] without an annotation"):
        declared_init(Bare, Bare._Arguments, Base)


def test_keras_signatures_and_configs_are_the_oracle():
    """Where Keras 3 has the class: the same leading arguments (names, defaults), the
    same set of arguments, and the same config keys in the same order."""
    keras = pytest.importorskip("keras")
    for name in sorted(OWN_ARGUMENTS):
        keras_cls = getattr(keras.optimizers, name, None)
        if keras_cls is None:  # ScheduleFreeAdamW: not in every Keras 3
            continue
        ours = inspect.signature(getattr(optimizers, name)).parameters
        theirs = inspect.signature(keras_cls).parameters
        every = {(p.name, p.default) for p in ours.values()}
        assert every == {(p.name, p.default) for p in theirs.values()}, name
        own = _own(getattr(optimizers, name))
        leading = [(p.name, p.default) for p in list(theirs.values())[: len(own)]]
        if name != "Muon":  # Keras lists Muon's exclude_layers... after the base arguments
            assert [(p.name, p.default) for p in own] == leading, name
        assert list(getattr(optimizers, name)().get_config()) == list(keras_cls().get_config())
    for name in ("PiecewiseConstantDecay", "PolynomialDecay", "CosineDecay", "CosineDecayRestarts"):
        ours = inspect.signature(getattr(schedules, name)).parameters.values()
        theirs = inspect.signature(getattr(keras.optimizers.schedules, name)).parameters.values()
        assert [(p.name, p.default) for p in ours] == [(p.name, p.default) for p in theirs]


def test_a_user_subclass_of_a_built_in_keeps_the_keras_extension_path():
    """An explicit ``__init__`` forwarding ``**kwargs`` to a declared built-in."""

    class ScaledAdam(optimizers.Adam):
        def __init__(self, learning_rate=0.01, scale=2.0, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.scale = scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    params = list(inspect.signature(ScaledAdam).parameters)
    assert params[:3] == ["learning_rate", "scale", "weight_decay"]
    opt = ScaledAdam(0.1, 3.0, beta_1=0.8, clipnorm=1.0)
    assert (opt.scale, opt.beta_1, opt.amsgrad, opt.clipnorm) == (3.0, 0.8, False, 1.0)
    config = opt.get_config()
    assert list(config)[-2:] == ["amsgrad", "scale"]
    assert ScaledAdam.from_config(config).get_config() == config
