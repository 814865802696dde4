"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 fine
classes grouped into 20 coarse ones."""

from __future__ import annotations

import os

from callax.datasets.cifar import finish, load_batch
from callax.utils.file_utils import get_file

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode: str = "fine") -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)`` as ``cifar10.load_data``,
    labels 0-99 (``label_mode="fine"``) or 0-19 (``"coarse"``)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'cifar100.load_data: label_mode must be "fine" or "coarse"; '
            f"received label_mode={label_mode!r}."
        )
    root = get_file(
        fname="cifar-100-python-target", origin=_ORIGIN, extract=True, file_hash=_SHA256
    )
    root = os.path.join(root, "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(root, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(root, "test"), label_key=key)
    return finish(x_train, y_train, x_test, y_test)
