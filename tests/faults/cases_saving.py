"""Saving and loading: bad paths and arguments, damaged and hostile files.
Loading errors name the file; a failed load_weights leaves the model as it was."""

from __future__ import annotations

import copy
import os
import shutil
import sys
import warnings

import numpy as np
import saved_models as sm
from fault_case import OK, C, file_bytes, write_bytes

import callax

L = callax.layers
V = ValueError
T = TypeError
S = callax.saving


def _copy(kind: str, dest, ext: str = ".keras") -> str:
    keras_path, weights_path, _ = sm.saved(kind)
    src = keras_path if ext == ".keras" else weights_path
    out = os.path.join(dest, f"copy{ext}")
    shutil.copyfile(src, out)
    return out


def _load_config(dest, kind: str, edit) -> object:
    """load_model of ``kind``'s archive whose config went through ``edit``."""
    src = sm.saved(kind)[0]
    config = copy.deepcopy(sm.config_of(src))
    edit(config)
    return sm.load(sm.with_config(src, os.path.join(dest, "edited.keras"), config))


def _layer(config, i):
    return config["config"]["layers"][i]


def _set(path, value):
    def edit(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _load_bytes(dest, data: bytes, name: str = "bad.keras"):
    return sm.load(write_bytes(os.path.join(dest, name), data))


def _truncated(dest, fraction: float):
    data = file_bytes(sm.saved("functional")[0])
    return _load_bytes(dest, data[: int(len(data) * fraction)], "cut.keras")


def _zip_with(dest, edit):
    content = sm.members(sm.saved("functional")[0])
    edit(content)
    return sm.load(sm.write_zip(os.path.join(dest, "edited.keras"), content))


def _weights_into(dest, kind: str, model) -> object:
    """load_weights of ``kind``'s weights into ``model``; returns (before, model)."""
    return model.load_weights(sm.saved(kind)[1])


def _unchanged_after_failed_load(dest):
    model = callax.Sequential(
        [callax.Input((3,)), L.Dense(5, name="hidden"), L.BatchNormalization(name="bn")]
    )
    before = sm.weights_of(model)
    try:
        model.load_weights(sm.saved("sequential")[1])
    except ValueError:
        pass
    else:
        raise AssertionError("a mismatched file loaded")
    return before, sm.weights_of(model)


def _same(pair):
    before, after = pair
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def _skip_mismatch():
    model = callax.Sequential(
        [callax.Input((3,)), L.Dense(4, name="hidden"), L.Dense(2, name="extra")]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(sm.saved("sequential")[1], skip_mismatch=True)
    return model, caught


def _skip_mismatch_check(result):
    model, caught = result
    expected = sm.saved("sequential")[2]
    assert np.array_equal(model.weights[0].value, expected[0])  # hidden/kernel matched
    assert any("skip_mismatch" in str(w.message) for w in caught), [str(w.message) for w in caught]


def _model_weights_equal(kind):
    def check(model):
        assert sm.signature_of(model) == sm.signature(sm.saved(kind)[2])

    return check


def _unbuilt():
    return callax.Sequential([L.Dense(2)])


def _save_lambda_model(dest):
    i = callax.Input((3,))
    model = callax.Model(i, L.Lambda(lambda t: t * 2)(i))
    path = os.path.join(dest, "lambda.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    modules = set(sys.modules)
    try:
        S.load_model(path)
    finally:
        assert set(sys.modules) == modules
    return path


class _NoConfig(callax.layers.Layer):
    def __init__(self, thing, **kwargs):
        super().__init__(**kwargs)
        self.thing = thing

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "thing": self.thing}


def _unserializable(dest):
    i = callax.Input((3,))
    model = callax.Model(i, _NoConfig(object(), name="odd")(i))
    return model.save(os.path.join(dest, "odd.keras"))


def _saved_again(dest):
    path = _copy("functional", dest)
    sm.load(path).save(path, overwrite=False)


def _legacy(dest, edit):
    """load_weights of the legacy Keras 2 .h5 file after ``edit(h5py.File)``."""
    import h5py

    path = os.path.join(dest, "legacy.h5")
    shutil.copyfile(sm.legacy_h5("functional")[0], path)
    with h5py.File(path, "a") as f:
        edit(f["model_weights"])
    model = sm.make("functional")
    before = sm.weights_of(model)
    try:
        model.load_weights(path)
    finally:
        _same((before, sm.weights_of(model)))  # all or nothing


def _weights_from(path):
    model = sm.make("functional")
    model.load_weights(str(path))
    return model


def _zip_version(dest):
    data = bytearray(file_bytes(sm.saved("functional")[0]))
    data[data.find(b"PK\x01\x02") + 6] = 84  # "version needed to extract": 8.4
    return _load_bytes(dest, bytes(data), "version.keras")


def _rename_dataset(dest, old, new):
    import h5py

    path = os.path.join(dest, "renamed.weights.h5")
    shutil.copyfile(sm.saved("functional")[1], path)
    with h5py.File(path, "a") as f:
        f.move(old, new)
    return sm.make("functional").load_weights(path)


def _legacy_flipped(dest):
    data = bytearray(file_bytes(sm.legacy_h5("functional")[0]))
    data[int(0.046875 * len(data))] ^= 1
    return sm.make("functional").load_weights(
        write_bytes(os.path.join(dest, "flipped.h5"), bytes(data))
    )


def _legacy_loaded():
    model = sm.make("functional")
    model.load_weights(sm.legacy_h5("functional")[0])
    return model


def _relink(group, target):
    import h5py

    del group["hidden/hidden/kernel"]
    group["hidden/hidden/kernel"] = target if not isinstance(target, str) else h5py.SoftLink(target)


def _external(group):
    import h5py

    del group["hidden/hidden/kernel"]
    group["hidden/hidden/kernel"] = h5py.ExternalLink("/etc/passwd", "/x")


def _retype(group, dtype):
    data = group["out/out/bias"][()]
    del group["out/out/bias"]
    group["out/out"].create_dataset("bias", data=data.astype(dtype))


# fmt: off
CASES = [
    # Paths and arguments
    C("load-h5-model-of-unknown-class", lambda p: (sm.make("tiny").save(str(p / "m.h5")), S.load_model(str(p / "m.h5"))), T, "m.h5", "Tiny", "custom_objects"),
    C("save-txt-extension", lambda p: sm.make("functional").save(str(p / "m.txt")), V, "m.txt", ".keras"),
    C("save-weights-wrong-extension", lambda p: sm.make("functional").save_weights(str(p / "m.h5")), V, ".weights.h5", "m.h5"),
    C("save-int-path", lambda: S.save_model(sm.make("functional"), 5), T, "filepath", "int"),
    C("save-unknown-kwarg", lambda p: S.save_model(sm.make("functional"), str(p / "m.keras"), bogus=1), T, "bogus"),
    C("save-overwrite-false-existing", _saved_again, FileExistsError, "overwrite=False", "copy.keras"),
    C("save-unserializable-config", _unserializable, T, "Cannot serialize", "object", "get_config"),
    C("load-missing-file", lambda p: S.load_model(str(p / "nope.keras")), FileNotFoundError, "nope.keras"),
    C("load-directory", lambda p: S.load_model(str(p)), V, "directory"),
    C("load-weights-file-as-model", lambda: S.load_model(sm.saved("functional")[1]), V, "weights only", "load_weights"),
    C("load-legacy-h5-model", lambda p: S.load_model(write_bytes(p / "m.h5", b"\x89HDF\r\n\x1a\n")), V, "m.h5", "legacy"),
    C("load-weights-missing-file", lambda p: sm.make("functional").load_weights(str(p / "nope.weights.h5")), FileNotFoundError, "nope.weights.h5"),
    C("load-weights-unbuilt-model", lambda: _unbuilt().load_weights(sm.saved("sequential")[1]), V, "not been built", "build"),
    C("load-weights-unknown-kwarg", lambda: sm.make("functional").load_weights(sm.saved("functional")[1], bogus=1), T, "bogus"),
    # Damaged files
    C("load-empty-file", lambda p: _load_bytes(p, b""), V, "bad.keras", "not a zip"),
    C("load-text-file", lambda p: _load_bytes(p, b"hello, I am not a model"), V, "bad.keras", "not a zip"),
    C("load-truncated-half", lambda p: _truncated(p, 0.5), V, "cut.keras"),
    C("load-truncated-end", lambda p: _truncated(p, 0.99), V, "cut.keras"),
    C("load-weights-not-hdf5", lambda p: sm.make("functional").load_weights(write_bytes(p / "w.weights.h5", b"junk" * 10)), V, "w.weights.h5", "HDF5"),
    C("load-weights-truncated", lambda p: sm.make("functional").load_weights(write_bytes(p / "w.weights.h5", file_bytes(sm.saved("functional")[1])[:900])), V, "w.weights.h5"),
    C("load-zip-without-config", lambda p: _zip_with(p, lambda c: c.pop("config.json")), V, "config.json", "edited.keras"),
    C("load-zip-without-weights", lambda p: _zip_with(p, lambda c: c.pop("model.weights.h5")), V, "model.weights.h5", "edited.keras"),
    C("load-zip-extra-member", lambda p: _zip_with(p, lambda c: c.update({"evil.py": b"print(1)"})), V, "evil.py", "edited.keras"),
    C("load-zip-path-traversal", lambda p: _zip_with(p, lambda c: c.update({"../evil": b"x"})), V, "unsafe", "../evil"),
    C("load-zip-weights-garbage", lambda p: _zip_with(p, lambda c: c.update({"model.weights.h5": b"garbage"})), V, "edited.keras", "HDF5"),
    C("load-config-not-json", lambda p: _zip_with(p, lambda c: c.update({"config.json": b"{not json"})), V, "config.json", "JSON"),
    C("load-config-json-list", lambda p: _zip_with(p, lambda c: c.update({"config.json": b"[1, 2]"})), V, "config.json", "JSON object", "list"),
    C("load-metadata-not-json", lambda p: _zip_with(p, lambda c: c.update({"metadata.json": b"\xff\xfe"})), V, "metadata.json"),
    # Configs: unknown, hostile and malformed (regressions from test_fuzz_loaders)
    C("load-unregistered-class", lambda: S.load_model(sm.saved("tiny")[0]), T, "Tiny", "register_keras_serializable", "custom_objects"),
    C("load-unknown-layer-class", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1).update(class_name="NoSuchLayer")), T, "NoSuchLayer", "edited.keras"),
    C("load-foreign-module-class", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1).update(module="os", class_name="system")), T, "system", "edited.keras"),
    C("load-lambda-safe-mode", _save_lambda_model, V, "lambda", "safe_mode=False"),
    C("load-module-not-str", lambda p: _load_config(p, "functional", _set(("module",), 2**31)), T, "edited.keras", "'module'", "int"),
    C("load-class-name-not-str", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1).update(class_name=["Dense"])), T, "edited.keras", "'class_name'", "list"),
    C("load-config-without-class-name", lambda p: _load_config(p, "functional", lambda c: c.pop("class_name")), T, "edited.keras", "does not describe a model"),
    C("load-compile-config-garbage", lambda p: _load_config(p, "tiny", _set(("compile_config",), "0")), V, "edited.keras"),
    C("load-compile-config-unknown-arg", lambda p: _load_config(p, "tiny", _set(("compile_config",), {"module": "x"})), T, "edited.keras", "module"),
    C("load-build-config-string-shape", lambda p: _load_config(p, "tiny", _set(("build_config", "input_shape"), ["3"])), V, "edited.keras", "input_shape"),
    C("load-build-config-number", lambda p: _load_config(p, "tiny", _set(("build_config",), 1e308)), T, "edited.keras", "build_config", "float"),
    C("load-inbound-nodes-garbage", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1).update(inbound_nodes=[5])), V, "edited.keras", "malformed"),
    C("load-huge-units-refused", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1)["config"].update(units=10**9)), V, "edited.keras", "refusing to allocate", "(3, 1000000000)"),
    C("load-huge-units-subclassed", lambda p: _load_config(p, "tiny", _set(("build_config", "input_shape"), [1, 10**9])), V, "edited.keras", "refusing to allocate"),
    C("load-negative-units", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1)["config"].update(units=-1)), V, "edited.keras", "units", "-1"),
    C("load-units-changed-shape-mismatch", lambda p: _load_config(p, "functional", lambda c: _layer(c, 1)["config"].update(units=5)), V, "edited.keras", "out", "value 4"),
    # Weights files: shapes, layouts, all or nothing
    C("load-weights-wrong-shapes", lambda: callax.Sequential([callax.Input((3,)), L.Dense(5, name="hidden"), L.BatchNormalization(name="bn")]).load_weights(sm.saved("sequential")[1]), V, "shape mismatch", "(3, 5)", "(3, 4)", "nothing was loaded"),
    C("load-weights-missing-layer", lambda: callax.Sequential([callax.Input((3,)), L.Dense(4), L.BatchNormalization(), L.Dense(1)]).load_weights(sm.saved("sequential")[1]), V, "missing", "skip_mismatch"),
    C("load-weights-extra-layer", lambda: callax.Sequential([callax.Input((3,)), L.Dense(4)]).load_weights(sm.saved("sequential")[1]), V, "extra"),
    OK("load-weights-failure-changes-nothing", _unchanged_after_failed_load, _same),
    OK("load-weights-skip-mismatch-loads-matching", _skip_mismatch, _skip_mismatch_check),
    C("load-keras-weights-into-other-model", lambda: callax.Sequential([callax.Input((3,)), L.Dense(7)]).load_weights(sm.saved("functional")[0]), V, "functional.keras", "shape mismatch"),
    C("load-zip-unsupported-version", _zip_version, V, "version.keras", "zip"),
    C("load-weights-dataset-01", lambda p: _rename_dataset(p, "layers/dense/vars/1", "layers/dense/vars/01"), V, "renamed.weights.h5", "'layers/dense/vars/01'", "numbered"),
    # Legacy Keras 2 .h5 weights (regressions from test_fuzz_loaders)
    C("load-legacy-damaged-header", _legacy_flipped, V, "flipped.h5"),
    OK("load-legacy-h5", lambda: _legacy_loaded(), _model_weights_equal("functional")),
    C("load-legacy-not-hdf5", lambda p: sm.make("functional").load_weights(write_bytes(p / "junk.h5", b"\x89HDF junk")), V, "junk.h5", "HDF5"),
    C("load-legacy-external-link", lambda p: _legacy(p, _external), V, "legacy.h5", "ExternalLink"),
    C("load-legacy-soft-link", lambda p: _legacy(p, lambda g: _relink(g, "/model_weights/out/out/kernel")), V, "legacy.h5", "SoftLink"),
    C("load-legacy-missing-dataset", lambda p: _legacy(p, lambda g: g["out/out"].__delitem__("bias")), V, "legacy.h5", "out/bias"),
    C("load-legacy-layer-names-ints", lambda p: _legacy(p, lambda g: g.attrs.__setitem__("layer_names", np.arange(3))), V, "legacy.h5", "layer_names"),
    C("load-legacy-weight-names-missing-layer", lambda p: _legacy(p, lambda g: g.attrs.__setitem__("layer_names", np.array([b"hidden", b"nope"]))), V, "legacy.h5", "nope"),
    C("load-legacy-string-dataset", lambda p: _legacy(p, lambda g: _retype(g, "S4")), V, "legacy.h5", "numeric"),
    C("load-legacy-wrong-shape", lambda p: _legacy(p, lambda g: (g["out/out"].__delitem__("bias"), g["out/out"].create_dataset("bias", data=np.zeros(3)))), V, "legacy.h5", "(2,)", "(3,)"),
    # Loading sniffs the content, not the extension (the archive is validated either way)
    OK("load-model-zip-extension", lambda p: sm.load(shutil.copyfile(sm.saved("functional")[0], p / "model.zip")), _model_weights_equal("functional")),
    OK("load-weights-txt-extension", lambda p: _weights_from(shutil.copyfile(sm.saved("functional")[1], p / "w.txt")), _model_weights_equal("functional")),
    C("load-weights-keras-content-as-h5", lambda p: sm.make("functional").load_weights(shutil.copyfile(sm.saved("functional")[0], p / "m.weights.h5")), V, "m.weights.h5", "HDF5"),
    OK("load-model-roundtrip", lambda: sm.load(sm.saved("functional")[0]), _model_weights_equal("functional")),
]
# fmt: on
