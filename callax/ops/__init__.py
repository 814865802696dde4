"""Tensor operations under Keras 3's ``keras.ops`` names, on ``jax.numpy``.

Every op accepts JAX arrays, numpy arrays and :class:`~callax.Variable` s, and
symbolic ``callax.Input`` tensors (then it adds a node to a Functional graph).
``jax.numpy`` may also be used directly inside ``call`` (pass ``v.value`` for a
variable).

Example:
    >>> from callax import ops
    >>> x = ops.ones((2, 3))
    >>> ops.matmul(x, ops.transpose(x)).shape
    (2, 2)
    >>> ops.nn.softmax(ops.zeros((1, 4))).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
"""

from __future__ import annotations

from callax.ops import image, linalg, nn, numpy
from callax.ops.core import *  # noqa: F403
from callax.ops.core import __all__ as _core_all
from callax.ops.einops import rearrange
from callax.ops.linalg import *  # noqa: F403
from callax.ops.linalg import __all__ as _linalg_all
from callax.ops.math_extra import *  # noqa: F403
from callax.ops.math_extra import __all__ as _math_all
from callax.ops.nn import *  # noqa: F403
from callax.ops.nn import __all__ as _nn_all
from callax.ops.numpy import *  # noqa: F403
from callax.ops.numpy import __all__ as _numpy_all

__all__ = [
    "image", "nn", "numpy", "linalg", "rearrange", *_core_all, *_nn_all, *_numpy_all,
    *_linalg_all, *_math_all,
]  # fmt: skip
__all__ = list(dict.fromkeys(__all__))  # norm and qr are both core and linalg names
