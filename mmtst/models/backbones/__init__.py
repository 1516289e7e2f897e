"""CIFAR-style backbones of the CRD benchmark (TST's teacher/student pairs)."""
from .cifar_mobilenetv2 import CifarMobileNetV2
from .cifar_resnet import CifarResNet
from .cifar_shufflenet import CifarShuffleNetV1, CifarShuffleNetV2
from .cifar_vgg import CifarVGG
from .wide_resnet import CifarWideResNet

__all__ = [
    'CifarResNet', 'CifarWideResNet', 'CifarVGG', 'CifarMobileNetV2',
    'CifarShuffleNetV1', 'CifarShuffleNetV2'
]
