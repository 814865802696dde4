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

Where ops live: one module per namespace of Keras's ops, named as Keras names it
(``core``, ``math``, ``linalg``, ``nn``, ``numpy``, ``image``; the convolutions in
``convolution``, CTC in ``ctc``, imported into ``nn``; the activations' math in
``activation_functions``, which ``nn`` wraps and :mod:`callax.activations` names). Adding an op: write it in
its namespace's module as a function decorated with
:func:`callax.ops.dispatch.op` (which lets it take variables and symbolic
``callax.Input`` tensors) and add its name to that module's ``__all__``; this
package re-exports the ``__all__`` of ``core``, ``math``, ``linalg``, ``nn`` and
``numpy`` (``keras.ops.X``), while ``image`` ops stay under ``ops.image.X``, as in
Keras. See ``docs/extending.md``.
"""

from __future__ import annotations

from callax.core import keras_tensor as _keras_tensor
from callax.ops import core, image, linalg, math, nn, numpy
from callax.ops.core import *  # noqa: F403
from callax.ops.einops import rearrange
from callax.ops.linalg import *  # noqa: F403
from callax.ops.math import *  # noqa: F403
from callax.ops.nn import *  # noqa: F403
from callax.ops.numpy import *  # noqa: F403

__all__ = [
    "image", "nn", "numpy", "linalg", "rearrange", *core.__all__, *nn.__all__, *numpy.__all__,
    *linalg.__all__, *math.__all__,
]  # fmt: skip
__all__ = list(dict.fromkeys(__all__))  # qr is both a math and a linalg name

# KerasTensor's Python operators (`x + 1`, `x[:, 0]`...) record these ops; core
# (below ops) holds the table they read.
_keras_tensor.register_operators({name: globals()[name] for name in _keras_tensor.OPERATOR_OPS})
