"""``keras.distribution``: scale training out over devices and hosts with JAX's
own sharding (``jax.sharding.Mesh``/``NamedSharding``) and multi-process runtime
(``jax.distributed``).

Set a distribution before creating the model; variables are then laid out on
the mesh as they are created, and ``fit``/``evaluate``/``predict`` split each
batch over the batch axis.

Example:
    >>> from callax import distribution
    >>> distribution.set_distribution(distribution.DataParallel())
    >>> distribution.distribution().batch_dim_name
    'batch'
    >>> distribution.set_distribution(None)
"""

from callax.distribution.devices import get_device_count, initialize, list_devices
from callax.distribution.distributions import (
    DataParallel,
    Distribution,
    ModelParallel,
    distribute_tensor,
    distribute_variable,
    distribution,
    set_distribution,
)
from callax.distribution.layout import DeviceMesh, LayoutMap, TensorLayout

__all__ = [
    "DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "ModelParallel", "TensorLayout",
    "distribute_tensor", "distribute_variable", "distribution", "get_device_count",
    "initialize", "list_devices", "set_distribution",
]  # fmt: skip
