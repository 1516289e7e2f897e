"""tools/analysis/augmented_share.py: what the augmenter does to the data."""
import os.path as osp
import re

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import load_tool

pytestmark = needs_fashion_mnist
TOOL = 'tools/analysis/augmented_share.py'


def test_share_of_changed_samples_and_teacher_top1(tmp_path, capsys):
    from helpers import tiny_classifier
    from mmengine.registry import init_default_scope

    from mmtst.registry import MODELS
    init_default_scope('mmpretrain')
    teacher = MODELS.build(
        dict(tiny_classifier('resnet20'), _scope_='mmpretrain'))
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    tool = load_tool(TOOL)
    config = osp.join(REPO, 'configs', 'quickstart',
                      'tst_resnet20_resnet8_1xb128-4e_fmnist.py')
    assert tool.main([
        '--limit', '256', '--passes', '2', '--config', config,
        '--teacher-ckpt',
        str(ckpt), 'neural_apply_prob=1.0'
    ]) == 0
    out = capsys.readouterr().out
    assert "'neural_apply_prob': 1.0" in out
    assert 'batches: 4 of 128; samples changed:' in out
    found = re.search(r'teacher top-1: clean ([\d.]+)%, augmented ([\d.]+)%',
                      out)
    assert found and all(0 <= float(v) <= 100 for v in found.groups())


def test_config_and_teacher_go_together():
    with pytest.raises(SystemExit):
        load_tool(TOOL).main(['--config', 'x.py'])
