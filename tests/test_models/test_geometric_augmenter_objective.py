"""The detection / segmentation augmenter objective (TST stage II) against
the authors' mmdet / mmseg code (SDAKD_FOR_DETECTION_AND_SEGMENTATION/
mmrazor/SDAKD/OSDLoss.py, OSDSEGLoss.py): each inverted loss term against
a hand computation on a tiny input, the scale of the student's term
against the teacher's, and the policy actually moving at the paper's
augmenter lr."""
import copy
import math

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData

from mmtst.engine import DistillerOptimWrapperConstructor
from mmtst.models.losses.inverted_losses import (NegatedLogitFocalLoss,
                                                 SwappedFocalLoss, invert_loss,
                                                 inverted_task_losses)
from mmtst.registry import MODELS

DETECTORS = Config.fromfile(
    f'{REPO}/configs/_base_/models/scenes_detectors.py')
SEGMENTERS = Config.fromfile(
    f'{REPO}/configs/_base_/models/scenes_segmenters.py')
# the scenes TST configs' augmenter (neural backend, the paper's op nets)
AUGMENTER = dict(
    type='LearnableAugmentPolicy',
    backend='neural',
    solve_number=4,
    temperature=0.05,
    cutout_size=32)


# ---------------------------------------------------------------- by hand
def test_authors_inverted_focal_by_hand():
    """FL(-x, t) per element, averaged over all prior x class elements;
    label weights and avg_factor play no part (OSDLoss.py,
    osd_py_sigmoid_focal_loss ends in ``loss.mean()``)."""
    from mmdet.models.losses import FocalLoss
    loss = invert_loss(
        FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0))
    assert isinstance(loss, NegatedLogitFocalLoss)
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, -0.5]])
    labels = torch.tensor([1, 3])  # prior 0: class 1; prior 1: background
    expected = 0.0
    for i in range(2):
        for c in range(3):
            s = 1 / (1 + math.exp(-logits[i, c].item()))
            if labels[i].item() == c:  # ground truth: alpha, s^gamma
                expected += 0.25 * s**2 * -math.log(1 - s)
            else:
                expected += 0.75 * (1 - s)**2 * -math.log(s)
    expected = 2.0 * expected / 6
    got = loss(logits, labels, torch.tensor([1.0, 0.0]), avg_factor=1.0)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    assert loss(logits, labels).item() == pytest.approx(expected, rel=1e-5)
    # lower when the student is wrong: object missed, background fired on
    wrong = torch.tensor([[2.0, -4.0, 0.5], [-3.0, 4.0, -0.5]])
    assert loss(wrong, labels) < loss(logits, labels)


def test_task_inverted_focal_keeps_mmdets_reduction():
    """``'task'``: targets swapped, summed and divided by avg_factor."""
    from mmdet.models.losses import FocalLoss
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    loss = invert_loss(FocalLoss(use_sigmoid=True), reduction='task')
    assert isinstance(loss, SwappedFocalLoss)
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, -0.5]])
    labels = torch.tensor([1, 3])
    swapped = 1 - torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    ref = py_sigmoid_focal_loss(
        logits, swapped, torch.ones(2, 3), reduction='mean', avg_factor=1.0)
    assert torch.allclose(
        loss(logits, labels, torch.ones(2), avg_factor=1.0), ref)


def test_regression_and_ce_terms_keep_the_task_reduction():
    """As in the authors' OSDL1Loss / osd_cross_entropy: -L1 and the
    bounded anti-CE reduced with the heads' weights and avg_factor."""
    from mmdet.models.losses import CrossEntropyLoss, L1Loss
    pred = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
    target = torch.tensor([[1.5, 2.0, 2.0, 4.0], [0.0, 1.0, 1.0, 1.0]])
    weight = torch.tensor([[1.0] * 4, [0.0] * 4])
    got = invert_loss(L1Loss())(pred, target, weight, avg_factor=2.0)
    assert got.item() == pytest.approx(-(0.5 + 1.0) / 2.0)
    scores = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]])
    labels = torch.tensor([0, 2])
    got = invert_loss(CrossEntropyLoss())(
        scores, labels, torch.ones(2), avg_factor=4.0)
    p = scores.softmax(1)
    expected = -(math.log(1 - p[0, 0] + 1e-8) +
                 math.log(1 - p[1, 2] + 1e-8)) / 4
    assert got.item() == pytest.approx(expected, rel=1e-5)


def _seg_model():
    with DefaultScope.overwrite_default_scope('mmseg'):
        cfg = dict(
            type='mmtst.SegmentationDistiller',
            teacher=copy.deepcopy(SEGMENTERS.pspnet_teacher),
            student=copy.deepcopy(SEGMENTERS.pspnet_student),
            allow_random_teacher=True)
        return MODELS.build(cfg)


def test_authors_inverted_pixel_ce_by_hand():
    """OSDSEGLoss.py: the one-hot masked (N, C, H, W) map is averaged, so
    the per-pixel inverted CE is summed and divided by N * C * H * W."""
    model = _seg_model()
    head = model.student.decode_head
    logits = torch.randn(2, 11, 3, 4)
    labels = torch.randint(0, 11, (2, 3, 4))
    labels[0, 0] = 255
    p = logits.softmax(1)
    total, valid = 0.0, 0
    for n in range(2):
        for i in range(3):
            for j in range(4):
                y = labels[n, i, j].item()
                if y != 255:
                    total += -math.log(1 - p[n, y, i, j].item() + 1e-8)
                    valid += 1
    with inverted_task_losses(model.student):
        authors = head.loss_decode(logits, labels, ignore_index=255)
    with inverted_task_losses(model.student, 'task'):
        task = head.loss_decode(logits, labels, ignore_index=255)
    assert authors.item() == pytest.approx(total / (2 * 11 * 3 * 4), rel=1e-4)
    assert task.item() == pytest.approx(total / (2 * 3 * 4), rel=1e-4)
    with pytest.raises(ValueError, match='inverted_reduction'):
        with inverted_task_losses(model.student, 'sum'):
            pass


# ---------------------------------------------------------------- in a step
def _det_batch(n=4, size=96, seed=0):
    """Scenes-like images: a textured background with bright rectangles,
    the objects' boxes as ground truth."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(n):
        img = (torch.rand(3, size, size, generator=gen) * 60 + 40)
        boxes, labels = [], []
        for k in range(2):
            x0, y0 = torch.randint(0, size - 40, (2, ), generator=gen).tolist()
            w, h = torch.randint(20, 38, (2, ), generator=gen).tolist()
            img[:, y0:y0 + h, x0:x0 + w] = 200 + 40 * torch.rand(
                3, h, w, generator=gen)
            boxes.append([x0, y0, x0 + w, y0 + h])
            labels.append(int(torch.randint(0, 10, (1, ), generator=gen)))
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                img_id=i))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
            labels=torch.tensor(labels))
        samples.append(sample)
        inputs.append(img.to(torch.uint8))
    return dict(inputs=inputs, data_samples=samples)


def _seg_batch(n=4, size=64, seed=0):
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        img = torch.rand(3, size, size, generator=gen) * 60 + 40
        label = torch.zeros(1, size, size, dtype=torch.long)
        for _ in range(2):
            x0, y0 = torch.randint(0, size - 24, (2, ), generator=gen).tolist()
            cls = int(torch.randint(1, 11, (1, ), generator=gen))
            img[:, y0:y0 + 20, x0:x0 + 20] = 200
            label[:, y0:y0 + 20, x0:x0 + 20] = cls
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
        inputs.append(img.to(torch.uint8))
    return dict(inputs=inputs, data_samples=samples)


def _build(task, **kwargs):
    if task == 'det':
        cfg = dict(
            type='mmtst.DetectionDistiller',
            teacher=copy.deepcopy(DETECTORS.retinanet_teacher),
            student=copy.deepcopy(DETECTORS.retinanet_student))
    else:
        cfg = dict(
            type='mmtst.SegmentationDistiller',
            teacher=copy.deepcopy(SEGMENTERS.pspnet_teacher),
            student=copy.deepcopy(SEGMENTERS.pspnet_student))
    cfg.update(allow_random_teacher=True, augmenter=AUGMENTER, **kwargs)
    with DefaultScope.overwrite_default_scope('mmdet' if task ==
                                              'det' else 'mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg)
        model.init_weights()
    model.train()
    # the scenes TST configs' augmenter optimiser (SGD, momentum 0.9,
    # grad-norm clip 20, lr scaled to the short scenes phases)
    wrappers = DistillerOptimWrapperConstructor(
        dict(
            architecture=dict(optimizer=dict(type='SGD', lr=0.01)),
            augmenter=copy.deepcopy(SCENES_AUGMENTER_OPTIM[task])))(
                model)
    return model, wrappers


SCENES_AUGMENTER_OPTIM = {
    'det':
    Config.fromfile(
        f'{REPO}/configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_'
        f'1xb16-12e_scenes.py').optim_wrapper.augmenter.to_dict(),
    'seg':
    Config.fromfile(
        f'{REPO}/configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-'
        f'4k_scenes-seg.py').optim_wrapper.augmenter.to_dict(),
}


def _term(log, who):
    return sum(
        float(v) for k, v in log.items()
        if k.startswith(f'augmenter.{who}.') and 'loss' in k)


def test_det_student_term_on_the_teachers_scale():
    """'authors': the student's inverted focal loss is O(1) like the
    teacher's focal loss; 'task' (sum over all priors x classes / number of
    positives) makes it hundreds of times larger."""
    ratios = {}
    for reduction in ('authors', 'task'):
        model, wrappers = _build('det', inverted_reduction=reduction)
        torch.manual_seed(1)
        log = model.augmenter_step(_det_batch(), wrappers)
        student = float(log['augmenter.student_inverted.loss_cls'])
        teacher = float(log['augmenter.teacher.loss_cls'])
        ratios[reduction] = student / teacher
    assert ratios['authors'] < 10, ratios
    assert ratios['task'] > 50, ratios


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_policy_moves_with_the_scenes_configs(task):
    """A few augmenter steps with the scenes TST configs' augmenter
    optimiser move the policy logits visibly under the authors' weighting
    (with the authors' COCO lr 0.01 and the old configs they stayed at
    0: gradients ~1e-3)."""
    assert SCENES_AUGMENTER_OPTIM[task]['clip_grad'] == dict(max_norm=20)
    model, wrappers = _build(task)
    aug = model.augmenter
    before = torch.cat([aug.probability_logits,
                        aug.magnitude_logits]).detach().clone()
    torch.manual_seed(2)
    for step in range(STEPS):
        batch = (_det_batch if task == 'det' else _seg_batch)(seed=step)
        log = model.augmenter_step(batch, wrappers)
        assert math.isfinite(float(log['loss']))
    after = torch.cat([aug.probability_logits, aug.magnitude_logits]).detach()
    moved = (after - before).abs().max().item()
    assert moved > MIN_MOVE, moved


STEPS = 8
MIN_MOVE = 0.002  # lr 0.01 (the old configs) moves ~1e-4 here
