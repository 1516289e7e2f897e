"""The registered step-cost scenarios (``--scenario`` of
``tools/benchmarks/tst_step_cost.py``): ``cls_cifar100`` (ResNet32x4 ->
ResNet8x4 on CIFAR-100-shaped random data, with the speed issue's
targets) and ``det_scenes`` / ``seg_scenes`` (the Fashion-MNIST scenes
RetinaNet and PSPNet pairs on random 96x96 images, without targets).

Importing this module registers them in :data:`.step_kinds.SCENARIOS`.
"""
import argparse
import importlib
import os.path as osp
from typing import Callable

from .sets import REPO_ROOT
from .step_kinds import (AUGMENTER_FORWARD, AUGMENTER_STEP, BASELINE, REPLACE,
                         STUDENT, Scenario, Target, cached_distillers,
                         distiller_step_kinds, register_scenario)
from .synthetic import (cifar_resnet_classifier, random_cls_batch,
                        random_det_batch, random_seg_batch)


def _import_cls_toolboxes() -> None:
    import mmpretrain.models  # noqa: F401

    import mmtst.engine  # noqa: F401
    import mmtst.models  # noqa: F401


@register_scenario('cls_cifar100')
def cls_cifar100(args: argparse.Namespace) -> Scenario:
    """ResNet32x4 -> ResNet8x4 on CIFAR-100-shaped random data."""
    num_classes = 100
    data = random_cls_batch(args.batch, num_classes)
    student_optim = dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
    augmenter_optim = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
    model_and_optim = cached_distillers(
        'mmpretrain',
        dict(
            type='mmtst.ClassificationDistiller',
            teacher=cifar_resnet_classifier('resnet32x4', num_classes),
            student=cifar_resnet_classifier('resnet8x4', num_classes),
            distill_loss=dict(type='KDLoss', tau=4.0)), student_optim,
        augmenter_optim)

    kinds, notes = distiller_step_kinds(
        args,
        data,
        model_and_optim,
        lambda model, inputs: model.augment(inputs),
        replace_mode=True)
    return Scenario(
        name='cls_cifar100',
        description=('ResNet32x4 -> ResNet8x4, CIFAR-100-shaped random data '
                     f'(3x32x32, 100 classes), batch {args.batch}, random '
                     'teacher, KDLoss tau 4, SGD'),
        kinds=kinds,
        targets={
            STUDENT: Target('ratio', 2.05, '2.0x'),
            REPLACE: Target('ratio', 1.10, ''),
            AUGMENTER_STEP: Target('ratio', 1.5, '1.6-1.7x'),
            AUGMENTER_FORWARD: Target('percent_of_student', 1.0, '0.3-0.4%'),
        },
        rss_refs_mb={
            BASELINE: 800.0,
            STUDENT: 1190.0,
            AUGMENTER_STEP: 1410.0
        },
        notes=notes,
        preload=_import_cls_toolboxes)


def _scenes_scenario(args: argparse.Namespace,
                     name: str,
                     scope: str,
                     distiller: str,
                     model: str,
                     losses: dict,
                     batch: Callable[[int], dict],
                     description: str,
                     augmenter_clip: float = 20.0) -> Scenario:
    """KD / TST student / augmenter step kinds of a Fashion-MNIST scenes
    pair: ``mmtst.<distiller>`` with ``losses`` between the ``<model>``
    teacher and student of ``configs/_base_/models/scenes_<task>.py`` (no
    ``replace`` mode there: the doubled batch is how the paper trains every
    task)."""
    from mmengine.config import Config
    task = {'mmdet': 'detectors', 'mmseg': 'segmenters'}[scope]
    models = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 f'scenes_{task}.py'))
    importlib.import_module(f'{scope}.models')
    data = batch(args.batch)
    model_and_optim = cached_distillers(
        scope,
        dict(
            type=f'mmtst.{distiller}',
            teacher=models[f'{model}_teacher'],
            student=models[f'{model}_student'],
            **losses),
        dict(
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)),
        dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
            clip_grad=dict(max_norm=augmenter_clip)),
        init_weights=True)

    kinds, notes = distiller_step_kinds(
        args,
        data,
        model_and_optim,
        lambda model, inputs: model.augmenter(inputs),
        replace_mode=False)
    return Scenario(
        name=name, description=description, kinds=kinds, notes=notes)


@register_scenario('det_scenes')
def det_scenes(args: argparse.Namespace) -> Scenario:
    """RetinaNet R18 (1/4 width) -> RetinaNet R18 (1/8 width), 96x96."""
    return _scenes_scenario(
        args, 'det_scenes', 'mmdet', 'DetectionDistiller', 'retinanet',
        dict(kl_weight=1.0, tau=1.0), random_det_batch,
        'RetinaNet ResNet-18 w16 -> w8 (the scenes pair), 96x96 random '
        f'images with 2 boxes each, batch {args.batch}, random teacher, KL '
        'on the classification maps, SGD')


@register_scenario('seg_scenes')
def seg_scenes(args: argparse.Namespace) -> Scenario:
    """PSPNet R18 (1/4 width) -> PSPNet R18 (1/8 width), 96x96."""
    return _scenes_scenario(
        args, 'seg_scenes', 'mmseg', 'SegmentationDistiller', 'pspnet',
        dict(
            distill_loss=dict(type='PixelWiseKL', tau=1.0),
            decode_weight=1.5,
            aux_weight=0.5), random_seg_batch,
        'PSPNet ResNetV1c-18 w16 -> w8 (the scenes pair), 96x96 random '
        f'images and label maps, batch {args.batch}, random teacher, '
        'pixel-wise KL (decode 1.5, aux 0.5), SGD')
