"""The Fashion-MNIST scenes as an mmseg semantic segmentation dataset.

The scenes of :mod:`mmtst.datasets.scenes` (real Fashion-MNIST objects on
procedural textures) with per-pixel labels: background 0, Fashion-MNIST
class k -> k + 1. A CPU-sized stand-in for Cityscapes to run TST's
segmentation setting (Shao et al., IJCAI 2023) end to end, evaluated with
mmseg's ``IoUMetric``.
"""
import os.path as osp
from typing import Optional

from mmseg.datasets import BaseSegDataset

from mmtst.registry import DATASETS
from .scenes import FASHION_MNIST_CLASSES, PALETTE, make_scenes

SEG_CLASSES = ('background', ) + FASHION_MNIST_CLASSES
SEG_PALETTE = [(0, 0, 0)] + PALETTE


@DATASETS.register_module()
class FashionMNISTSceneSegmentation(BaseSegDataset):
    """mmseg dataset of the scenes: ``data_prefix=dict(img_path='train',
    seg_map_path='semantic/train')`` under ``data_root``.

    Args:
        generate: If the label folder is missing, generate the split with
            these :func:`make_scenes` arguments (``num_images``, ``seed``,
            ``image_size``, ``max_objects``, ``source``); the split is the
            image folder's name. Defaults to None (missing = error).
        **kwargs: ``BaseSegDataset`` arguments.
    """

    METAINFO = dict(classes=SEG_CLASSES, palette=SEG_PALETTE)

    def __init__(self,
                 *args,
                 generate: Optional[dict] = None,
                 **kwargs) -> None:
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        # label 0 is a real class (background), not "ignore"
        kwargs.setdefault('reduce_zero_label', False)
        if generate is not None:
            root = kwargs.get('data_root') or ''
            prefix = kwargs.get('data_prefix') or {}
            labels = osp.join(root, prefix.get('seg_map_path', ''))
            if not osp.isdir(labels) or not any(True for _ in _pngs(labels)):
                split = osp.basename(osp.normpath(prefix.get('img_path', '')))
                make_scenes(root, split=split, semantic=True, **generate)
        super().__init__(*args, **kwargs)


def _pngs(folder: str):
    import os
    return (n for n in os.listdir(folder) if n.endswith('.png'))
