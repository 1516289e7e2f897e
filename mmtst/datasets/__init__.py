"""Datasets. Fashion-MNIST is imported eagerly; the scenes (detection /
segmentation) on first access: their datasets subclass mmdet's and mmseg's,
which a classification set-up lacks."""
from mmtst.utils.profiles import lazy_getattr
from .fashion_mnist import (DEBIAN_FASHION_MNIST, GreyAsRGB,
                            OfflineFashionMNIST, balanced_subset,
                            prepare_fashion_mnist)
from .load_image import CorruptImageError, LoadImageOrReport
from .seeded_loading import (SeededDataset, SeededIndex, SeededSampler,
                             seeded_dataloader_cfg, seeded_random)

# attribute -> module defining it, imported on first access
LAZY = {
    'FASHION_MNIST_CLASSES': '.scenes',
    'make_scenes': '.scenes',
    'FashionMNISTScenes': '.scenes_dataset',
    'FashionMNISTSceneSegmentation': '.scenes_seg_dataset',
}
__getattr__ = lazy_getattr(
    __name__,
    LAZY,
    full_profile=('FashionMNISTScenes', 'FashionMNISTSceneSegmentation'))

__all__ = [
    'CorruptImageError', 'DEBIAN_FASHION_MNIST', 'GreyAsRGB',
    'LoadImageOrReport', 'OfflineFashionMNIST', 'SeededDataset', 'SeededIndex',
    'SeededSampler', 'balanced_subset', 'prepare_fashion_mnist',
    'seeded_dataloader_cfg', 'seeded_random'
]
