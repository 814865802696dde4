"""TensorBoard (event files read back by an independent reader here and by
TensorBoard itself), SwapEMAWeights and RemoteMonitor."""

from __future__ import annotations

import glob
import http.server
import json
import os
import struct
import threading
import urllib.parse

import numpy as np
import pytest

import callax
from callax.callbacks import RemoteMonitor, SwapEMAWeights, TensorBoard


# ------------------------------------------------------------ an independent reader
def _crc32c_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _crc32c_bitwise(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _records(path):
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == _masked(header)
        payload = data[pos + 12 : pos + 12 + length]
        assert struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])[0] == _masked(
            payload
        )
        out.append(payload)
        pos += 16 + length
    return out


def _fields(buf: bytes) -> dict:
    """Generic protobuf decoding: field number -> list of raw values."""
    out: dict = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.setdefault(field, []).append(value)
    return out


def _read_varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def _events(folder):
    """``(file_version, {tag: [(step, value)]})`` of the single event file in folder."""
    (path,) = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    records = [_fields(r) for r in _records(path)]
    version = records[0][3][0].decode()
    scalars: dict = {}
    for ev in records[1:]:
        step = ev.get(2, [0])[0]
        for value in _fields(ev[5][0])[1]:
            v = _fields(value)
            tag = v[1][0].decode()
            if 2 in v:
                scalars.setdefault(tag, []).append((step, struct.unpack("<f", v[2][0])[0]))
            elif 8 in v:  # a string tensor for a plugin (write_graph's model config)
                plugin = _fields(_fields(v[9][0])[1][0])[1][0].decode()
                strings = [b.decode() for b in _fields(v[8][0]).get(8, [])]
                scalars.setdefault(tag, []).append((step, {"plugin": plugin, "strings": strings}))
            else:
                h = _fields(v[5][0])
                d = {k: struct.unpack("<d", h[k][0])[0] for k in (1, 2, 3, 4, 5)}
                d["bucket"] = struct.unpack(f"<{len(h[7][0]) // 8}d", h[7][0])
                scalars.setdefault(tag, []).append((step, d))
    return version, scalars


def test_crc32c_known_value():
    from callax.callbacks.tensorboard_events import crc32c, masked_crc32c

    assert crc32c(b"123456789") == 0xE3069283 == _crc32c_bitwise(b"123456789")
    assert masked_crc32c(b"abc") == _masked(b"abc")


def _fit_with_tensorboard(log_dir, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(4, name="hidden"),
                               callax.layers.Dense(1, name="head")], name="tb")  # fmt: skip
    model.compile(callax.optimizers.SGD(0.05), "mse", metrics=["mae"])
    tb = TensorBoard(log_dir, **kwargs)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[tb])  # fmt: skip
    return model, history


def test_tensorboard_event_files_hold_the_history(tmp_path):
    model, history = _fit_with_tensorboard(tmp_path, histogram_freq=1, update_freq=2)
    version, train = _events(tmp_path / "train")
    assert version == "brain.Event:2"
    for key in ("loss", "mae"):
        steps = [s for s, _ in train[f"epoch_{key}"]]
        values = [v for _, v in train[f"epoch_{key}"]]
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, history.history[key], rtol=1e-6)
    assert [v for _, v in train["epoch_learning_rate"]] == pytest.approx([0.05] * 3)
    # 3 steps per epoch (24 training samples / 8), logged every 2 global batches.
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]
    # Histograms of the final weights at the last epoch.
    kernel = np.asarray(model.layers[0].kernel.value)
    (last_step, histo) = train["tb/hidden/kernel/histogram"][-1]
    assert last_step == 2 and histo[3] == kernel.size
    np.testing.assert_allclose(histo[4], kernel.sum(), rtol=1e-5)
    np.testing.assert_allclose([histo[1], histo[2]], [kernel.min(), kernel.max()], rtol=1e-6)
    assert sum(histo["bucket"]) == kernel.size
    _, val = _events(tmp_path / "validation")
    np.testing.assert_allclose([v for _, v in val["epoch_loss"]], history.history["val_loss"],
                               rtol=1e-6)  # fmt: skip
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [3, 6, 9]


def test_tensorboard_reads_the_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, history = _fit_with_tensorboard(tmp_path, histogram_freq=1)
    acc = EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    events = acc.Scalars("epoch_loss")
    assert [e.step for e in events] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in events], history.history["loss"], rtol=1e-6)
    assert "tb/hidden/kernel/histogram" in acc.Tags()["histograms"]
    assert acc.Histograms("tb/hidden/kernel/histogram")[-1].histogram_value.num == 12
    val = EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")],
                               history.history["val_loss"], rtol=1e-6)  # fmt: skip


def test_tensorboard_defaults_write_epochs_only(tmp_path):
    model, _ = _fit_with_tensorboard(tmp_path)
    _, train = _events(tmp_path / "train")
    # write_graph=True (the default): the model's config for the Graphs tab, at step 0.
    ((step, graph),) = train.pop("keras")
    assert step == 0 and graph["plugin"] == "graph_keras_model"
    assert graph["strings"] == [model.to_json()]
    assert not any(t.startswith("batch_") or t.endswith("/histogram") for t in train)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(tmp_path, update_freq="sometimes")


# ------------------------------------------------------------ SwapEMAWeights
def _ema_model(seed=0):
    callax.utils.set_random_seed(seed)
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    model.compile(callax.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    return model


def _xy():
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_swap_ema_weights_for_evaluate_and_predict():
    x, y = _xy()
    model = _ema_model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    averages = [np.asarray(a.value) for a in model.optimizer._model_variables_moving_average]
    training = [w + 1.0 for w in model.get_weights()]
    model.set_weights(training)
    with_ema = model.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])
    for w, t in zip(model.get_weights(), training):  # training weights are back
        np.testing.assert_array_equal(w, t)
    reference = _ema_model()
    reference.set_weights(averages)
    np.testing.assert_allclose(with_ema, reference.evaluate(x, y, verbose=0), rtol=1e-6)
    assert abs(with_ema - model.evaluate(x, y, verbose=0)) > 1e-3
    pred = model.predict(x, verbose=0, callbacks=[SwapEMAWeights()])
    np.testing.assert_allclose(pred, reference.predict(x, verbose=0), rtol=1e-5)
    for w, t in zip(model.get_weights(), training):
        np.testing.assert_array_equal(w, t)


def test_swap_on_epoch_does_not_change_training():
    x, y = _xy()
    a, b = _ema_model(3), _ema_model(3)
    b.set_weights(a.get_weights())
    seen = []
    peek = callax.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            [np.asarray(v.value).copy() for v in a.trainable_variables]
        )
    )
    a.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, validation_data=(x, y),
          callbacks=[SwapEMAWeights(swap_on_epoch=True), peek])  # fmt: skip
    b.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, validation_data=(x, y))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    for wa, wb in zip(seen[-1], b.get_weights()):  # EMA weights seen at the last epoch end
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_swap_ema_weights_needs_use_ema():
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = _xy()
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])


# ------------------------------------------------------------ RemoteMonitor
@pytest.fixture
def server():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body, self.headers))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_epoch_logs(server):
    root, received = server
    x, y = _xy()
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        RemoteMonitor(root=root), RemoteMonitor(root=root, path="/json", send_as_json=True,
                                                headers={"X-Run": "7"}),
    ])  # fmt: skip
    form = [r for r in received if r[0] == "/publish/epoch/end/"]
    as_json = [r for r in received if r[0] == "/json"]
    assert len(form) == len(as_json) == 2
    data = json.loads(urllib.parse.parse_qs(form[1][2].decode())["data"][0])
    assert data["epoch"] == 1 and data["loss"] == pytest.approx(history.history["loss"][1])
    assert form[0][1] == "application/x-www-form-urlencoded"
    payload = json.loads(as_json[0][2])
    assert payload["epoch"] == 0 and as_json[0][1] == "application/json"
    assert as_json[0][3]["X-Run"] == "7"


def test_remote_monitor_warns_when_unreachable():
    monitor = RemoteMonitor(root="http://127.0.0.1:9", timeout=2)
    with pytest.warns(UserWarning, match="could not reach"):
        monitor.on_epoch_end(0, {"loss": np.float32(0.5)})
