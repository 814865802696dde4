"""Fuzzes the file loaders with damaged and hostile variants of valid files.

Valid ``.keras`` and ``.weights.h5`` files of small callax models (subclassed,
Functional, Sequential) are mutated — truncated, bytes flipped, zip members
renamed/removed/added, ``config.json`` rewritten (types changed, keys removed,
huge numbers, unknown or hostile class references, nested garbage), h5 datasets
re-shaped, re-typed, removed or linked — and loaded. Every load must end in one
of two ways:

* a clear error: ``ValueError`` (``KerasArchiveError``, ``WeightsFileError``),
  ``TypeError``, ``KeyError`` or ``OSError``, whose message names the file; a
  model given to ``load_weights`` keeps its weights (all or nothing);
* a correct load: the weights are the ones the file holds.

Never another exception, a hang (each example runs under a SIGALRM deadline),
or code execution: configs naming an importable module (a canary written for
this test), ``os.system`` or a ``lambda`` must not import or run anything.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import marshal
import os
import signal
import sys
import traceback
import uuid
import zipfile

import h5py
import numpy as np
import pytest
import saved_models as sm
from fault_case import file_bytes, message_of, session_dir, write_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import callax
from callax.saving import weights_file as wf

ALLOWED = (ValueError, TypeError, KeyError, OSError)
KINDS = ("tiny", "functional", "sequential")
EXAMPLE_SECONDS = 30
# CALLAX_FUZZ_SCALE=20 runs twenty times the examples (a deeper local search).
SCALE = max(1, int(os.environ.get("CALLAX_FUZZ_SCALE", "1")))
SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------- canary
CANARY = f"callax_fault_canary_{uuid.uuid4().hex[:8]}"
_FLAG = "CALLAX_FAULT_CANARY_RAN"


@pytest.fixture(scope="module", autouse=True)
def canary_module():
    """An importable module that records being imported (and so run)."""
    directory = os.path.join(session_dir(), "canary")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{CANARY}.py"), "w") as f:
        f.write(
            "import os\n"
            f"os.environ[{_FLAG!r}] = 'imported'\n"
            "class Canary:\n"
            "    def __init__(self, *a, **k):\n"
            f"        os.environ[{_FLAG!r}] = 'instantiated'\n"
            "    @classmethod\n"
            "    def from_config(cls, config):\n"
            "        return cls()\n"
            "def boom(*a, **k):\n"
            f"    os.environ[{_FLAG!r}] = 'called'\n"
        )
    sys.path.insert(0, directory)
    for kind in KINDS:  # warm up: first loads import callax's own lazy modules
        sm.load(sm.saved(kind)[0])
        sm.make(kind).load_weights(sm.saved(kind)[1])
    yield
    sys.path.remove(directory)


def _lambda_payload() -> list:
    """A serialized lambda whose body would import the canary."""
    fn = eval(f"lambda x: __import__({CANARY!r}) or x")  # noqa: S307 - test payload
    return [base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii"), None, None]


def hostile_refs() -> list:
    return [
        {"module": CANARY, "class_name": "Canary", "config": {}, "registered_name": None},
        {"module": CANARY, "class_name": "Canary", "config": {},
         "registered_name": f"{CANARY}>Canary"},
        {"module": CANARY, "class_name": "function", "config": "boom",
         "registered_name": "function"},
        {"module": "os", "class_name": "function", "config": "system",
         "registered_name": "function"},
        {"module": "builtins", "class_name": "function", "config": "eval",
         "registered_name": "eval"},
        {"module": "subprocess", "class_name": "Popen", "config": {"args": ["true"]},
         "registered_name": None},
        {"class_name": "__lambda__", "config": {"value": _lambda_payload()}},
        {"module": "keras.layers", "class_name": "Lambda",
         "config": {"function": {"class_name": "__lambda__",
                                 "config": {"value": _lambda_payload()}},
                    "name": "hostile_lambda"}, "registered_name": None},
        {"module": "keras.layers", "class_name": "__class__", "config": {},
         "registered_name": None},
        {"module": "keras.layers", "class_name": "_private", "config": {},
         "registered_name": None},
    ]  # fmt: skip


# --------------------------------------------------------------- checking
@contextlib.contextmanager
def guarded(label: str):
    """Bounds the example's time; fails on new imports of anything outside the
    libraries callax itself uses, and on the canary running."""
    before = set(sys.modules)
    os.environ.pop(_FLAG, None)

    def on_alarm(signum, frame):
        raise _Hang(f"{label}: no result after {EXAMPLE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(EXAMPLE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    new = set(sys.modules) - before
    assert CANARY not in sys.modules and _FLAG not in os.environ, f"{label}: the canary ran"
    foreign = sorted(m for m in new if not m.startswith(_LIBRARIES))
    assert not foreign, f"{label}: loading imported {foreign}"


class _Hang(BaseException):
    pass


def event(outcome: str) -> None:
    """Counts outcomes for ``--hypothesis-show-statistics``."""
    if currently_in_test_context():
        _event(outcome)


_LIBRARIES = (
    "callax", "jax", "jaxlib", "numpy", "h5py", "ml_dtypes", "optax", "scipy", "opt_einsum",
    "chex", "absl", "encodings", "_", "zipfile", "json", "importlib", "email", "xml",
)  # fmt: skip


def check_error(error: BaseException, path: str, label: str) -> None:
    event(f"refused: {type(error).__name__}")
    if not isinstance(error, ALLOWED):
        raise AssertionError(
            f"{label}: {type(error).__name__} is not one of "
            f"{[t.__name__ for t in ALLOWED]}:\n" + "".join(traceback.format_exception(error))
        )
    text = message_of(error)
    assert os.path.basename(path) in text, f"{label}: the message does not name the file:\n{text}"


def signature(arrays) -> list:
    """The weights as a sorted multiset: independent of order and layer names."""
    return sorted((str(np.asarray(a).dtype), np.shape(a), np.asarray(a).tobytes()) for a in arrays)


def same_weights(model, expected) -> bool:
    return signature(sm.weights_of(model)) == signature(expected)


def load_model_outcome(path: str, label: str, original) -> None:
    """``load_model(path)``: a clean error naming the file, or the original weights."""
    with guarded(label):
        try:
            model = sm.load(path)
        except _Hang:
            raise
        except BaseException as e:  # noqa: BLE001 - classified below
            check_error(e, path, label)
            return
    event("loaded")
    assert same_weights(model, original), f"{label}: loaded, but with other weights"


def file_values(path: str, model) -> list | None:
    """What the (mutated) weights file holds where ``model``'s variables are
    filed, read directly with h5py; None if h5py cannot read it."""
    try:
        with h5py.File(path, "r") as f:
            out = []
            for entry in wf.saveable_entries(model):
                for i, v in enumerate(entry.variables):
                    key = f"{entry.path}/vars/{i}" if entry.path else f"vars/{i}"
                    out.append(np.asarray(f[key][()]).astype(v.dtype))
            return out
    except Exception:  # noqa: BLE001 - only an oracle
        return None


def load_weights_outcome(model, path: str, label: str, expected=None) -> None:
    """``model.load_weights(path)``: a clean error leaving the weights as they
    were, or the weights the file holds (``expected``, else read with h5py)."""
    before = sm.weights_of(model)
    with guarded(label):
        try:
            model.load_weights(path)
        except _Hang:
            raise
        except BaseException as e:  # noqa: BLE001 - classified below
            check_error(e, path, label)
            after = sm.weights_of(model)
            assert all(np.array_equal(a, b) for a, b in zip(before, after)), (
                f"{label}: a failed load changed the model's weights (partial load)"
            )
            return
    event("weights loaded")
    want = expected if expected is not None else file_values(path, model)
    assert want is not None, f"{label}: loaded a file h5py itself cannot read"
    got = sm.weights_of(model)
    assert len(got) == len(want) and all(
        np.array_equal(a, b, equal_nan=True) for a, b in zip(got, want)
    ), f"{label}: loaded, but the weights differ from the file's"


def fresh_model(kind: str):
    model = sm.make(kind)
    sm.randomize(model, seed=7)  # distinct from the saved weights
    return model


_counter = [0]


def scratch(suffix: str) -> str:
    _counter[0] += 1
    directory = os.path.join(session_dir(), "fuzz")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f"mutant_{_counter[0]}{suffix}")


# ------------------------------------------------------------ byte mutations
byte_edits = st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=4
)


def flip(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for where, mask in edits:
        out[int(where * len(out))] ^= mask
    return bytes(out)


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_keras(kind, cut):
    src, _, original = sm.saved(kind)
    data = file_bytes(src)
    path = write_bytes(scratch(".keras"), data[: int(cut * len(data))])
    load_model_outcome(path, f"{kind} .keras cut at {int(cut * len(data))}", original)
    load_weights_outcome(fresh_model(kind), path, f"{kind} load_weights(.keras cut)", original)


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), edits=byte_edits)
def test_flipped_keras(kind, edits):
    src, _, original = sm.saved(kind)
    path = write_bytes(scratch(".keras"), flip(file_bytes(src), edits))
    load_model_outcome(path, f"{kind} .keras flipped {edits}", original)
    load_weights_outcome(fresh_model(kind), path, f"{kind} load_weights(.keras flipped)", original)


@settings(max_examples=50 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_weights_h5(kind, cut):
    _, src, _ = sm.saved(kind)
    data = file_bytes(src)
    path = write_bytes(scratch(".weights.h5"), data[: int(cut * len(data))])
    load_weights_outcome(fresh_model(kind), path, f"{kind} .weights.h5 cut at {cut:.3f}")


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), edits=byte_edits)
def test_flipped_weights_h5(kind, edits):
    _, src, _ = sm.saved(kind)
    path = write_bytes(scratch(".weights.h5"), flip(file_bytes(src), edits))
    load_weights_outcome(fresh_model(kind), path, f"{kind} .weights.h5 flipped {edits}")


# ------------------------------------------------------------- zip members
MEMBER_NAMES = st.sampled_from(
    ["config.json", "metadata.json", "model.weights.h5", "assets/x.txt", "../evil",
     "/abs", "C:evil", "config.json/", "variables.h5", "Config.json", "", "a\\..\\b"]
)  # fmt: skip
zip_ops = st.lists(
    st.one_of(
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("rename"), st.integers(0, 5), MEMBER_NAMES),
        st.tuples(st.just("add"), MEMBER_NAMES, st.binary(max_size=64)),
        st.tuples(st.just("swap"), st.integers(0, 5), st.integers(0, 5)),
        st.tuples(st.just("duplicate"), st.integers(0, 5)),
        st.tuples(st.just("deflate")),
    ),
    min_size=1,
    max_size=3,
)


def mutate_zip(src: str, dest: str, ops) -> str:
    items = list(sm.members(src).items())
    deflate = False
    for op in ops:
        if op[0] == "deflate":
            deflate = True
            continue
        if op[0] == "add":
            items.append((op[1], op[2]))
            continue
        if not items:
            continue
        i = op[1] % len(items)
        if op[0] == "remove":
            items.pop(i)
        elif op[0] == "rename":
            items[i] = (op[2], items[i][1])
        elif op[0] == "swap":
            j = op[2] % len(items)
            items[i], items[j] = (items[i][0], items[j][1]), (items[j][0], items[i][1])
        elif op[0] == "duplicate":
            items.append(items[i])
    compression = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with warnings_off(), zipfile.ZipFile(dest, "w", compression=compression) as z:
        for name, data in items:
            z.writestr(zipfile.ZipInfo(name) if name else zipfile.ZipInfo("noname"), data)
    return dest


@contextlib.contextmanager
def warnings_off():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        yield


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), ops=zip_ops)
def test_zip_members(kind, ops):
    src, _, original = sm.saved(kind)
    path = mutate_zip(src, scratch(".keras"), ops)
    load_model_outcome(path, f"{kind} zip {ops}", original)
    load_weights_outcome(fresh_model(kind), path, f"{kind} load_weights(zip {ops})", original)


# ------------------------------------------------------------ config.json
HUGE = [2**31, 2**63, 2**64 + 1, 10**30, -(2**63), -1, 0, 1e308, -1e308, float("inf"),
        float("nan"), 10**400]  # fmt: skip
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(HUGE),
    st.sampled_from(["keras.layers", "Dense", "function", "__lambda__", "__keras_tensor__",
                     "relu", "float32", "int64", "string", "Functional", "Sequential"]),
)  # fmt: skip
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def nodes(tree, path=()):
    """Every (path, value) in a JSON tree, the root first."""
    yield path, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from nodes(v, (*path, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from nodes(v, (*path, i))


def set_at(tree, path, value):
    if not path:
        return value
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return tree


def delete_at(tree, path):
    if not path:
        return tree
    node = tree
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return tree


def retype(value):
    """The same information in another JSON type."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return {}


@st.composite
def config_mutation(draw, config):
    config = copy.deepcopy(config)
    for _ in range(draw(st.integers(1, 3))):
        all_nodes = list(nodes(config))
        path, value = all_nodes[draw(st.integers(0, len(all_nodes) - 1))]
        op = draw(st.sampled_from(["delete", "retype", "replace", "huge", "hostile", "unknown"]))
        if op == "delete" and path:
            config = delete_at(config, path)
        elif op == "retype":
            config = set_at(config, path, retype(value))
        elif op == "replace":
            config = set_at(config, path, draw(json_value))
        elif op == "huge":
            config = set_at(config, path, draw(st.sampled_from(HUGE)))
        elif op == "hostile":
            config = set_at(config, path, copy.deepcopy(draw(st.sampled_from(hostile_refs()))))
        elif op == "unknown" and isinstance(value, dict) and "class_name" in value:
            value["class_name"] = draw(
                st.sampled_from(
                    [
                        "NoSuchLayer",
                        "Model",
                        "Layer",
                        "Input",
                        "InputSpec",
                        "Variable",
                        "KerasTensor",
                    ]
                )
            )
            value["registered_name"] = draw(st.sampled_from([None, "NoSuchLayer", "Tiny"]))
    return config


def _config_test(kind: str, data) -> None:
    src, _, original = sm.saved(kind)
    mutated = data.draw(config_mutation(sm.config_of(src)))
    text = json.dumps(mutated)  # NaN/Infinity literals and big ints: json.loads reads them
    path = sm.with_config(src, scratch(".keras"), text)
    load_model_outcome(path, f"{kind} config {text[:400]}", original)


@settings(max_examples=80 * SCALE, **SETTINGS)
@given(data=st.data())
def test_config_mutations_functional(data):
    _config_test("functional", data)


@settings(max_examples=50 * SCALE, **SETTINGS)
@given(data=st.data())
def test_config_mutations_sequential(data):
    _config_test("sequential", data)


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(data=st.data())
def test_config_mutations_subclassed(data):
    _config_test("tiny", data)


@settings(max_examples=30 * SCALE, **SETTINGS)
@given(
    kind=st.sampled_from(KINDS), raw=st.one_of(st.binary(max_size=80), json_value.map(json.dumps))
)
def test_config_replaced_by_garbage(kind, raw):
    src, _, original = sm.saved(kind)
    path = sm.with_config(src, scratch(".keras"), raw)
    load_model_outcome(path, f"{kind} config.json = {raw!r:.200}", original)


# --------------------------------------------------------- h5 structure
def _h5_ops():
    dataset_op = st.one_of(
        st.tuples(st.just("delete")),
        st.tuples(st.just("reshape"), st.lists(st.integers(0, 5), max_size=3)),
        st.tuples(st.just("dtype"), st.sampled_from(["float64", "float16", "int32", "int8", "bool",
                                                     "complex64", "S4", "uint64"])),
        st.tuples(st.just("softlink")),
        st.tuples(st.just("extlink")),
        st.tuples(st.just("rename"), st.sampled_from(["7", "x", "01", "-1", " 0"])),
        st.tuples(st.just("group")),
        st.tuples(st.just("scalar")),
        st.tuples(st.just("nan")),
    )  # fmt: skip
    return st.lists(st.tuples(st.integers(0, 50), dataset_op), min_size=1, max_size=3)


def mutate_h5(path: str, ops) -> None:
    with h5py.File(path, "a") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for index, op in ops:
            if not names:
                return
            name = names[index % len(names)]
            link = f.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink) or not isinstance(f[name], h5py.Dataset):
                continue
            parent = f[name].parent
            leaf = name.rsplit("/", 1)[-1]
            data = f[name][()]
            kind = op[0]
            if kind in (
                "delete",
                "reshape",
                "dtype",
                "softlink",
                "extlink",
                "group",
                "scalar",
                "nan",
            ):
                del f[name]
            if kind == "reshape":
                parent.create_dataset(leaf, data=np.zeros(tuple(op[1]), "float32"))
            elif kind == "dtype":
                try:
                    converted = np.asarray(data).astype(op[1])
                except (TypeError, ValueError):  # e.g. b"0.34" to int32: leave it deleted
                    continue
                parent.create_dataset(leaf, data=converted)
            elif kind == "softlink":
                parent[leaf] = h5py.SoftLink("/" + names[(index + 1) % len(names)])
            elif kind == "extlink":
                parent[leaf] = h5py.ExternalLink("/etc/passwd", "/x")
            elif kind == "rename":
                if op[1] not in parent:
                    parent.move(leaf, op[1])
            elif kind == "group":
                parent.create_group(leaf).create_dataset("0", data=data)
            elif kind == "scalar":
                parent.create_dataset(leaf, data=np.float32(1.0))
            elif kind == "nan":
                parent.create_dataset(leaf, data=np.full(np.shape(data), np.nan, "float32"))


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), ops=_h5_ops())
def test_h5_structure(kind, ops):
    _, src, _ = sm.saved(kind)
    path = write_bytes(scratch(".weights.h5"), file_bytes(src))
    mutate_h5(path, ops)
    load_weights_outcome(fresh_model(kind), path, f"{kind} h5 {ops}")


def file_value_at(path: str, model) -> list:
    """Per variable of ``model``: what the file holds at its place (cast), or
    None where h5py cannot read a matching array there."""
    out = []
    with h5py.File(path, "r") as f:
        for entry in wf.saveable_entries(model):
            for i, v in enumerate(entry.variables):
                key = f"{entry.path}/vars/{i}" if entry.path else f"vars/{i}"
                try:
                    out.append(np.asarray(f[key][()]).astype(v.dtype))
                except Exception:  # noqa: BLE001 - only an oracle
                    out.append(None)
    return out


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), ops=_h5_ops())
def test_h5_structure_skip_mismatch(kind, ops):
    """skip_mismatch=True loads what matches: each variable ends up either as it
    was or as the file holds it; a file that cannot be read changes nothing."""
    _, src, _ = sm.saved(kind)
    path = write_bytes(scratch(".weights.h5"), file_bytes(src))
    mutate_h5(path, ops)
    model = fresh_model(kind)
    before = sm.weights_of(model)
    label = f"{kind} h5 skip_mismatch {ops}"
    with guarded(label), warnings_off():
        try:
            model.load_weights(path, skip_mismatch=True)
        except _Hang:
            raise
        except BaseException as e:  # noqa: BLE001 - classified below
            check_error(e, path, label)
            assert all(np.array_equal(a, b) for a, b in zip(before, sm.weights_of(model))), label
            return
    event("weights loaded (skip_mismatch)")
    in_file = file_value_at(path, model)
    for old, new, want in zip(before, sm.weights_of(model), in_file, strict=True):
        assert np.array_equal(new, old) or (
            want is not None and np.array_equal(new, want, equal_nan=True)
        ), f"{label}: a variable got a value that is neither its own nor the file's"


@settings(max_examples=30 * SCALE, **SETTINGS)
@given(kind=st.sampled_from(KINDS), ops=_h5_ops())
def test_h5_structure_inside_keras(kind, ops):
    src, weights_src, original = sm.saved(kind)
    h5 = write_bytes(scratch(".weights.h5"), file_bytes(weights_src))
    mutate_h5(h5, ops)
    path = sm.with_weights(src, scratch(".keras"), file_bytes(h5))
    model = fresh_model(kind)
    expected = file_values(h5, model)
    with guarded(f"{kind} keras+h5 {ops}"):
        try:
            loaded = sm.load(path)
        except _Hang:
            raise
        except BaseException as e:  # noqa: BLE001 - classified below
            check_error(e, path, f"{kind} keras+h5 {ops}")
            loaded = None
    if loaded is not None:
        assert expected is not None and signature(sm.weights_of(loaded)) == signature(expected)
    load_weights_outcome(model, path, f"{kind} load_weights(keras+h5 {ops})", expected)


# ------------------------------------------------------ legacy Keras 2 .h5
def legacy_values(path: str, model) -> list | None:
    """What a legacy file holds for ``model``'s layers with weights, in order,
    read directly with h5py; None if it cannot be read that way."""
    try:
        with h5py.File(path, "r") as f:
            group = f["model_weights"]
            saved = []
            for name in group.attrs["layer_names"]:
                name = name.decode() if isinstance(name, bytes) else str(name)
                weight_names = list(group[name].attrs.get("weight_names", []))
                if weight_names:
                    saved.append([np.asarray(group[name][w]) for w in weight_names])
        layers = [layer for layer in model.layers if layer.weights]
        return [
            a.astype(v.dtype)
            for layer, arrays in zip(layers, saved, strict=True)
            for v, a in zip(layer.weights, arrays, strict=True)
        ]
    except Exception:  # noqa: BLE001 - only an oracle
        return None


def _legacy_attr_ops():
    garbage = st.one_of(
        st.lists(st.text(st.characters(min_codepoint=1), max_size=6), max_size=4).map(
            lambda v: np.array(v, dtype=h5py.string_dtype())
        ),
        st.lists(st.integers(-5, 5), max_size=4).map(np.array),
        st.sampled_from([np.float32(1.0), "hidden", b"out", np.array([], "float64")]),
    )
    return st.lists(
        st.one_of(
            st.tuples(st.just("layer_names"), garbage),
            st.tuples(st.just("weight_names"), st.integers(0, 5), garbage),
            st.tuples(st.just("drop_attr"), st.integers(0, 5)),
            st.tuples(st.just("reverse_layers")),
        ),
        max_size=2,
    )


def mutate_legacy_attrs(path: str, ops) -> None:
    with h5py.File(path, "a") as f:
        group = f["model_weights"]
        subs = sorted(group)
        for op in ops:
            if op[0] == "layer_names":
                group.attrs["layer_names"] = op[1]
            elif op[0] == "reverse_layers" and np.ndim(group.attrs.get("layer_names")) == 1:
                group.attrs["layer_names"] = group.attrs["layer_names"][::-1]
            elif op[0] == "weight_names" and subs:
                group[subs[op[1] % len(subs)]].attrs["weight_names"] = op[2]
            elif op[0] == "drop_attr" and subs:
                group[subs[op[1] % len(subs)]].attrs.pop("weight_names", None)


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(h5_ops=st.one_of(st.just([]), _h5_ops()), attr_ops=_legacy_attr_ops())
def test_legacy_h5(h5_ops, attr_ops):
    src, original = sm.legacy_h5("functional")
    path = write_bytes(scratch(".h5"), file_bytes(src))
    mutate_h5(path, h5_ops)
    mutate_legacy_attrs(path, attr_ops)
    model = fresh_model("functional")
    load_weights_outcome(model, path, f"legacy h5 {h5_ops} {attr_ops}", legacy_values(path, model))


@settings(max_examples=20 * SCALE, **SETTINGS)
@given(edits=byte_edits, cut=st.floats(0, 1))
def test_legacy_h5_bytes(edits, cut):
    src, original = sm.legacy_h5("functional")
    data = flip(file_bytes(src), edits)
    path = write_bytes(scratch(".h5"), data[: max(1, int(cut * len(data)))])
    model = fresh_model("functional")
    load_weights_outcome(
        model, path, f"legacy h5 bytes {edits} cut {cut}", legacy_values(path, model)
    )


# ------------------------------------------------------------ sanity
def test_unmutated_files_load():
    for kind in KINDS:
        src, weights_src, original = sm.saved(kind)
        load_model_outcome(src, kind, original)
        load_weights_outcome(fresh_model(kind), weights_src, kind, list(original))
    legacy, original = sm.legacy_h5("functional")
    load_weights_outcome(fresh_model("functional"), legacy, "legacy", list(original))


def test_hostile_refs_are_refused_everywhere():
    """Each hostile reference, put in place of each layer of a Functional
    model's config, is refused without importing or running anything."""
    src, _, original = sm.saved("functional")
    config = sm.config_of(src)
    for i in range(len(config["config"]["layers"])):
        for ref in hostile_refs():
            mutated = copy.deepcopy(config)
            mutated["config"]["layers"][i] = {
                **copy.deepcopy(ref),
                "name": "x",
                "inbound_nodes": [],
            }
            path = sm.with_config(src, scratch(".keras"), mutated)
            with guarded(f"layer {i} = {ref}"):
                with pytest.raises(ALLOWED) as info:
                    sm.load(path)
            check_error(info.value, path, f"layer {i} = {ref}")


def test_unsafe_mode_off_still_refuses_foreign_modules():
    """safe_mode=False runs lambdas the user trusts, but a module path in a
    config is still never imported."""
    src, _, _ = sm.saved("functional")
    for ref in hostile_refs()[:6]:
        config = sm.config_of(src)
        config["config"]["layers"][1] = {**copy.deepcopy(ref), "name": "x", "inbound_nodes": []}
        path = sm.with_config(src, scratch(".keras"), config)
        with guarded(f"unsafe {ref}"):
            with pytest.raises(ALLOWED):
                sm.load(path, safe_mode=False)


def test_callax_itself_never_imports_test_modules():
    assert CANARY not in sys.modules
    assert callax.saving is not None
