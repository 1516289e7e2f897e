"""The Fashion-MNIST scenes as an mmdet dataset (needs mmdet)."""
import os.path as osp
from typing import Dict, Optional

from mmdet.datasets import CocoDataset

from mmtst.registry import DATASETS
from .scenes import FASHION_MNIST_CLASSES, PALETTE, make_scenes


@DATASETS.register_module()
class FashionMNISTScenes(CocoDataset):
    """mmdet's ``CocoDataset`` over Fashion-MNIST scenes (see the module
    docstring), with the 10 Fashion-MNIST classes.

    Args:
        generate: If the annotation file is missing, generate the split
            with these :func:`make_scenes` arguments (``num_images``,
            ``seed``, ``image_size``, ``max_objects``, ``source``); the
            split is the annotation file's name (``annotations/val.json``
            -> ``val``). Defaults to None (a missing file is an error).
        **kwargs: ``CocoDataset`` arguments (``data_root``, ``ann_file``,
            ``data_prefix``, ``pipeline`` ...).
    """

    METAINFO: Dict = dict(classes=FASHION_MNIST_CLASSES, palette=PALETTE)

    def __init__(self,
                 *args,
                 generate: Optional[dict] = None,
                 **kwargs) -> None:
        ann_file = kwargs.get('ann_file', '')
        data_root = kwargs.get('data_root') or ''
        path = ann_file if osp.isabs(ann_file) else osp.join(
            data_root, ann_file)
        if generate is not None and ann_file and not osp.isfile(path):
            split = osp.splitext(osp.basename(ann_file))[0]
            out_dir = osp.dirname(osp.dirname(path))
            make_scenes(out_dir, split=split, **generate)
        super().__init__(*args, **kwargs)
