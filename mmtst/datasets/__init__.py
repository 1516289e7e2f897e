from .fashion_mnist import (DEBIAN_FASHION_MNIST, GreyAsRGB,
                            OfflineFashionMNIST, balanced_subset,
                            prepare_fashion_mnist)

from .load_image import CorruptImageError, LoadImageOrReport

__all__ = ['CorruptImageError', 'DEBIAN_FASHION_MNIST', 'GreyAsRGB',
           'LoadImageOrReport', 'OfflineFashionMNIST', 'balanced_subset',
           'prepare_fashion_mnist']
from .scenes import FASHION_MNIST_CLASSES, make_scenes  # noqa: E402

__all__ += ['FASHION_MNIST_CLASSES', 'make_scenes']
try:  # the detection dataset needs mmdet; classification does not
    from .scenes_dataset import FashionMNISTScenes  # noqa: F401
    __all__ += ['FashionMNISTScenes']
except ImportError:  # pragma: no cover
    pass
try:  # the segmentation dataset needs mmseg
    from .scenes_seg_dataset import FashionMNISTSceneSegmentation  # noqa: F401
    __all__ += ['FashionMNISTSceneSegmentation']
except ImportError:  # pragma: no cover
    pass
