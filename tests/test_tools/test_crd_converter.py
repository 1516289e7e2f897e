"""tools/model_converters/crd_to_mmpretrain.py: RepDistiller (CRD) teacher
checkpoints -> mmpretrain checkpoints that load strictly into mmtst's
CIFAR-100 configs (and into a distiller as its teacher)."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmtst.utils import (extract_state_dict, load_checkpoint_file,
                         save_atomically)

MODELS_BASE = osp.join(REPO, 'configs/_base_/models/cifar100_classifiers.py')
TOOL = osp.join(REPO, 'tools/model_converters/crd_to_mmpretrain.py')

# config variable -> the name of CRD's final linear layer (RepDistiller
# models/: resnet.py and wrn.py `fc`, vgg.py `classifier`, mobilenetv2.py
# `classifier = nn.Sequential(nn.Linear(...))`, ShuffleNetv1.py `linear`)
CRD_CLASSIFIER = {
    'resnet20_cifar': 'fc',
    'resnet32_cifar': 'fc',
    'resnet56_cifar': 'fc',
    'resnet110_cifar': 'fc',
    'resnet8x4_cifar': 'fc',
    'resnet32x4_cifar': 'fc',
    'wrn_16_2_cifar': 'fc',
    'wrn_40_1_cifar': 'fc',
    'wrn_40_2_cifar': 'fc',
    'vgg8_cifar': 'classifier',
    'vgg13_cifar': 'classifier',
    'mobilenetv2_cifar': 'classifier.0',
    'shufflev1_cifar': 'linear',
}


def _load_tool():
    spec = importlib.util.spec_from_file_location('crd_to_mmpretrain', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope='module')
def model_cfgs():
    return Config.fromfile(MODELS_BASE)


def build(cfg):
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    return MODELS.build(cfg)


def crd_state_dict(model, classifier, drop_bn_counters=False):
    """What RepDistiller saves for this network: the mmpretrain keys with
    ``backbone.`` removed and ``head.fc`` named as CRD names its classifier;
    random values so that a successful load is visible."""
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith('head.fc.'):
            name = f'{classifier}.{key[len("head.fc."):]}'
        else:
            assert key.startswith('backbone.'), key
            name = key[len('backbone.'):]
        if drop_bn_counters and name.endswith('num_batches_tracked'):
            continue
        state[name] = (
            torch.randn_like(value) if value.is_floating_point() else
            torch.randint_like(value, 1, 100))
    return state


def save_crd(path, state):
    # RepDistiller's ckpt_epoch_240.pth layout
    torch.save(
        dict(
            epoch=240,
            model=state,
            accuracy=torch.tensor(79.42),
            optimizer=dict(state={}, param_groups=[dict(lr=5e-5)])), path)


@pytest.mark.parametrize('name', sorted(CRD_CLASSIFIER))
def test_convert_loads_strictly(name, model_cfgs, tmp_path):
    reference = build(model_cfgs[name])
    classifier = CRD_CLASSIFIER[name]
    crd = crd_state_dict(reference, classifier)
    assert tool.find_classifier(crd) == classifier + '.'
    src = tmp_path / 'ckpt_epoch_240.pth'
    save_crd(src, crd)

    converted = tool.convert(
        extract_state_dict(load_checkpoint_file(str(src))))
    dst = tmp_path / 'converted.pth'
    save_atomically(dict(state_dict=converted), str(dst))

    fresh = build(model_cfgs[name])
    loaded = torch.load(dst, weights_only=True)['state_dict']
    fresh.load_state_dict(loaded, strict=True)
    for key, value in fresh.state_dict().items():
        crd_key = (f'{classifier}.{key[len("head.fc."):]}'
                   if key.startswith('head.fc.') else key[len('backbone.'):])
        assert torch.equal(value, crd[crd_key]), key


def test_missing_bn_counters_are_added(model_cfgs):
    # checkpoints of PyTorch < 0.4.1 have no num_batches_tracked
    reference = build(model_cfgs['resnet8x4_cifar'])
    crd = crd_state_dict(reference, 'fc', drop_bn_counters=True)
    converted = tool.convert(crd)
    assert set(converted) == set(reference.state_dict())
    build(model_cfgs['resnet8x4_cifar']).load_state_dict(
        converted, strict=True)


def test_dataparallel_prefix_and_explicit_classifier(model_cfgs):
    reference = build(model_cfgs['vgg8_cifar'])
    crd = crd_state_dict(reference, 'classifier')
    wrapped = dict(model={f'module.{k}': v for k, v in crd.items()})
    converted = tool.convert(extract_state_dict(wrapped), 'classifier')
    build(model_cfgs['vgg8_cifar']).load_state_dict(converted, strict=True)


def test_unrecognised_checkpoints_are_refused():
    with pytest.raises(ValueError, match='classifier'):
        tool.convert({'conv1.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='classifier'):  # two candidates
        tool.convert({
            'fc.weight': torch.zeros(1),
            'fc.bias': torch.zeros(1),
            'linear.weight': torch.zeros(1),
            'linear.bias': torch.zeros(1)
        })
    with pytest.raises(ValueError, match='one linear layer'):
        tool.convert({'fc.0.weight': torch.zeros(1), 'conv.w': torch.zeros(1)})
    with pytest.raises(ValueError, match='no weights'):
        tool.convert({})


def test_cli_then_distiller_teacher(model_cfgs, tmp_path):
    """The command line on a CRD ResNet-56, checked against the teacher
    config, then used as the KD config's teacher_ckpt."""
    crd = crd_state_dict(build(model_cfgs['resnet56_cifar']), 'fc')
    src, dst = tmp_path / 'ckpt_epoch_240.pth', tmp_path / 'resnet56.pth'
    save_crd(src, crd)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([
        sys.executable, TOOL,
        str(src),
        str(dst), '--config',
        'configs/teachers/cifar100/resnet56_1xb64-240e_cifar100.py'
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'loads strictly' in proc.stdout
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint['meta']['epoch'] == 240

    cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs/kd/cifar100/kd_resnet56_resnet20_1xb64-240e_cifar100.py'))
    cfg.model.teacher_ckpt = str(dst)
    init_default_scope(cfg.default_scope)
    from mmpretrain.registry import MODELS
    distiller = MODELS.build(cfg.model)
    teacher = distiller.teacher.state_dict()
    assert torch.equal(teacher['head.fc.weight'], crd['fc.weight'])
    assert torch.equal(teacher['backbone.layer3.8.bn2.running_var'],
                       crd['layer3.8.bn2.running_var'])

    # a distiller config given to --config is checked against its teacher:
    # a ResNet-56 checkpoint does not fit the ResNet-110 teacher
    proc = subprocess.run([
        sys.executable, TOOL,
        str(src),
        str(tmp_path / 'again.pth'), '--config',
        'configs/tst/cifar100/tst_resnet110_resnet20_1xb128-240e_cifar100.py'
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert 'Missing key' in proc.stderr
    assert not (tmp_path / 'again.pth').exists()
