"""Writing TensorBoard event files without TensorFlow.

An event file (``events.out.tfevents.*``) is a sequence of TFRecords, each
``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little-endian), whose data is a serialized ``tensorflow.Event`` protobuf. The
first event carries ``file_version = "brain.Event:2"``; the others carry a
``Summary`` with scalar (``simple_value``), histogram (``HistogramProto``) or
plugin string-tensor values (the model's JSON config for the graph plugin).
The few messages needed are encoded here by hand (varints and tagged fields),
so TensorBoard reads the files while callax depends on neither TensorFlow nor
protobuf.

Example:
    >>> import tempfile
    >>> from callax.callbacks.tensorboard_events import EventFileWriter, crc32c
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    >>> writer = EventFileWriter(tempfile.mkdtemp())
    >>> writer.add_scalar("epoch_loss", 0.5, step=0)
    >>> writer.close()
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterable

import numpy as np

# ------------------------------------------------------------------ CRC32C


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum TFRecords use."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits, add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """``data`` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# ------------------------------------------------------------------ protobuf
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as two's complement (10 bytes)
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _double_field(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def _float_field(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(value))


def _packed_doubles(field: int, values: Iterable[float]) -> bytes:
    return _bytes_field(field, b"".join(struct.pack("<d", float(v)) for v in values))


def event(wall_time: float, step: int, *, file_version: str | None = None,
          summary: bytes | None = None) -> bytes:  # fmt: skip
    """A serialized ``Event``: wall_time (1), step (2), file_version (3) or summary (5)."""
    out = _double_field(1, wall_time) + _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode("utf-8"))
    if summary is not None:
        out += _bytes_field(5, summary)
    return out


def scalar_value(tag: str, value: float) -> bytes:
    """A ``Summary.Value`` with tag (1) and simple_value (2)."""
    return _bytes_field(1, tag.encode("utf-8")) + _float_field(2, value)


def histogram_value(tag: str, values: np.ndarray, bins: int = 30) -> bytes:
    """A ``Summary.Value`` with tag (1) and histo (5): a ``HistogramProto`` of
    ``bins`` equal-width buckets (min 1, max 2, num 3, sum 4, sum_squares 5,
    bucket_limit 6, bucket 7)."""
    data = np.asarray(values, dtype=np.float64).ravel()
    data = data[np.isfinite(data)]
    if data.size == 0:
        data = np.zeros(1)
    low, high = float(data.min()), float(data.max())
    if low == high:  # one bucket around the single value
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(data, bins=bins, range=(low, high))
    histo = (
        _double_field(1, data.min()) + _double_field(2, data.max())
        + _double_field(3, data.size) + _double_field(4, data.sum())
        + _double_field(5, np.square(data).sum())
        + _packed_doubles(6, edges[1:]) + _packed_doubles(7, counts)
    )  # fmt: skip
    return _bytes_field(1, tag.encode("utf-8")) + _bytes_field(5, histo)


def blob_sequence_value(tag: str, blobs: list[bytes], plugin_name: str, content: bytes) -> bytes:
    """A ``Summary.Value`` holding a string tensor of ``blobs`` for a TensorBoard plugin.

    Fields: tag (1), metadata (9: ``SummaryMetadata`` with plugin_data (1:
    plugin_name 1, content 2) and data_class (4) = ``DATA_CLASS_BLOB_SEQUENCE``),
    tensor (8: ``TensorProto`` with dtype (1) = ``DT_STRING``, tensor_shape (2,
    one dim of size len(blobs)) and string_val (8, repeated)). This is how
    Keras writes a model's JSON config for the graph plugin.
    """
    plugin = _bytes_field(1, plugin_name.encode("utf-8")) + _bytes_field(2, content)
    metadata = _bytes_field(1, plugin) + _key(4, 0) + _varint(3)  # DATA_CLASS_BLOB_SEQUENCE
    shape = _bytes_field(2, _key(1, 0) + _varint(len(blobs)))  # dim { size: n }
    tensor = _key(1, 0) + _varint(7) + _bytes_field(2, shape)  # DT_STRING = 7
    tensor += b"".join(_bytes_field(8, blob) for blob in blobs)
    return (
        _bytes_field(1, tag.encode("utf-8")) + _bytes_field(9, metadata) + _bytes_field(8, tensor)
    )


def summary(values: Iterable[bytes]) -> bytes:
    """A ``Summary`` holding the given values (field 1, repeated)."""
    return b"".join(_bytes_field(1, v) for v in values)


# ------------------------------------------------------------------ writer
_COUNTER = [0]
_COUNTER_LOCK = threading.Lock()


class EventFileWriter:
    """Appends events to a new ``events.out.tfevents.*`` file in ``logdir``.

    The file is created (with its ``file_version`` event) on construction;
    records are buffered and written by ``flush()``/``close()``.
    """

    def __init__(self, logdir: str, filename_suffix: str = ".v2"):
        os.makedirs(logdir, exist_ok=True)
        with _COUNTER_LOCK:
            _COUNTER[0] += 1
            count = _COUNTER[0]
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{count}{filename_suffix}"
        )
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115  (kept open across epochs)
        self._pending: list[bytes] = []
        self._pending.append(tfrecord(event(time.time(), 0, file_version="brain.Event:2")))
        self.flush()

    def add_summary(self, values: list[bytes], step: int, wall_time: float | None = None) -> None:
        wall_time = time.time() if wall_time is None else wall_time
        self._pending.append(tfrecord(event(wall_time, step, summary=summary(values))))

    def add_scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Records ``value`` under ``tag`` at ``step``."""
        self.add_summary([scalar_value(tag, float(np.asarray(value)))], step, wall_time)

    def add_histogram(self, tag: str, values: np.ndarray, step: int, bins: int = 30) -> None:
        """Records the distribution of ``values`` under ``tag`` at ``step``."""
        self.add_summary([histogram_value(tag, values, bins)], step)

    def add_blobs(self, tag: str, blobs: list[bytes], step: int, plugin_name: str,
                  content: bytes = b"1") -> None:  # fmt: skip
        """Records a string tensor of ``blobs`` for the TensorBoard plugin ``plugin_name``."""
        self.add_summary([blob_sequence_value(tag, blobs, plugin_name, content)], step)

    def flush(self) -> None:
        if self._file.closed:
            return
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()
