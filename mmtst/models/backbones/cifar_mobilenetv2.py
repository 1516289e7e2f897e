"""The half-width MobileNetV2 of the CRD CIFAR benchmark (``mobile_half``).

MobileNetV2 (Sandler et al., CVPR 2018) as defined for distillation by CRD
(Tian et al., "Contrastive Representation Distillation", ICLR 2020,
RepDistiller ``models/mobilenetv2.py``, after RCO's implementation) and
reused by DKD and TST (Shao et al., "Teaching What You Should Teach: A
Data-Based Distillation Method", IJCAI 2023).
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmtst.registry import MODELS
from .crd_init import CRD_INIT_CFG


def conv_bn_relu(in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1) -> nn.Sequential:
    """Bias-free conv - BN - ReLU (CRD uses ReLU, not ReLU6)."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class InvertedResidual(nn.Module):
    """1x1 expansion, 3x3 depthwise, linear 1x1 projection (+ identity).

    Args:
        in_channels: Channels of the block input.
        out_channels: Channels of the block output.
        stride: Stride of the depthwise conv.
        expand_ratio: Expansion factor t of the hidden width.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        # One flat Sequential named ``conv`` gives RepDistiller's
        # ``conv.<i>`` checkpoint keys. Unlike torchvision, CRD keeps the
        # 1x1 expansion even for t = 1; it is in the published counts.
        self.conv = nn.Sequential(
            *conv_bn_relu(in_channels, hidden, 1),
            nn.Conv2d(
                hidden,
                hidden,
                3,
                stride=stride,
                padding=1,
                groups=hidden,
                bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            # linear bottleneck: no activation after the projection
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


@MODELS.register_module()
class CifarMobileNetV2(BaseModule):
    """The CIFAR MobileNetV2 of CRD (``mobile_half``: width 0.5, t = 6).

    A stride-2 3x3 stem, seven inverted-residual groups (t, c, n, s) =
    (1, 16, 1, 1), (t, 24, 2, 1), (t, 32, 3, 2), (t, 64, 4, 2),
    (t, 96, 3, 1), (t, 160, 3, 2), (t, 320, 1, 1) with channels scaled by
    the width multiplier, and a 1x1 conv to 1280 channels (not scaled for
    multipliers <= 1), for a 2x2 map on CIFAR (32 -> 16 -> 16 -> 8 -> 4 -> 2).
    Definitions follow Tian et al., "Contrastive Representation Distillation"
    (ICLR 2020), whose CIFAR-100 pairs the TST paper (Shao et al., IJCAI
    2023) uses.

    A ``GlobalAveragePooling`` neck + ``LinearClsHead(in_channels=1280)``
    complete the CRD network (CRD average-pools the 2x2 map, then applies a
    single linear layer).

    Args:
        arch: One of :attr:`arch_settings` (``'mobile_half'``).
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config. Defaults to CRD's initialisation
            (:data:`~.crd_init.CRD_INIT_CFG`); e.g. a ``Pretrained`` one
            loads a checkpoint instead.

    Returns (forward):
        A one-tuple with the last feature map (N, 1280, H/16, W/16), before
        global pooling.
    """

    # arch: expansion factor t and width multiplier
    arch_settings: Dict[str, Dict[str, float]] = {
        'mobile_half': dict(expand_ratio=6, width_mult=0.5),
    }
    # (t, c, n, s) with t = None meaning "the arch's expansion factor"
    block_settings = [
        (1, 16, 1, 1),
        (None, 24, 2, 1),
        (None, 32, 3, 2),
        (None, 64, 4, 2),
        (None, 96, 3, 1),
        (None, 160, 3, 2),
        (None, 320, 1, 1),
    ]

    def __init__(self,
                 arch: str = 'mobile_half',
                 in_channels: int = 3,
                 init_cfg=CRD_INIT_CFG):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarMobileNetV2 arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        self.arch = arch
        expand_ratio = int(self.arch_settings[arch]['expand_ratio'])
        width_mult = self.arch_settings[arch]['width_mult']

        # Names conv1, blocks, conv2 follow RepDistiller: a CRD checkpoint
        # loads into an ImageClassifier after prefixing its keys with
        # ``backbone.`` and renaming ``classifier.0`` to ``head.fc``.
        channels = int(32 * width_mult)
        self.conv1 = conv_bn_relu(in_channels, channels, 3, stride=2)
        self.blocks = nn.ModuleList()
        for t, c, n, s in self.block_settings:
            width = int(c * width_mult)
            ratio = expand_ratio if t is None else t
            group = []
            for block_index in range(n):
                # only a group's first block changes stride (and width)
                stride = s if block_index == 0 else 1
                group.append(InvertedResidual(channels, width, stride, ratio))
                channels = width
            self.blocks.append(nn.Sequential(*group))
        # Narrow models keep the full 1280-d head feature, as in
        # MobileNetV2 and CRD.
        last_channels = 1280 if width_mult <= 1.0 else int(1280 * width_mult)
        self.conv2 = conv_bn_relu(channels, last_channels, 1)
        self.out_channels = last_channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.conv1(x)
        for group in self.blocks:
            x = group(x)
        return (self.conv2(x), )


__all__ = ['CifarMobileNetV2', 'InvertedResidual']
