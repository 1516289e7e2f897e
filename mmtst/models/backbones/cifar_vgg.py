"""BN-VGGs of the CRD CIFAR benchmark: vgg8 and vgg13.

VGG (Simonyan & Zisserman, ICLR 2015) with batch norm and without the
fully-connected stack, as defined for distillation by CRD (Tian et al.,
"Contrastive Representation Distillation", ICLR 2020, RepDistiller
``models/vgg.py``: ``vgg8_bn``/``vgg13_bn``) and reused by DKD and TST (Shao
et al., "Teaching What You Should Teach: A Data-Based Distillation Method",
IJCAI 2023).
"""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmtst.registry import MODELS
from .crd_init import CRD_INIT_CFG


def make_vgg_stage(in_channels: int, widths: List[int]) -> nn.Sequential:
    """conv3x3 (with bias) - BN - ReLU for each width in ``widths``.

    The flat conv/BN/ReLU order gives RepDistiller's ``blockN.<i>`` keys
    (ReLUs hold no parameters, so their presence does not shift them).
    """
    layers: List[nn.Module] = []
    for width in widths:
        layers += [
            # CRD keeps the conv bias even though BN follows; it counts in
            # the published parameter totals.
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        in_channels = width
    return nn.Sequential(*layers)


@MODELS.register_module()
class CifarVGG(BaseModule):
    """The CIFAR BN-VGGs of CRD (vgg8, vgg13).

    Five stages of 3x3 conv-BN-ReLU layers, widths 64, 128, 256, 512, 512,
    with 2x2 max-pooling after the first three stages (32 -> 4 on CIFAR).
    CRD pools after the fourth stage only for 64x64 inputs (Tiny-ImageNet),
    which is kept. The CRD classifier is a single linear layer on the
    global-average-pooled 512-d feature; a ``GlobalAveragePooling`` neck +
    ``LinearClsHead(in_channels=512)`` reproduce it. Definitions follow Tian
    et al., "Contrastive Representation Distillation" (ICLR 2020), whose
    CIFAR-100 pairs the TST paper (Shao et al., IJCAI 2023) uses.

    Args:
        arch: One of :attr:`arch_settings`, e.g. ``'vgg13'``.
        in_channels: Input image channels (1 for Fashion-MNIST).
        init_cfg: mmengine init config. Defaults to CRD's initialisation
            (:data:`~.crd_init.CRD_INIT_CFG`); e.g. a ``Pretrained`` one
            loads a checkpoint instead.

    Returns (forward):
        A one-tuple with the last stage's feature map (N, 512, H/8, W/8) for
        H != 64, before global pooling.
    """

    # arch: conv widths of each of the five stages
    arch_settings: Dict[str, List[List[int]]] = {
        'vgg8': [[64], [128], [256], [512], [512]],
        'vgg13': [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    }

    def __init__(self,
                 arch: str = 'vgg13',
                 in_channels: int = 3,
                 init_cfg=CRD_INIT_CFG):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown CifarVGG arch {arch!r}; valid archs are '
                f'{sorted(self.arch_settings)}')
        self.arch = arch
        # Names block0-4 follow RepDistiller: a CRD teacher checkpoint loads
        # into an ImageClassifier after prefixing its keys with
        # ``backbone.`` and renaming ``classifier`` to ``head.fc``.
        channels = in_channels
        for stage_index, widths in enumerate(self.arch_settings[arch]):
            self.add_module(f'block{stage_index}',
                            make_vgg_stage(channels, widths))
            channels = widths[-1]
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        input_height = x.shape[2]
        x = self.pool(self.block0(x))
        x = self.pool(self.block1(x))
        x = self.pool(self.block2(x))
        x = self.block3(x)
        # CRD's rule: a fourth pooling only for 64x64 inputs, so that CIFAR
        # keeps a 4x4 final map.
        if input_height == 64:
            x = self.pool(x)
        return (self.block4(x), )


__all__ = ['CifarVGG']
