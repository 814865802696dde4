"""Pretrained image models (``keras.applications``), with Keras's layer names and weights.

Each submodule (``densenet``, ``efficientnet``, ``inception_v3``, ``mobilenet``,
``mobilenet_v2``, ``mobilenet_v3``, ``resnet50``, ``resnet``, ``resnet_v2``, ``vgg16``, ``vgg19``,
``xception``) holds its model builder plus ``preprocess_input`` and
``decode_predictions``; the builders are also exported here.
"""

from callax.applications import (
    densenet,
    efficientnet,
    imagenet_utils,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from callax.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from callax.applications.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from callax.applications.inception_v3 import InceptionV3
from callax.applications.mobilenet import MobileNet
from callax.applications.mobilenet_v2 import MobileNetV2
from callax.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from callax.applications.resnet import ResNet50, ResNet101, ResNet152
from callax.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from callax.applications.vgg16 import VGG16
from callax.applications.vgg19 import VGG19
from callax.applications.xception import Xception

__all__ = [
    "MobileNet", "MobileNetV2", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2",
    "ResNet101V2", "ResNet152V2", "VGG16", "VGG19", "imagenet_utils", "mobilenet",
    "mobilenet_v2", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19", "efficientnet",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
    "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "densenet", "DenseNet121",
    "DenseNet169", "DenseNet201", "inception_v3", "InceptionV3", "xception", "Xception",
    "mobilenet_v3", "MobileNetV3Small", "MobileNetV3Large",
]  # fmt: skip
