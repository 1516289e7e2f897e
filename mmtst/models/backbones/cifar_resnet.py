"""CIFAR ResNets of the CRD benchmark: resnet8 ... resnet110, resnet8x4/32x4.

These are the 3-stage, BasicBlock ResNets (He et al., CVPR 2016, Sec. 4.2)
in the variant defined by CRD (Tian et al., "Contrastive Representation
Distillation", ICLR 2020, RepDistiller ``models/resnet.py``), which the DKD
and TST (Shao et al., "Teaching What You Should Teach: A Data-Based
Distillation Method", IJCAI 2023) CIFAR-100 benchmarks reuse.
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmtst.registry import MODELS
from .crd_init import CRD_INIT_CFG


class CifarBasicBlock(nn.Module):
    """Post-activation BasicBlock: two 3x3 convs and a shortcut, then ReLU.

    Args:
        in_channels: Channels of the block input.
        out_channels: Channels of the block output.
        stride: Stride of the first conv (2 halves the resolution).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        # CRD projects the shortcut (1x1 conv + BN) whenever the shape
        # changes, rather than zero-padding it (He et al.'s option A); the
        # projections are part of the published parameter counts.
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


@MODELS.register_module()
class CifarResNet(BaseModule):
    """The CIFAR ResNets of CRD (resnet8/14/20/32/44/56/110, resnet8x4/32x4).

    A 3x3 stem conv, then three stages of ``(depth - 2) / 6`` BasicBlocks at
    strides 1, 2, 2 (32 -> 32 -> 16 -> 8 on CIFAR). The plain models use a
    16-channel stem and stage widths (16, 32, 64); the "x4" models, defined
    by Tian et al., "Contrastive Representation Distillation" (ICLR 2020),
    use a 32-channel stem and widths (64, 128, 256). The TST paper (Shao et
    al., IJCAI 2023) takes its CIFAR-100 teacher/student pairs from there.

    The CRD classifier (global average pooling + one linear layer) is left
    to the config: ``GlobalAveragePooling`` neck + ``LinearClsHead`` with
    ``in_channels=backbone.out_channels`` complete the CRD network.

    Args:
        arch: One of :attr:`arch_settings`, e.g. ``'resnet32x4'``.
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config. Defaults to CRD's initialisation
            (:data:`~.crd_init.CRD_INIT_CFG`); e.g. a ``Pretrained`` one
            loads a checkpoint instead.

    Returns (forward):
        A one-tuple with the last stage's feature map (N, out_channels, H/4,
        W/4), before global pooling.
    """

    # arch: (depth, stem channels, stage widths)
    arch_settings: Dict[str, Tuple[int, int, Tuple[int, int, int]]] = {
        'resnet8': (8, 16, (16, 32, 64)),
        'resnet14': (14, 16, (16, 32, 64)),
        'resnet20': (20, 16, (16, 32, 64)),
        'resnet32': (32, 16, (16, 32, 64)),
        'resnet44': (44, 16, (16, 32, 64)),
        'resnet56': (56, 16, (16, 32, 64)),
        'resnet110': (110, 16, (16, 32, 64)),
        'resnet8x4': (8, 32, (64, 128, 256)),
        'resnet32x4': (32, 32, (64, 128, 256)),
    }

    def __init__(self,
                 arch: str = 'resnet32x4',
                 in_channels: int = 3,
                 init_cfg=CRD_INIT_CFG):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarResNet arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        depth, stem_channels, widths = self.arch_settings[arch]
        self.arch = arch
        # Each BasicBlock holds two convs; the stem conv and the classifier
        # make up the remaining two layers of the depth.
        blocks_per_stage = (depth - 2) // 6

        # Module names follow RepDistiller's (conv1, bn1, layer1-3, and the
        # blocks' conv1/bn1/conv2/bn2/downsample), so a CRD CIFAR-100 teacher
        # checkpoint loads into an ImageClassifier after prefixing its keys
        # with ``backbone.`` and renaming ``fc`` to ``head.fc``.
        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        channels = stem_channels
        for stage_index, width in enumerate(widths):
            stride = 1 if stage_index == 0 else 2
            self.add_module(
                f'layer{stage_index + 1}',
                self._make_stage(channels, width, blocks_per_stage, stride))
            channels = width
        self.out_channels = channels

    @staticmethod
    def _make_stage(in_channels: int, out_channels: int, num_blocks: int,
                    stride: int) -> nn.Sequential:
        blocks = [CifarBasicBlock(in_channels, out_channels, stride)]
        blocks += [
            CifarBasicBlock(out_channels, out_channels)
            for _ in range(num_blocks - 1)
        ]
        return nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return (x, )


__all__ = ['CifarResNet', 'CifarBasicBlock']
