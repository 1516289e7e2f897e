"""Offline Fashion-MNIST."""
import pytest
from conftest import needs_fashion_mnist

from mmtst.datasets import OfflineFashionMNIST, prepare_fashion_mnist


def test_missing_data_root_is_a_clear_error(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        prepare_fashion_mnist(
            str(tmp_path / 'empty'), source=str(tmp_path / 'none'))


@needs_fashion_mnist
def test_split_test_loads_the_test_set(tmp_path):
    root = str(tmp_path / 'fm')
    train = OfflineFashionMNIST(data_root=root, split='train', lazy_init=False)
    test = OfflineFashionMNIST(data_root=root, split='test')
    assert len(train) == 60000 and len(test) == 10000
    with pytest.raises(ValueError, match='split'):
        OfflineFashionMNIST(data_root=root, split='val')
