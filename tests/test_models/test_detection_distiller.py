"""DetectionDistiller: TST's student and augmenter steps on tiny mmdet
RetinaNet / FCOS / Faster R-CNN pairs (CPU, random weights)."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmtst.engine import DistillerOptimWrapperConstructor
from mmtst.models.losses import InvertedSoftmaxCrossEntropy
from mmtst.models.losses.inverted_losses import NegatedLogitFocalLoss
from mmtst.models.utils import record_output
from mmtst.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DETECTORS = Config.fromfile(
    osp.join(REPO, 'configs/_base_/models/scenes_detectors.py'))


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Build in mmdet's scope without leaving it as the default for the
    tests that run after these."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def build(kind, same=False, **overrides):
    cfg = dict(
        type='mmtst.DetectionDistiller',
        teacher=DETECTORS[f'{kind}_student' if same else f'{kind}_teacher'],
        student=DETECTORS[f'{kind}_student'],
        allow_random_teacher=True,
        augmenter=dict(
            type='LearnableAugmentPolicy', backend='analytic', cutout_size=16))
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    if same:
        model.teacher.load_state_dict(model.student.state_dict())
    return model


def batch(n=2, size=96):
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    torch.manual_seed(1)
    samples = []
    for i in range(n):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                img_id=i))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(
                torch.tensor([[10., 12., 40., 50.], [50., 50., 80., 90.]])),
            labels=torch.tensor([1, 4]))
        samples.append(sample)
    inputs = [
        torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        for _ in range(n)
    ]
    return dict(inputs=inputs, data_samples=samples)


def optim(model):
    return DistillerOptimWrapperConstructor(
        dict(
            architecture=dict(optimizer=dict(type='SGD', lr=0.01)),
            augmenter=dict(
                optimizer=dict(type='SGD', lr=0.5, momentum=0.9),
                clip_grad=dict(max_norm=20))))(
                    model)


@pytest.mark.parametrize('kind,keys', [
    ('retinanet',
     {'student.loss_cls', 'distill.loss_cls_kl', 'distill.loss_mimic'}),
    ('fcos', {
        'student.loss_centerness', 'distill.loss_cls_kl',
        'distill.loss_centerness_kl'
    }),
    ('faster_rcnn', {
        'student.loss_rpn_cls', 'student.loss_cls', 'distill.loss_roi_cls_kl',
        'distill.loss_mimic'
    }),
])
def test_student_step_trains_student_only(kind, keys):
    levels = [0, 1, 2]
    model = build(
        kind,
        mimic=dict(levels=levels) if 'distill.loss_mimic' in keys else None)
    teacher = copy.deepcopy(model.teacher.state_dict())
    augmenter = copy.deepcopy(model.augmenter.state_dict())
    student = copy.deepcopy(model.student.state_dict())
    wrappers = optim(model)
    model.train()
    log = model.train_step(batch(), wrappers)
    assert keys <= set(log) and torch.isfinite(log['loss'])
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher[k]), k
    for k, v in model.augmenter.state_dict().items():
        assert torch.equal(v, augmenter[k]), k
    assert any(not torch.equal(v, student[k])
               for k, v in model.student.state_dict().items())
    assert not model.teacher.training


def test_doubled_batch_carries_warped_ground_truth():
    model = build('retinanet')
    shift = torch.tensor([[1.0, 0.0, -8.0], [0.0, 1.0, 0.0]]).expand(2, 2, 3)
    model.augmenter.augment_with_geometry = lambda x: (x, shift)
    data = model.data_preprocessor(batch(), True)
    with record_output(model.student, 'loss') as calls:
        model.loss(data['inputs'], data['data_samples'])
    (inputs, samples), _ = calls[0]
    assert inputs.shape[0] == 4 and len(samples) == 4
    aug, orig = samples[0].gt_instances, samples[2].gt_instances
    # the preprocessor turned mmdet box types into tensors (boxtype2tensor)
    assert torch.allclose(aug.bboxes[0],
                          orig.bboxes[0] + torch.tensor([8., 0., 8., 0.]))
    assert samples[0].metainfo['img_shape'] == samples[2].metainfo['img_shape']


def test_min_visible_area_ratio_reaches_the_warped_boxes():
    with pytest.raises(ValueError, match='min_visible_area_ratio'):
        build('retinanet', min_visible_area_ratio=1.5)
    model = build('retinanet', min_visible_area_ratio=0.6)
    # content 25 px left: the first box (x 10..40) keeps half of its
    # width in view, the second (x 50..80) all of it
    shift = torch.tensor([[1.0, 0.0, 25.0], [0.0, 1.0, 0.0]]).expand(2, 2, 3)
    samples = model.warp_samples(batch()['data_samples'], shift)
    assert [s.gt_instances.labels.tolist() for s in samples] == [[4], [4]]
    model.min_visible_area_ratio = 0.5
    samples = model.warp_samples(batch()['data_samples'], shift)
    assert samples[0].gt_instances.labels.tolist() == [1, 4]


@pytest.mark.parametrize('kind', ['retinanet', 'faster_rcnn'])
def test_identical_teacher_gives_zero_kl_on_the_same_priors(kind):
    model = build(kind, same=True)
    model.eval()  # student BN on running stats, like the teacher's
    data = model.data_preprocessor(batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    kl = [v for k, v in losses.items() if k.startswith('distill.')]
    assert kl and all(float(v) < 1e-5 for v in kl)


@pytest.mark.parametrize('kind,loss_type',
                         [('retinanet', NegatedLogitFocalLoss),
                          ('faster_rcnn', InvertedSoftmaxCrossEntropy)])
def test_augmenter_step_moves_only_the_augmenter(kind, loss_type):
    model = build(kind)
    model.train()
    wrappers = optim(model)
    student = copy.deepcopy(model.student.state_dict())
    before = model.augmenter.probability_logits.detach().clone(), \
        model.augmenter.magnitude_logits.detach().clone()
    seen = []
    head = model.student.bbox_head if kind == 'retinanet' else \
        model.student.roi_head.bbox_head
    original_loss = head.loss_cls
    with record_output(model.student, 'loss'):
        model.student.loss = _spy(model.student.loss, head, seen)
        log = model.augmenter_step(batch(), wrappers)
    assert seen == [loss_type]
    assert head.loss_cls is original_loss  # restored
    assert any(k.startswith('augmenter.student_inverted.') for k in log)
    assert any(k.startswith('augmenter.teacher.') for k in log)
    after = (model.augmenter.probability_logits,
             model.augmenter.magnitude_logits)
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    for k, v in model.student.state_dict().items():
        assert torch.equal(v, student[k]), k
    assert model.student.training
    assert all(p.requires_grad for p in model.student.parameters())


def _spy(loss, head, seen):

    def spy(*args, **kwargs):
        seen.append(type(head.loss_cls))
        return loss(*args, **kwargs)

    return spy


def test_predict_student_or_teacher():
    model = build('faster_rcnn')
    model.eval()
    data = batch()
    out = model.val_step(data)
    assert len(out) == 2 and 'pred_instances' in out[0]
    model.predict_model = 'teacher'
    assert len(model.test_step(data)) == 2


def test_mismatched_kinds_are_refused():
    with pytest.raises(ValueError, match='two-stage'):
        MODELS.build(
            dict(
                type='mmtst.DetectionDistiller',
                teacher=DETECTORS['faster_rcnn_teacher'],
                student=DETECTORS['retinanet_student'],
                allow_random_teacher=True))


@pytest.mark.parametrize('kind', ['retinanet', 'fcos', 'faster_rcnn'])
def test_batch_of_one_image_without_objects(kind):
    """An image with empty annotations, alone in its batch: both TST steps
    give finite losses (no box to warp, no positive anchor) and train."""
    model = build(kind)
    data = batch(n=1)
    sample = data['data_samples'][0]
    sample.gt_instances = sample.gt_instances[torch.zeros(2, dtype=torch.bool)]
    assert len(sample.gt_instances) == 0
    wrappers = optim(model)
    model.train()
    student = copy.deepcopy(model.student.state_dict())
    log = model.train_step(data, wrappers)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    assert any(not torch.equal(v, student[k])
               for k, v in model.student.state_dict().items())
    log = model.augmenter_step(batch(n=1), wrappers)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    assert all(torch.isfinite(p).all() for p in model.augmenter.parameters())
