"""Shared fixtures: tiny mmpretrain classifiers and their checkpoints."""
import os
import os.path as osp

import pytest
import torch
from helpers import tiny_classifier

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
needs_fashion_mnist = pytest.mark.skipif(
    not osp.isdir(FASHION_MNIST),
    reason='Debian dataset-fashion-mnist not installed (make setup does it)')


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def teacher_ckpt(tmp_path):
    """A state_dict-only checkpoint of a tiny ResNet-8 teacher."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    teacher = MODELS.build(tiny_classifier('resnet8'))
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return str(path)
