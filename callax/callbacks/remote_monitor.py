"""``RemoteMonitor``: POST each epoch's results to a server.

At the end of every epoch the logs (plus ``epoch``) are sent to ``root + path``
as JSON (``send_as_json=True``) or as a form field ``field`` holding the JSON,
with Python's ``urllib`` (no extra dependency). A server that cannot be reached
gives a warning, never an error: training goes on.

Example:
    >>> import callax
    >>> monitor = callax.callbacks.RemoteMonitor(root="http://localhost:9000")
    >>> monitor.root + monitor.path
    'http://localhost:9000/publish/epoch/end/'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from callax.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Sends epoch results to a server with an HTTP POST.

    Args:
        root: the server's root URL.
        path: the path appended to ``root``.
        field: the form field holding the JSON (when not ``send_as_json``).
        headers: extra HTTP headers.
        send_as_json: send the JSON itself as the body (``application/json``).
    """

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict | None = None,
        send_as_json: bool = False,
        timeout: float = 10.0,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as e:
            warnings.warn(
                f"RemoteMonitor: could not reach the server at {self.root} ({e}).", stacklevel=2
            )
