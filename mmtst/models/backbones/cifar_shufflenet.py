"""ShuffleNetV1/V2 of the CRD CIFAR benchmark (``ShuffleV1``, ``ShuffleV2``).

ShuffleNet (Zhang et al., CVPR 2018) and ShuffleNetV2 (Ma et al., ECCV 2018)
in the CIFAR form defined for distillation by CRD (Tian et al., "Contrastive
Representation Distillation", ICLR 2020, RepDistiller ``models/
ShuffleNetv1.py`` and ``models/ShuffleNetv2.py``) and reused by DKD and TST
(Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023). For 32x32 inputs both drop the ImageNet stem's stride
and max-pool: a 1x1 stem conv keeps 32x32 and the three stages downsample to
4x4.

CRD gives these two networks no custom initialisation (PyTorch defaults), so
neither do we.
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmtst.registry import MODELS


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups (N, g*c, H, W)."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h,
                  w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleV1Unit(nn.Module):
    """ShuffleNet unit: grouped 1x1, shuffle, depthwise 3x3, grouped 1x1.

    With stride 2 the shortcut is a 3x3 average pool *concatenated* to the
    branch, so the branch only produces ``out_channels - in_channels``
    channels (the caller passes that as ``branch_channels``).

    Args:
        in_channels: Channels of the unit input.
        branch_channels: Channels produced by the residual branch.
        stride: 1 (add identity) or 2 (concat pooled input).
        groups: Groups of the second 1x1 conv (and of the first one unless
            ``group_first_conv`` is False).
        group_first_conv: ShuffleNet leaves the first 1x1 of the network's
            first unit ungrouped, its input being only 24 channels.
    """

    def __init__(self,
                 in_channels: int,
                 branch_channels: int,
                 stride: int,
                 groups: int,
                 group_first_conv: bool = True):
        super().__init__()
        self.stride = stride
        # bottleneck width: a quarter of the branch output
        mid_channels = branch_channels // 4
        first_groups = groups if group_first_conv else 1
        self.first_groups = first_groups
        # Names conv1-3/bn1-3 follow RepDistiller's checkpoint keys.
        self.conv1 = nn.Conv2d(
            in_channels, mid_channels, 1, groups=first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(
            mid_channels,
            mid_channels,
            3,
            stride=stride,
            padding=1,
            groups=mid_channels,
            bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(
            mid_channels, branch_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        # the shuffle lets the next grouped conv see every input group
        out = channel_shuffle(out, self.first_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            shortcut = F.avg_pool2d(x, 3, stride=2, padding=1)
            return F.relu(torch.cat([out, shortcut], 1))
        return F.relu(out + x)


@MODELS.register_module()
class CifarShuffleNetV1(BaseModule):
    """The CIFAR ShuffleNetV1 of CRD (``ShuffleV1``: g = 3).

    A 1x1 stem conv to 24 channels, then three stages of (4, 8, 4) units
    with outputs (240, 480, 960); each stage's first unit has stride 2 and a
    concatenated shortcut. Definitions follow Tian et al., "Contrastive
    Representation Distillation" (ICLR 2020), whose CIFAR-100 pairs the TST
    paper (Shao et al., IJCAI 2023) uses.

    A ``GlobalAveragePooling`` neck + ``LinearClsHead(in_channels=960)``
    complete the CRD network.

    Args:
        arch: One of :attr:`arch_settings` (``'ShuffleV1'``, CRD's name).
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config, e.g. to load a checkpoint.

    Returns (forward):
        A one-tuple with the last stage's feature map (N, 960, H/8, W/8),
        before global pooling.
    """

    arch_settings: Dict[str, dict] = {
        'ShuffleV1':
        dict(stage_channels=(240, 480, 960), num_blocks=(4, 8, 4), groups=3),
    }
    stem_channels = 24

    def __init__(self,
                 arch: str = 'ShuffleV1',
                 in_channels: int = 3,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarShuffleNetV1 arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        self.arch = arch
        setting = self.arch_settings[arch]
        groups = setting['groups']

        # Names conv1, bn1, layer1-3 follow RepDistiller: a CRD checkpoint
        # loads into an ImageClassifier after prefixing its keys with
        # ``backbone.`` and renaming ``linear`` to ``head.fc``.
        self.conv1 = nn.Conv2d(in_channels, self.stem_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.stem_channels)
        channels = self.stem_channels
        for stage_index, (width, num_blocks) in enumerate(
                zip(setting['stage_channels'], setting['num_blocks'])):
            units = []
            for unit_index in range(num_blocks):
                if unit_index == 0:
                    units.append(
                        ShuffleV1Unit(
                            channels,
                            width - channels,
                            stride=2,
                            groups=groups,
                            group_first_conv=stage_index > 0))
                else:
                    units.append(
                        ShuffleV1Unit(width, width, stride=1, groups=groups))
            self.add_module(f'layer{stage_index + 1}', nn.Sequential(*units))
            channels = width
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return (x, )


class ShuffleV2Unit(nn.Module):
    """ShuffleNetV2 basic unit: split, transform one half, concat, shuffle.

    Args:
        channels: Input = output channels; each half has ``channels // 2``.
    """

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        # Names conv1-3/bn1-3 follow RepDistiller's checkpoint keys.
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(
            half, half, 3, padding=1, groups=half, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[1] // 2
        # the first half passes untouched (ShuffleNetV2's feature reuse)
        kept, transformed = x[:, :half], x[:, half:]
        out = F.relu(self.bn1(self.conv1(transformed)))
        out = self.bn2(self.conv2(out))  # no ReLU after depthwise
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([kept, out], 1), 2)


class ShuffleV2DownUnit(nn.Module):
    """ShuffleNetV2 downsampling unit: two stride-2 branches, concat, shuffle.

    Args:
        in_channels: Channels of the unit input (fed to both branches).
        out_channels: Channels of the output; each branch gives half.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        mid = out_channels // 2
        # Names conv1-5/bn1-5 follow RepDistiller's checkpoint keys.
        # left branch: depthwise 3x3 (s2), 1x1
        self.conv1 = nn.Conv2d(
            in_channels,
            in_channels,
            3,
            stride=2,
            padding=1,
            groups=in_channels,
            bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        # right branch: 1x1, depthwise 3x3 (s2), 1x1
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(
            mid, mid, 3, stride=2, padding=1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.bn1(self.conv1(x))
        left = F.relu(self.bn2(self.conv2(left)))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], 1), 2)


@MODELS.register_module()
class CifarShuffleNetV2(BaseModule):
    """The CIFAR ShuffleNetV2 of CRD (``ShuffleV2``: net size 1x).

    A 1x1 stem conv to 24 channels, three stages (a downsampling unit then
    3, 7, 3 basic units) with widths (116, 232, 464), and a 1x1 conv-BN-ReLU
    to 1024 channels. Definitions follow Tian et al., "Contrastive
    Representation Distillation" (ICLR 2020), whose CIFAR-100 pairs the TST
    paper (Shao et al., IJCAI 2023) uses.

    A ``GlobalAveragePooling`` neck + ``LinearClsHead(in_channels=1024)``
    complete the CRD network.

    Args:
        arch: One of :attr:`arch_settings` (``'ShuffleV2'``, CRD's name).
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config, e.g. to load a checkpoint.

    Returns (forward):
        A one-tuple with the last feature map (N, 1024, H/8, W/8), before
        global pooling.
    """

    arch_settings: Dict[str, dict] = {
        'ShuffleV2':
        dict(
            stage_channels=(116, 232, 464),
            num_blocks=(3, 7, 3),
            last_channels=1024),
    }
    stem_channels = 24

    def __init__(self,
                 arch: str = 'ShuffleV2',
                 in_channels: int = 3,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarShuffleNetV2 arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        self.arch = arch
        setting = self.arch_settings[arch]

        # Names conv1, bn1, layer1-3, conv2, bn2 follow RepDistiller: a CRD
        # checkpoint loads into an ImageClassifier after prefixing its keys
        # with ``backbone.`` and renaming ``linear`` to ``head.fc``.
        self.conv1 = nn.Conv2d(in_channels, self.stem_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.stem_channels)
        channels = self.stem_channels
        for stage_index, (width, num_blocks) in enumerate(
                zip(setting['stage_channels'], setting['num_blocks'])):
            units = [ShuffleV2DownUnit(channels, width)]
            units += [ShuffleV2Unit(width) for _ in range(num_blocks)]
            self.add_module(f'layer{stage_index + 1}', nn.Sequential(*units))
            channels = width
        last_channels = setting['last_channels']
        self.conv2 = nn.Conv2d(channels, last_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(last_channels)
        self.out_channels = last_channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return (F.relu(self.bn2(self.conv2(x))), )


__all__ = [
    'CifarShuffleNetV1', 'CifarShuffleNetV2', 'ShuffleV1Unit', 'ShuffleV2Unit',
    'ShuffleV2DownUnit', 'channel_shuffle'
]
