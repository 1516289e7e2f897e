"""Fashion-MNIST that finds its files offline."""
import gzip
import os
import os.path as osp
import shutil
import tempfile
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import FashionMNIST

from mmtst.registry import DATASETS, TRANSFORMS

# Where Debian's ``dataset-fashion-mnist`` package puts the gzipped files.
DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


def prepare_fashion_mnist(data_root: str,
                          source: Optional[str] = DEBIAN_FASHION_MNIST) -> str:
    """Make sure ``data_root`` holds the four unzipped Fashion-MNIST files,
    unzipping them from ``source`` (a folder of the ``.gz`` files) if
    needed. Returns ``data_root``.

    Raises:
        FileNotFoundError: neither ``data_root`` nor ``source`` has them;
            the message says how to get them.
    """
    missing = [f for f in FILES if not osp.isfile(osp.join(data_root, f))]
    if not missing:
        return data_root
    if source and all(
            osp.isfile(osp.join(source, f + '.gz')) for f in missing):
        os.makedirs(data_root, exist_ok=True)
        for name in missing:
            # a unique temporary name per process: ranks of a distributed
            # run may unzip at the same time; the rename is atomic
            fd, tmp = tempfile.mkstemp(dir=data_root, prefix=f'.{name}.')
            with gzip.open(osp.join(source, name + '.gz'), 'rb') as src, \
                    os.fdopen(fd, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, osp.join(data_root, name))
        return data_root
    raise FileNotFoundError(
        f'Fashion-MNIST is not in {data_root!r} (missing {missing}) and not '
        f'in {source!r}. Install it with `apt-get install '
        'dataset-fashion-mnist` (Debian/Ubuntu), copy the four idx files '
        'into data_root, or set download=True to fetch them from the '
        "dataset's public mirror.")


def balanced_subset(data_list: List[dict],
                    per_class: int,
                    subset_seed: int = 0) -> List[dict]:
    """``per_class`` samples of every class, drawn without replacement with
    a generator seeded by ``subset_seed`` alone (not by the run's seed, so
    every run and seed of a benchmark sees the same images), kept in their
    original order.

    Raises:
        ValueError: A class has fewer than ``per_class`` samples, or
            ``per_class`` < 1.
    """
    if per_class < 1:
        raise ValueError(f'per_class must be >= 1, got {per_class}')
    labels = np.array(
        [int(np.asarray(d['gt_label']).reshape(-1)[0]) for d in data_list])
    rng = np.random.default_rng(subset_seed)
    keep = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if len(members) < per_class:
            raise ValueError(f'class {cls} has {len(members)} samples, fewer '
                             f'than per_class={per_class}')
        keep.append(rng.permutation(members)[:per_class])
    return [data_list[i] for i in np.sort(np.concatenate(keep))]


@TRANSFORMS.register_module()
class GreyAsRGB:
    """Run an image transform that needs 3 channels (mmpretrain's
    ``RandAugment`` / ``AutoAugment``: their Color and Contrast ops convert
    BGR to grey) on a grey image: the image is repeated to 3 channels, the
    transform applied, and the first channel kept (all three stay equal
    for grey input, so nothing is lost).

    Args:
        transform: The inner transform's config (mmpretrain's scope).
    """

    def __init__(self, transform: dict) -> None:
        from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
        self.transform = PRETRAIN_TRANSFORMS.build(transform)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        grey = img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1)
        if grey:
            flat = img.reshape(img.shape[:2])
            results['img'] = np.ascontiguousarray(
                np.repeat(flat[:, :, None], 3, axis=2))
        results = self.transform(results)
        if grey and results is not None:
            out = results['img']
            results['img'] = np.ascontiguousarray(out[:, :, 0] if img.ndim ==
                                                  2 else out[:, :, :1])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.transform!r})'


@DATASETS.register_module()
class OfflineFashionMNIST(FashionMNIST):
    """mmpretrain's ``FashionMNIST`` read from local files, never downloaded
    unless ``download=True``.

    Differences from the parent, both to avoid silent mistakes:

    * ``split='test'`` selects the test set (the parent picks files from
      ``test_mode`` alone, so ``split='test'`` silently loads the train set);
    * missing files are unzipped from Debian's ``dataset-fashion-mnist``
      package when it is installed, else a clear error says how to get them.

    ``per_class=N`` keeps a fixed, class-balanced subset: N images of each
    class, chosen by ``subset_seed`` only (the run's seed does not change
    it), for data-limited benchmarks.

    Args:
        data_root: Folder of the unzipped idx files. Defaults to
            ``'data/fashion-mnist'``.
        split: ``'train'`` or ``'test'``. Defaults to ``'train'``.
        source: Folder of the ``.gz`` files to unzip from. Defaults to
            Debian's location.
        download: Fall back to mmpretrain's download. Defaults to False.
        per_class: Keep this many images per class (see
            :func:`balanced_subset`). Defaults to None (all).
        subset_seed: Seed of the subset's draw. Defaults to 0.
        **kwargs: Passed to mmpretrain's ``FashionMNIST``.
    """

    def __init__(self,
                 data_root: str = 'data/fashion-mnist',
                 split: str = 'train',
                 source: Optional[str] = DEBIAN_FASHION_MNIST,
                 download: bool = False,
                 per_class: Optional[int] = None,
                 subset_seed: int = 0,
                 **kwargs) -> None:
        # set before the parent's __init__, which loads the data list
        self.per_class = per_class
        self.subset_seed = subset_seed
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if not download:
            prepare_fashion_mnist(data_root, source)
        kwargs['test_mode'] = split == 'test'
        super().__init__(
            data_root=data_root, split=split, download=download, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.per_class is None:
            return data_list
        return balanced_subset(data_list, self.per_class, self.subset_seed)
