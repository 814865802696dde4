"""Pretrained image models (``keras.applications``), with Keras's layer names and weights.

Each submodule (``mobilenet_v2``, ``resnet50``, ``resnet``, ``vgg16``) holds its
model builder plus ``preprocess_input``/``decode_predictions``; the builders
are also exported here.
"""

from callax.applications import imagenet_utils, mobilenet_v2
from callax.applications.mobilenet_v2 import MobileNetV2

__all__ = ["MobileNetV2", "imagenet_utils", "mobilenet_v2"]
