"""Fashion-MNIST that finds its files offline."""
import gzip
import os
import os.path as osp
import shutil
import tempfile
from typing import Optional

from mmpretrain.datasets import FashionMNIST

from mmtst.registry import DATASETS

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
    if source and all(osp.isfile(osp.join(source, f + '.gz')) for f in missing):
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


@DATASETS.register_module()
class OfflineFashionMNIST(FashionMNIST):
    """mmpretrain's ``FashionMNIST`` read from local files, never downloaded
    unless ``download=True``.

    Differences from the parent, both to avoid silent mistakes:

    * ``split='test'`` selects the test set (the parent picks files from
      ``test_mode`` alone, so ``split='test'`` silently loads the train set);
    * missing files are unzipped from Debian's ``dataset-fashion-mnist``
      package when it is installed, else a clear error says how to get them.

    Args:
        data_root: Folder of the unzipped idx files. Defaults to
            ``'data/fashion-mnist'``.
        split: ``'train'`` or ``'test'``. Defaults to ``'train'``.
        source: Folder of the ``.gz`` files to unzip from. Defaults to
            Debian's location.
        download: Fall back to mmpretrain's download. Defaults to False.
        **kwargs: Passed to mmpretrain's ``FashionMNIST``.
    """

    def __init__(self, data_root: str = 'data/fashion-mnist',
                 split: str = 'train',
                 source: Optional[str] = DEBIAN_FASHION_MNIST,
                 download: bool = False, **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if not download:
            prepare_fashion_mnist(data_root, source)
        kwargs['test_mode'] = split == 'test'
        super().__init__(data_root=data_root, split=split, download=download,
                         **kwargs)
