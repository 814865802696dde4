"""Hostile, damaged and foreign files: each gives a clear error naming the file,
never a stack trace from zipfile or h5py, and never runs code."""

from __future__ import annotations

import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import callax
from callax import saving
from callax.saving import KerasArchiveError, WeightsFileError
from callax.saving import keras_archive as ka


class Tiny(callax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d = callax.layers.Dense(2)

    def call(self, x):
        return self.d(x)


def _model():
    m = Tiny()
    m(np.ones((1, 3), "float32"))
    return m


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.keras"
    _model().save(path)
    return path


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_zip(path, members, **info_kw):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, **info_kw), data)
    return path


def _load(path):
    return saving.load_model(path, custom_objects={"Tiny": Tiny})


def test_good_file_loads(good):
    assert isinstance(_load(good), Tiny)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil", "C:/evil"])
def test_path_traversal_and_absolute_paths(good, tmp_path, name):
    members = _members(good)
    members[name] = b"x"
    bad = _write_zip(tmp_path / "bad.keras", members)
    with pytest.raises(KerasArchiveError, match=r"bad.keras.*unsafe path"):
        _load(bad)


def test_unexpected_member(good, tmp_path):
    members = _members(good)
    members["payload.pkl"] = b"cos\nsystem\n"
    bad = _write_zip(tmp_path / "bad.keras", members)
    with pytest.raises(KerasArchiveError, match=r"unexpected archive member 'payload.pkl'"):
        _load(bad)


@pytest.mark.parametrize("missing", ["config.json", "model.weights.h5"])
def test_missing_members(good, tmp_path, missing):
    members = _members(good)
    del members[missing]
    bad = _write_zip(tmp_path / "bad.keras", members)
    with pytest.raises(KerasArchiveError, match=rf"bad.keras.*has no '{missing}'"):
        _load(bad)


def test_symlink_member(good, tmp_path):
    members = _members(good)
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
        info = zipfile.ZipInfo("metadata.json.link")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(KerasArchiveError, match="symbolic link"):
        _load(bad)


def test_oversized_member(good, tmp_path, monkeypatch):
    members = _members(good)
    members["config.json"] = json.dumps({"pad": "x" * 5000}).encode()
    bad = _write_zip(tmp_path / "bad.keras", members)
    monkeypatch.setattr(ka, "MAX_JSON_BYTES", 1000)
    with pytest.raises(KerasArchiveError, match=r"config.json' declares \d+ bytes, over the limit"):
        _load(bad)


def test_zip_bomb_ratio(good, tmp_path):
    members = _members(good)
    bad = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data if n != "config.json" else b" " * (8 * 2**20))
    with pytest.raises(KerasArchiveError, match="zip bomb"):
        _load(bad)


def test_duplicate_member(good, tmp_path):
    members = _members(good)
    bad = tmp_path / "dup.keras"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
        with pytest.warns(UserWarning):
            z.writestr("config.json", b"{}")
    with pytest.raises(KerasArchiveError, match="appears twice"):
        _load(bad)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"\x89PNG\r\n\x1a\n" + b"0" * 100])
def test_foreign_files(tmp_path, content):
    bad = tmp_path / "foreign.keras"
    bad.write_bytes(content)
    with pytest.raises(KerasArchiveError, match=r"foreign.keras.*not a zip archive"):
        _load(bad)


def test_truncated_archive(good, tmp_path):
    data = good.read_bytes()
    for cut in (len(data) // 3, len(data) - 30):
        bad = tmp_path / "cut.keras"
        bad.write_bytes(data[:cut])
        with pytest.raises(KerasArchiveError, match=r"cut.keras"):
            _load(bad)


def test_corrupted_weights_bytes(good, tmp_path):
    data = bytearray(good.read_bytes())
    start = data.find(b"\x89HDF")
    data[start + 200 : start + 400] = b"\xff" * 200
    bad = tmp_path / "flip.keras"
    bad.write_bytes(bytes(data))
    with pytest.raises((KerasArchiveError, WeightsFileError), match="flip.keras"):
        _load(bad)


@pytest.mark.parametrize("config", [b"[1, 2]", b"{not json", b"\xff\xfe"])
def test_config_of_wrong_type(good, tmp_path, config):
    members = _members(good)
    members["config.json"] = config
    bad = _write_zip(tmp_path / "cfg.keras", members)
    with pytest.raises(KerasArchiveError, match=r"'config.json' from .*cfg.keras"):
        _load(bad)


def test_config_naming_unknown_class(good, tmp_path):
    members = _members(good)
    members["config.json"] = json.dumps(
        {"module": "os", "class_name": "system", "config": {}, "registered_name": None}
    ).encode()
    bad = _write_zip(tmp_path / "os.keras", members)
    with pytest.raises(TypeError, match=r"os.keras.*Could not locate class 'system'"):
        _load(bad)


def test_lambda_layer_refused_without_safe_mode_off(tmp_path):
    inp = callax.Input((3,))
    out = callax.layers.Lambda(lambda t: t * 2)(inp)
    m = callax.Model(inp, out)
    m.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.load_model(tmp_path / "lam.keras")
    back = saving.load_model(tmp_path / "lam.keras", safe_mode=False)
    np.testing.assert_allclose(np.asarray(back(np.ones((1, 3), "float32"))), 2.0)


# ------------------------------------------------------------ weights files
def _weights(tmp_path, build):
    path = tmp_path / "w.weights.h5"
    with h5py.File(path, "w") as f:
        build(f)
    return path


def test_weights_external_link_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.ones(3)

    def build(f):
        f["d/vars/0"] = np.ones((3, 2), "float32")
        f["d/vars/1"] = h5py.ExternalLink(str(other), "x")

    with pytest.raises(WeightsFileError, match=r"w.weights.h5.*ExternalLink"):
        _model().load_weights(_weights(tmp_path, build))


def test_weights_soft_link_refused(tmp_path):
    def build(f):
        f["d/vars/0"] = np.ones((3, 2), "float32")
        f["d/vars/1"] = h5py.SoftLink("/d/vars/0")

    with pytest.raises(WeightsFileError, match="SoftLink"):
        _model().load_weights(_weights(tmp_path, build))


def test_weights_object_dtype_refused(tmp_path):
    def build(f):
        f.create_dataset("d/vars/0", data=np.array([b"a", b"b"], dtype=object),
                         dtype=h5py.string_dtype())  # fmt: skip

    with pytest.raises(WeightsFileError, match="only numeric arrays"):
        _model().load_weights(_weights(tmp_path, build))


def test_weights_bad_names_refused(tmp_path):
    def build(f):
        f["d/vars/kernel"] = np.ones((3, 2), "float32")

    with pytest.raises(WeightsFileError, match="numbered dataset"):
        _model().load_weights(_weights(tmp_path, build))


def test_weights_not_hdf5(tmp_path):
    path = tmp_path / "junk.weights.h5"
    path.write_bytes(b"junk" * 100)
    with pytest.raises(WeightsFileError, match=r"junk.weights.h5.*not a valid HDF5"):
        _model().load_weights(path)


def test_truncated_weights_file(tmp_path):
    m = _model()
    m.save_weights(tmp_path / "w.weights.h5")
    data = (tmp_path / "w.weights.h5").read_bytes()
    (tmp_path / "t.weights.h5").write_bytes(data[: len(data) // 2])
    before = m.get_weights()
    with pytest.raises(WeightsFileError, match="t.weights.h5"):
        m.load_weights(tmp_path / "t.weights.h5")
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bytesio_archive_reader_rejects_garbage():
    with pytest.raises(KerasArchiveError, match="not a zip archive"):
        ka.ArchiveReader(io.BytesIO(b"garbage"))


def test_lambda_naming_an_arbitrary_module_function_is_refused(tmp_path):
    inp = callax.Input((3,))
    m = callax.Model(inp, callax.layers.Lambda(callax.ops.abs)(inp))
    m.save(tmp_path / "abs.keras")
    members = _members(tmp_path / "abs.keras")
    text = members["config.json"].decode()
    assert '"abs"' in text
    cfg = json.loads(text)
    for layer in cfg["config"]["layers"]:
        if layer["class_name"] == "Lambda":
            layer["config"]["function"] = {"module": "os", "class_name": "function",
                                           "config": "getcwd", "registered_name": "function"}  # fmt: skip
    members["config.json"] = json.dumps(cfg).encode()
    bad = _write_zip(tmp_path / "os.keras", members)
    with pytest.raises(ValueError, match="refusing to import function 'getcwd' from module 'os'"):
        saving.load_model(bad)
