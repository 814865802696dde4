"""One name registry (callax.core.registry.NameRegistry) behind every family's
get/serialize/deserialize: each built-in name and a registered user object round-trip
through it, and the registry needs nothing above callax/core."""

import ast
import inspect
import json
import pathlib
import sys

import pytest

import callax
from callax import (
    activations,
    constraints,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from callax.core import registry as core_registry
from callax.core.registry import NameRegistry
from callax.optimizers import schedules

FAMILIES = [regularizers, constraints, initializers, losses, metrics, activations, optimizers]
WRAPPED = {  # families whose get() adds a rule of their own before delegating
    activations,  # None is linear; built-ins are written as bare names
    optimizers,  # a name is a class name with the default config
    schedules,  # anything but a config dict (a float, a schedule) is returned as is
}
CLASS_FAMILIES = [
    (regularizers, regularizers.Regularizer, "keras.regularizers"),
    (constraints, constraints.Constraint, "keras.constraints"),
    (initializers, initializers.Initializer, "keras.initializers"),
    (losses, losses.Loss, "keras.losses"),
    (metrics, metrics.Metric, "keras.metrics"),
    (schedules, schedules.LearningRateSchedule, "keras.optimizers.schedules"),
]


def _needs_arguments(cls):
    params = inspect.signature(cls.__init__).parameters.values()
    required = [p for p in list(params)[1:] if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]  # fmt: skip
    return bool(required) or inspect.isabstract(cls)


def _same(a, b):
    if inspect.isfunction(a):
        return a is b
    return type(a) is type(b) and a.get_config() == b.get_config()


@pytest.mark.parametrize("module", [*FAMILIES, schedules], ids=lambda m: m.__name__)
def test_family_uses_the_one_registry(module):
    assert isinstance(module._REGISTRY, NameRegistry)
    wrapped = {"get"} if module in WRAPPED else set()
    if module is activations:
        wrapped |= {"serialize", "deserialize"}
    for name in {"get", "serialize", "deserialize"} - wrapped:
        assert getattr(module, name).__self__ is module._REGISTRY, name


@pytest.mark.parametrize("module", [*FAMILIES, schedules], ids=lambda m: m.__name__)
def test_family_is_found_by_kind(module):
    assert core_registry.family(module._REGISTRY.kind) is module._REGISTRY
    assert core_registry.families()[module._REGISTRY.kind] is module._REGISTRY


def test_family_kinds_and_unknown_kind():
    for kind, module in [("initializer", initializers), ("regularizer", regularizers),
                         ("constraint", constraints), ("activation", activations)]:  # fmt: skip
        assert core_registry.family(kind) is module._REGISTRY
    with pytest.raises(KeyError, match=r"No name registry of kind 'no_such_kind'.*'regularizer'"):
        core_registry.family("no_such_kind")
    # a private table is not declared: the family's own stays the one found
    NameRegistry("regularizer", "keras.regularizers", declare=False)
    assert core_registry.family("regularizer") is regularizers._REGISTRY


@pytest.mark.parametrize("module", FAMILIES, ids=lambda m: m.__name__)
def test_every_builtin_name_round_trips(module):
    registry = module._REGISTRY
    checked = 0
    for name, target in sorted(registry.names.items()):
        if inspect.isclass(target) and _needs_arguments(target):
            continue  # e.g. MeanMetricWrapper(fn), IoU(num_classes, ...): no default instance
        obj = module.get(name)
        config = module.serialize(obj)
        json.dumps(config)  # JSON-ready, as Keras writes it
        if isinstance(config, dict):
            expected = "builtins" if config["class_name"] == "function" else registry.keras_module
            assert config["module"] == expected, name
            assert config["registered_name"] in (None, "function"), name
        else:
            assert module is activations and config in registry.functions
        assert _same(module.deserialize(config), obj), name
        assert _same(module.get(config), obj), name
        checked += 1
    assert checked >= len(registry.names) // 2


@pytest.mark.parametrize("module, base, keras_module", CLASS_FAMILIES, ids=lambda m: getattr(m, "__name__", ""))  # fmt: skip
def test_registered_user_class_round_trips(module, base, keras_module):
    family = module.__name__.rsplit(".", 1)[-1]

    @callax.saving.register_keras_serializable(package="registry_test", name=f"Mine_{family}")
    class Mine(base):
        def __init__(self, k=1, **kwargs):
            if base in (losses.Loss, metrics.Metric):
                super().__init__(**kwargs)
            if base is schedules.LearningRateSchedule:
                self.decay_steps = 1
            self.k = k

        def __call__(self, *args, **kwargs):
            return 0.0

        def get_config(self):
            return {"k": self.k}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    obj = Mine(k=3)
    config = module.serialize(obj)
    assert config["class_name"] == "Mine"
    assert config["registered_name"] == f"registry_test>Mine_{family}"
    assert config["module"] != keras_module
    back = module.deserialize(json.loads(json.dumps(config)))
    assert type(back) is Mine and back.k == 3
    assert type(module.get(config)) is Mine
    if module is not schedules:  # schedules.get returns names unchanged
        assert type(module.get(f"registry_test>Mine_{family}")) is Mine
    # an unregistered class is found through custom_objects / custom_object_scope
    plain = {"class_name": "Other", "config": {"k": 5}, "registered_name": None}
    assert module.deserialize(plain, custom_objects={"Other": Mine}).k == 5
    with callax.saving.custom_object_scope({"Other": Mine}):
        assert module.get(plain).k == 5
    with pytest.raises(ValueError, match=rf"Unknown {module._REGISTRY.class_label} 'Other'"):
        module.deserialize(plain)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 10, 0.5),
        schedules.PiecewiseConstantDecay([10], [0.1, 0.01]),
        schedules.PolynomialDecay(0.1, 100),
        schedules.InverseTimeDecay(0.1, 10, 0.5),
        schedules.CosineDecay(0.1, 100),
        schedules.CosineDecayRestarts(0.1, 100),
    ],
    ids=lambda s: type(s).__name__,
)
def test_every_builtin_schedule_round_trips(schedule):
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules" and config["registered_name"] is None
    back = schedules.deserialize(json.loads(json.dumps(config)))
    assert _same(back, schedule) and _same(schedules.get(config), schedule)


def test_registered_user_optimizer_round_trips():
    @callax.saving.register_keras_serializable(package="registry_test")
    class MySGD(optimizers.SGD):
        pass

    opt = MySGD(0.25)
    config = optimizers.serialize(opt)
    assert config["registered_name"] == "registry_test>MySGD"
    back = optimizers.deserialize(json.loads(json.dumps(config)))
    assert type(back) is MySGD and back.get_config() == opt.get_config()
    assert type(optimizers.get("registry_test>MySGD")) is MySGD
    # custom_objects reach nested configs (the learning-rate schedule)
    sched = {"class_name": "MySched", "config": {}, "registered_name": None}
    plain = {"class_name": "Plain", "config": {"learning_rate": sched}}
    objects = {"Plain": optimizers.SGD, "MySched": schedules.CosineDecay}
    with pytest.raises(TypeError):  # reaches CosineDecay.from_config({}) through the scope
        optimizers.deserialize(plain, custom_objects=objects)


@pytest.mark.parametrize("module", [losses, metrics, activations], ids=lambda m: m.__name__)
def test_registered_user_function_round_trips(module):
    family = module.__name__.rsplit(".", 1)[-1]

    @callax.saving.register_keras_serializable(package="registry_test", name=f"fn_{family}")
    def fn(*args):
        return args[0]

    config = module.serialize(fn)
    assert config == {"module": "builtins", "class_name": "function",
                      "config": f"registry_test>fn_{family}", "registered_name": "function"}  # fmt: skip
    assert module.deserialize(config) is fn
    assert module.get(config) is fn
    assert module.get(f"registry_test>fn_{family}") is fn


@pytest.mark.parametrize("module", FAMILIES, ids=lambda m: m.__name__)
def test_unknown_names_name_the_family_and_the_known_names(module):
    kind = module._REGISTRY.kind
    known = "Built-in ones" if module is optimizers else "Known names"
    with pytest.raises(ValueError, match=rf"Unknown {kind} 'no_such_name'. {known}: \["):
        module.get("no_such_name")


def test_registry_imports_nothing_outside_core():
    core = pathlib.Path(callax.__file__).parent / "core"
    for path in (core / "registry.py", core / "custom_objects.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "callax":
                    assert name == "callax.core" or name.startswith("callax.core."), (
                        path.name,
                        name,
                    )
                else:
                    assert top in sys.stdlib_module_names or top == "__future__", (path.name, name)


def test_layer_family_knows_every_public_layer():
    layer_names = core_registry.family("layer")
    public = {
        name: obj
        for name in callax.layers.__all__
        if isinstance(obj := getattr(callax.layers, name), type) and issubclass(obj, callax.Layer)
    }
    assert len(public) > 100
    for name, cls in public.items():
        assert layer_names.lookup(name) is cls, name
    assert layer_names.lookup("Convolution2D") is callax.layers.Conv2D
    # a layer's config is the full generic one (build_config included)
    dense = callax.layers.Dense(2)
    dense.build((None, 3))
    config = callax.layers.serialize(dense)
    assert config["build_config"] == {"input_shape": (None, 3)}
    assert callax.layers.deserialize(config).built


def test_dtype_policy_family():
    from callax import dtype_policies

    assert core_registry.family("dtype policy") is dtype_policies.policies._REGISTRY
    policies = dtype_policies.DTypePolicyMap("bfloat16")
    policies["a/.*"] = "float16"
    config = json.loads(json.dumps(dtype_policies.serialize(policies)))
    assert dtype_policies.deserialize(config) == policies

    class MyPolicy(dtype_policies.DTypePolicy):
        pass

    plain = {"class_name": "MyPolicy", "config": {"name": "float16"}, "registered_name": None}
    assert (
        type(dtype_policies.deserialize(plain, custom_objects={"MyPolicy": MyPolicy})) is MyPolicy
    )
    with callax.saving.custom_object_scope({"MyPolicy": MyPolicy}):
        assert dtype_policies.deserialize(plain).name == "float16"
    with pytest.raises(ValueError, match="quantized policies are not supported"):
        dtype_policies.deserialize({"class_name": "Int4DTypePolicy", "config": {}})


def test_declared_module_loads_when_a_config_first_names_it(tmp_path, monkeypatch):
    # callax declares modules it imports on first use with load=import_module; a
    # config naming one loads it (core itself imports nothing above core).
    import importlib

    (tmp_path / "registry_test_things.py").write_text(
        "class Thing:\n"
        "    def __init__(self, k=1):\n"
        "        self.k = k\n"
        "    def get_config(self):\n"
        "        return {'k': self.k}\n"
        "    @classmethod\n"
        "    def from_config(cls, config):\n"
        "        return cls(**config)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "registry_test_things" not in sys.modules
    core_registry.declare_public_module(
        "keras.registry_test", "registry_test_things", load=importlib.import_module
    )
    try:
        config = {"module": "keras.registry_test", "class_name": "Thing", "config": {"k": 4},
                  "registered_name": None}  # fmt: skip
        thing = callax.saving.deserialize_keras_object(config)
        assert type(thing).__module__ == "registry_test_things" and thing.k == 4
        assert (
            core_registry.public_module("keras.registry_test")
            is sys.modules["registry_test_things"]
        )
    finally:
        core_registry._PUBLIC_MODULES.pop("keras.registry_test")
        sys.modules.pop("registry_test_things", None)


def test_public_modules_are_keras_names():
    with pytest.raises(ValueError, match="must name a Keras module.*'callax.layers'"):
        core_registry.declare_public_module("callax.layers", "callax.layers")
