"""Models: distillers, augmenters, losses and CIFAR-style backbones.

The detection / segmentation parts are not imported here (see
mmtst.registry): ``mmtst.models.DetectionDistiller`` imports them on first
access."""
from mmtst.utils.profiles import lazy_getattr
from . import algorithms, losses
from .algorithms import *  # noqa: F401,F403
from .augmenters import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403

__getattr__ = lazy_getattr(
    __name__,
    dict({name: '.algorithms'
          for name in algorithms.LAZY},
         **{name: '.losses'
            for name in losses.LAZY}))
