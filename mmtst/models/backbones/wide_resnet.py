"""Wide ResNets of the CRD CIFAR benchmark: wrn_16_2, wrn_40_1, wrn_40_2.

WRN-d-k (Zagoruyko & Komodakis, BMVC 2016) as defined for distillation by
CRD (Tian et al., "Contrastive Representation Distillation", ICLR 2020,
RepDistiller ``models/wrn.py``) and reused by DKD and TST (Shao et al.,
"Teaching What You Should Teach: A Data-Based Distillation Method", IJCAI
2023).
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmtst.registry import MODELS
from .crd_init import CRD_INIT_CFG


class WideBasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus shortcut.

    Args:
        in_channels: Channels of the block input.
        out_channels: Channels of the block output.
        stride: Stride of the first conv (2 halves the resolution).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        # A bare 1x1 projection (no BN) where the shape changes. The
        # camel-case name is RepDistiller's, kept so that CRD checkpoints
        # load without renaming.
        self.convShortcut = None
        if stride != 1 or in_channels != out_channels:
            self.convShortcut = nn.Conv2d(
                in_channels, out_channels, 1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        preact = self.relu(self.bn1(x))
        # As in WRN/CRD, a projection shortcut reads the pre-activated input
        # (the raw input is never used again), an identity shortcut the raw
        # input.
        if self.convShortcut is None:
            shortcut = x
        else:
            shortcut = self.convShortcut(preact)
        out = self.relu(self.bn2(self.conv1(preact)))
        return self.conv2(out) + shortcut


class WideStage(nn.Module):
    """``num_blocks`` WideBasicBlocks; the first one changes width/stride.

    Wrapping the blocks in ``self.layer`` reproduces RepDistiller's
    ``blockN.layer.i`` checkpoint keys.
    """

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int,
                 stride: int):
        super().__init__()
        blocks = [WideBasicBlock(in_channels, out_channels, stride)]
        blocks += [
            WideBasicBlock(out_channels, out_channels)
            for _ in range(num_blocks - 1)
        ]
        self.layer = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


@MODELS.register_module()
class CifarWideResNet(BaseModule):
    """The CIFAR Wide ResNets of CRD (wrn_16_1/16_2/40_1/40_2).

    WRN-d-k: a 3x3 stem conv to 16 channels, three stages of ``(d - 4) / 6``
    pre-activation blocks with widths (16k, 32k, 64k) at strides 1, 2, 2,
    then a final BN + ReLU (the blocks are pre-activated, so the last block's
    output still needs one). Definitions follow Tian et al., "Contrastive
    Representation Distillation" (ICLR 2020), whose CIFAR-100 pairs the TST
    paper (Shao et al., IJCAI 2023) uses. Dropout is 0 there, so it is left
    out here.

    A ``GlobalAveragePooling`` neck + ``LinearClsHead`` with
    ``in_channels=backbone.out_channels`` complete the CRD network.

    Args:
        arch: One of :attr:`arch_settings`, e.g. ``'wrn_40_2'``.
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config. Defaults to CRD's initialisation
            (:data:`~.crd_init.CRD_INIT_CFG`); e.g. a ``Pretrained`` one
            loads a checkpoint instead.

    Returns (forward):
        A one-tuple with the activated last-stage feature map
        (N, out_channels, H/4, W/4), before global pooling.
    """

    # arch: (depth d, widen factor k)
    arch_settings: Dict[str, Tuple[int, int]] = {
        'wrn_16_1': (16, 1),
        'wrn_16_2': (16, 2),
        'wrn_40_1': (40, 1),
        'wrn_40_2': (40, 2),
    }

    def __init__(self,
                 arch: str = 'wrn_40_2',
                 in_channels: int = 3,
                 init_cfg=CRD_INIT_CFG):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarWideResNet arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        depth, widen_factor = self.arch_settings[arch]
        self.arch = arch
        # WRN depths are 6n + 4: n two-conv blocks in each of three stages.
        blocks_per_stage = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]

        # Names follow RepDistiller (conv1, block1-3, bn1): a CRD teacher
        # checkpoint loads into an ImageClassifier after prefixing its keys
        # with ``backbone.`` and renaming ``fc`` to ``head.fc``.
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        channels = 16
        for stage_index, width in enumerate(widths):
            stride = 1 if stage_index == 0 else 2
            self.add_module(
                f'block{stage_index + 1}',
                WideStage(channels, width, blocks_per_stage, stride))
            channels = width
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.conv1(x)
        x = self.block3(self.block2(self.block1(x)))
        return (self.relu(self.bn1(x)), )


__all__ = ['CifarWideResNet', 'WideBasicBlock']
