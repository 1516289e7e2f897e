"""Tests of the CRD CIFAR backbones (torch only: no mmpretrain needed).

The published parameter counts are those of the CRD paper (Tian et al.,
ICLR 2020) / RepDistiller README for the CIFAR-100 models (100-way linear
classifier included), which DKD and TST reuse. Each backbone gets the linear
classifier that mmpretrain's ``LinearClsHead`` would add, and the total must
round to the published figure (|count / 1e6 - published| < 0.006).
"""
import pytest
import torch
import torch.nn as nn

from mmtst.models.backbones import (CifarMobileNetV2, CifarResNet,
                                    CifarShuffleNetV1, CifarShuffleNetV2,
                                    CifarVGG, CifarWideResNet)
from mmtst.registry import MODELS

NUM_CLASSES = 100

# Published totals in millions (CRD paper / RepDistiller, CIFAR-100). All
# agree with the faithful architectures to two decimals; none needed
# overriding.
PUBLISHED_MPARAMS = {
    (CifarResNet, 'resnet20'): 0.28,
    (CifarResNet, 'resnet32'): 0.47,
    (CifarResNet, 'resnet56'): 0.86,
    (CifarResNet, 'resnet110'): 1.74,
    (CifarResNet, 'resnet8x4'): 1.23,
    (CifarResNet, 'resnet32x4'): 7.43,
    (CifarWideResNet, 'wrn_16_2'): 0.70,
    (CifarWideResNet, 'wrn_40_1'): 0.57,
    (CifarWideResNet, 'wrn_40_2'): 2.26,
    (CifarVGG, 'vgg8'): 3.96,
    (CifarVGG, 'vgg13'): 9.46,
    (CifarMobileNetV2, 'mobile_half'): 0.81,
    (CifarShuffleNetV1, 'ShuffleV1'): 0.95,
    (CifarShuffleNetV2, 'ShuffleV2'): 1.36,
}

# Final feature-map side for a 32x32 input.
FEATURE_SIDE_32 = {
    CifarResNet: 8,
    CifarWideResNet: 8,
    CifarVGG: 4,
    CifarMobileNetV2: 2,
    CifarShuffleNetV1: 4,
    CifarShuffleNetV2: 4,
}

ALL_ARCHS = [(cls, arch) for cls in FEATURE_SIDE_32
             for arch in cls.arch_settings]


def _id(case):
    return case[1] if isinstance(case, tuple) else None


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def with_classifier(backbone: nn.Module) -> nn.Module:
    """Backbone + global average pooling + linear: the CRD network."""

    class Classifier(nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = backbone
            self.fc = nn.Linear(backbone.out_channels, NUM_CLASSES)

        def forward(self, x):
            feature = self.backbone(x)[0]
            return self.fc(feature.mean(dim=(2, 3)))

    return Classifier()


def conv_bn_params(cin: int, cout: int, kernel: int) -> int:
    """A bias-free conv followed by BN (weight and bias)."""
    return cin * cout * kernel * kernel + 2 * cout


def resnet_closed_form(arch: str) -> int:
    """CRD CIFAR ResNet + linear classifier, counted by hand."""
    depth, stem, widths = CifarResNet.arch_settings[arch]
    n = (depth - 2) // 6
    total = conv_bn_params(3, stem, 3)
    channels = stem
    for stage_index, width in enumerate(widths):
        stride = 1 if stage_index == 0 else 2
        total += conv_bn_params(channels, width, 3)  # first block
        total += conv_bn_params(width, width, 3)
        if stride != 1 or channels != width:
            total += conv_bn_params(channels, width, 1)  # projection
        total += (n - 1) * 2 * conv_bn_params(width, width, 3)
        channels = width
    return total + channels * NUM_CLASSES + NUM_CLASSES


def wrn_closed_form(arch: str) -> int:
    """CRD WRN + linear classifier, counted by hand."""
    depth, k = CifarWideResNet.arch_settings[arch]
    n = (depth - 4) // 6
    total = 3 * 16 * 9  # stem conv, no BN of its own (blocks pre-activate)
    channels = 16
    for width in (16 * k, 32 * k, 64 * k):
        for block_index in range(n):
            cin = channels if block_index == 0 else width
            # BN(cin), conv3x3, BN(width), conv3x3
            total += 2 * cin + cin * width * 9 + 2 * width + width * width * 9
            if cin != width:
                total += cin * width  # bare 1x1 projection
        channels = width
    total += 2 * channels  # final BN
    return total + channels * NUM_CLASSES + NUM_CLASSES


@pytest.mark.parametrize('case', list(PUBLISHED_MPARAMS), ids=_id)
def test_param_count_matches_published(case):
    model = with_classifier(case[0](arch=case[1]))
    mparams = count_params(model) / 1e6
    assert abs(mparams - PUBLISHED_MPARAMS[case]) < 0.006, mparams


@pytest.mark.parametrize('arch', list(CifarResNet.arch_settings))
def test_resnet_param_count_closed_form(arch):
    # also covers resnet8/14/44, which have no published figure
    model = with_classifier(CifarResNet(arch=arch))
    assert count_params(model) == resnet_closed_form(arch)


@pytest.mark.parametrize('arch', list(CifarWideResNet.arch_settings))
def test_wrn_param_count_closed_form(arch):
    model = with_classifier(CifarWideResNet(arch=arch))
    assert count_params(model) == wrn_closed_form(arch)


@pytest.mark.parametrize('case', ALL_ARCHS, ids=_id)
def test_forward_shape_cifar(case):
    cls, arch = case
    backbone = cls(arch=arch)
    outs = backbone(torch.randn(2, 3, 32, 32))
    assert isinstance(outs, tuple) and len(outs) == 1
    side = FEATURE_SIDE_32[cls]
    assert outs[0].shape == (2, backbone.out_channels, side, side)
    logits = with_classifier(backbone)(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, NUM_CLASSES)


@pytest.mark.parametrize('case', ALL_ARCHS, ids=_id)
def test_forward_one_channel_28(case):
    # Fashion-MNIST: 1x28x28
    cls, arch = case
    backbone = cls(arch=arch, in_channels=1)
    feature = backbone(torch.randn(2, 1, 28, 28))[0]
    assert feature.shape[:2] == (2, backbone.out_channels)
    assert feature.shape[2] >= 1 and feature.shape[3] >= 1


@pytest.mark.parametrize('cls', list(FEATURE_SIDE_32))
def test_unknown_arch_raises(cls):
    with pytest.raises(ValueError, match='valid archs') as info:
        cls(arch='resnet1000')
    # the message lists the valid archs
    assert next(iter(cls.arch_settings)) in str(info.value)


@pytest.mark.parametrize('cls', list(FEATURE_SIDE_32))
def test_registered(cls):
    assert MODELS.get(cls.__name__) is cls


def test_registry_build():
    backbone = MODELS.build(
        dict(type='CifarResNet', arch='resnet8x4', _scope_='mmtst'))
    assert isinstance(backbone, CifarResNet)
    assert backbone.out_channels == 256


@pytest.mark.parametrize(
    'case, key', [
        ((CifarResNet, 'resnet8x4'), 'layer1.0.downsample.0.weight'),
        ((CifarWideResNet, 'wrn_40_2'), 'block2.layer.0.convShortcut.weight'),
        ((CifarVGG, 'vgg13'), 'block4.4.running_var'),
        ((CifarMobileNetV2, 'mobile_half'), 'blocks.6.0.conv.7.weight'),
        ((CifarShuffleNetV1, 'ShuffleV1'), 'layer3.3.conv3.weight'),
        ((CifarShuffleNetV2, 'ShuffleV2'), 'layer2.0.conv5.weight'),
    ],
    ids=lambda value: _id(value) or value)
def test_crd_checkpoint_key_names(case, key):
    # Module names mirror RepDistiller's, so CRD teacher checkpoints load
    # with a key prefix and a classifier rename only.
    assert key in case[0](arch=case[1]).state_dict()


def test_out_channels():
    expected = {
        (CifarResNet, 'resnet32x4'): 256,
        (CifarResNet, 'resnet56'): 64,
        (CifarWideResNet, 'wrn_40_2'): 128,
        (CifarVGG, 'vgg8'): 512,
        (CifarMobileNetV2, 'mobile_half'): 1280,
        (CifarShuffleNetV1, 'ShuffleV1'): 960,
        (CifarShuffleNetV2, 'ShuffleV2'): 1024,
    }
    for (cls, arch), channels in expected.items():
        assert cls(arch=arch).out_channels == channels, arch


@pytest.mark.parametrize('backbone', [
    dict(type='mmtst.CifarResNet', arch='resnet8x4'),
    dict(type='mmtst.CifarWideResNet', arch='wrn_16_2'),
    dict(type='mmtst.CifarVGG', arch='vgg8'),
    dict(type='mmtst.CifarMobileNetV2'),
])
def test_cifar_backbones_initialise_like_crd_through_init_cfg(backbone):
    """CRD's initialisation is the backbones' default init_cfg, applied by
    init_weights() as mmengine's Runner does: convs Kaiming normal in
    fan-out mode (std sqrt(2 / fan_out)), zero biases, batch norms 1 / 0."""
    import math

    from mmengine.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(backbone)
    with torch.no_grad():  # what construction alone leaves must not count
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.BatchNorm2d)):
                module.weight.fill_(3.0)
    model.init_weights()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert convs and norms
    big = max(convs, key=lambda m: m.weight.numel())
    k_h, k_w = big.kernel_size
    # torch's fan-out of a conv weight: out_channels x kernel area
    expected = math.sqrt(2.0 / (big.out_channels * k_h * k_w))
    assert big.weight.std().item() == pytest.approx(expected, rel=0.1)
    for conv in convs:
        assert (conv.weight != 3.0).all()
        if conv.bias is not None:
            assert (conv.bias == 0).all()
    for norm in norms:
        assert (norm.weight == 1).all() and (norm.bias == 0).all()
