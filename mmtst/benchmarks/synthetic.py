"""Model configs and random batches for timing steps and for the tests:
what a dataloader would yield (uint8 CHW images with labels, boxes or
label maps), without a dataset; the pixel values do not matter for speed.
"""
from typing import Callable, Sequence

import torch

CIFAR_MEAN = [129.304, 124.070, 112.434]  # CIFAR-100, 0..255
CIFAR_STD = [68.170, 65.392, 70.418]


def cifar_resnet_classifier(arch: str,
                            num_classes: int = 100,
                            in_channels: int = 3,
                            mean: Sequence[float] = CIFAR_MEAN,
                            std: Sequence[float] = CIFAR_STD) -> dict:
    """An mmpretrain ``ImageClassifier`` config around mmtst's
    ``CifarResNet`` (the CRD classifier: global pooling and one linear
    layer as wide as the backbone's last stage)."""
    from mmtst.models.backbones.cifar_resnet import CifarResNet
    width = CifarResNet.arch_settings[arch][2][-1]
    return dict(
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            mean=list(mean),
            std=list(std),
            to_rgb=False),
        backbone=dict(
            type='mmtst.CifarResNet', arch=arch, in_channels=in_channels),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=width))


def _random_image(size: int, gen: torch.Generator) -> torch.Tensor:
    """One uint8 ``3 x size x size`` image."""
    return torch.randint(
        0, 256, (3, size, size), dtype=torch.uint8, generator=gen)


def random_cls_batch(batch: int,
                     num_classes: int,
                     size: int = 32,
                     seed: int = 0) -> dict:
    """What a dataloader yields: uint8 CHW images and labelled samples."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [_random_image(size, gen) for _ in range(batch)]
    labels = torch.randint(0, num_classes, (batch, ), generator=gen)
    samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def _random_batch(batch: int, size: int, seed: int,
                  sample_of: Callable[[int, torch.Generator], object]) -> dict:
    """``batch`` images, each followed by ``sample_of(index, generator)``
    (its labels drawn from the same generator)."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for index in range(batch):
        inputs.append(_random_image(size, gen))
        samples.append(sample_of(index, gen))
    return dict(inputs=inputs, data_samples=samples)


def random_det_batch(batch: int, size: int = 96, seed: int = 0) -> dict:
    """uint8 images with two labelled boxes each, as mmdet's loader packs."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData

    def sample_of(index: int, gen: torch.Generator) -> DetDataSample:
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                img_id=index))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(
                torch.tensor([[10., 12., 40., 50.], [50., 50., 80., 90.]])),
            labels=torch.randint(0, 10, (2, ), generator=gen))
        return sample

    return _random_batch(batch, size, seed, sample_of)


def random_seg_batch(batch: int, size: int = 96, seed: int = 0) -> dict:
    """uint8 images with an 11-class label map each, as mmseg packs them."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    def sample_of(index: int, gen: torch.Generator) -> SegDataSample:
        labels = torch.zeros(1, size, size, dtype=torch.long)
        labels[:, 20:60,
               24:70] = int(torch.randint(1, 11, (1, ), generator=gen))
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=labels)
        return sample

    return _random_batch(batch, size, seed, sample_of)
