"""Models: distillers, augmenters, losses and CIFAR-style backbones."""
from .algorithms import *  # noqa: F401,F403
from .augmenters import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403
