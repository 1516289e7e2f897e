"""FunMatch's set-ups: which view reaches teacher and student, the fixed
teacher's cache, and mixup."""
import pytest
import torch
from helpers import tiny_classifier
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmtst.evaluation import TeacherStudentAgreement
from mmtst.models.views import (BatchMixup, CentreResize, DistillationViews,
                                RandomResizedCropFlip)
from mmtst.registry import MODELS

CROP = dict(type='RandomResizedCropFlip', size=28, scale=(0.25, 1.0))


def build(views, **kw):
    init_default_scope('mmpretrain')
    cfg = dict(
        type='mmtst.ClassificationDistiller',
        teacher=tiny_classifier('resnet8'),
        student=tiny_classifier('resnet8'),
        allow_random_teacher=True,
        distill_loss=dict(type='KLDivergence'),
        views=dict(type='DistillationViews', **views))
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.train()
    return model


def batch(n=6, start=0):
    pixels = torch.rand(n, 1, 28, 28) * 255
    samples = [
        DataSample(metainfo=dict(sample_idx=start + i)).set_gt_label(i % 10)
        for i in range(n)
    ]
    return pixels, samples


def capture_inputs(model):
    seen = {}
    model.student.backbone.register_forward_pre_hook(
        lambda m, a: seen.__setitem__('student', a[0].detach().clone()))
    model.teacher.backbone.register_forward_pre_hook(
        lambda m, a: seen.__setitem__('teacher', a[0].detach().clone()))
    return seen


def test_consistent_mode_shares_one_view():
    model = build(dict(mode='consistent', transform=CROP))
    seen = capture_inputs(model)
    pixels, samples = batch()
    model.loss(pixels, samples)
    assert torch.equal(seen['student'], seen['teacher'])
    # and it is a random view, not the loader's image
    normalised = model.model_inputs(pixels, 'student')
    assert not torch.allclose(seen['student'], normalised)


def test_independent_mode_draws_two_views():
    model = build(dict(mode='independent', transform=CROP))
    seen = capture_inputs(model)
    model.loss(*batch())
    assert not torch.allclose(seen['student'], seen['teacher'])


def test_function_matching_mixes_neighbours_with_one_coefficient():
    torch.manual_seed(3)
    model = build(
        dict(
            mode='consistent',
            transform=CROP,
            mixup=dict(type='BatchMixup', alpha=1.0)))
    seen = capture_inputs(model)
    pixels, samples = batch()
    state = torch.random.get_rng_state()
    model.loss(pixels, samples)
    # replay the same randomness to recover view and coefficient
    torch.random.set_rng_state(state)
    view = model.views.transform(pixels)
    a = model.views.mixup.coefficient()
    assert a >= 0.5
    expected = model.model_inputs(a * view + (1 - a) * view.roll(1, 0),
                                  'student')
    assert torch.allclose(seen['student'], expected, atol=1e-4)
    assert torch.equal(seen['student'], seen['teacher'])


def test_mixup_recipe():
    mixup = BatchMixup(alpha=1.0)
    coefficients = [mixup.coefficient() for _ in range(200)]
    assert min(coefficients) >= 0.5 and max(coefficients) <= 1.0
    # a = max(a, 1 - a) of Beta(1, 1) is uniform on [0.5, 1]: mean 0.75
    assert abs(sum(coefficients) / 200 - 0.75) < 0.05
    x = torch.arange(4.0).view(4, 1)
    assert torch.allclose(
        BatchMixup.mix(x, 0.75),
        torch.tensor([[0.75 * 0 + 0.25 * 3], [0.75 * 1 + 0.25 * 0],
                      [0.75 * 2 + 0.25 * 1], [0.75 * 3 + 0.25 * 2]]))


def test_fixed_teacher_cache_is_used_and_invalidated(tmp_path):
    views = dict(
        mode='fixed_teacher',
        transform=CROP,
        fixed_view=dict(type='CentreResize', size=28),
        cache_dir=str(tmp_path))
    model = build(views)
    calls = []
    model.teacher.backbone.register_forward_pre_hook(
        lambda m, a: calls.append(a[0].shape[0]))
    pixels, samples = batch(6)
    model.loss(pixels, samples)
    assert calls == [6] and model._teacher_cache.misses == 6
    model.loss(pixels, samples)
    assert calls == [6], 'a cached sample reached the teacher again'
    assert model._teacher_cache.hits == 6
    # a new run with the same teacher reads the file on disk
    again = build(views)
    again.teacher.load_state_dict(model.teacher.state_dict())
    again.loss(pixels, samples)
    assert again._teacher_cache.hits == 6 and again._teacher_cache.misses == 0
    cached = again._teacher_cache.get_or_compute(torch.arange(6), None)
    with torch.no_grad():
        fresh = model.logits(CentreResize(28)(pixels), 'teacher')
    assert torch.allclose(cached, fresh, atol=1e-5)
    # another teacher: another fingerprint, nothing reused
    other = build(views)
    with torch.no_grad():
        next(other.teacher.parameters()).add_(1.0)
    other.loss(pixels, samples)
    assert other._teacher_cache.misses == 6
    # new indices grow the cache
    more_pixels, more_samples = batch(4, start=5000)
    model.loss(more_pixels, more_samples)
    assert model._teacher_cache.capacity > 5000


def test_tst_needs_consistent_views():
    with pytest.raises(ValueError, match='consistent'):
        build(
            dict(mode='independent', transform=CROP),
            augmenter=dict(type='LearnableAugmentPolicy', backend='analytic'))


def test_tst_with_function_matching_runs():
    model = build(
        dict(mode='consistent', transform=CROP, mixup=dict(type='BatchMixup')),
        distill_loss=dict(type='KDLoss'),
        augmenter=dict(type='LearnableAugmentPolicy', backend='analytic'))
    losses = model.loss(*batch())
    assert torch.isfinite(losses['distill.loss_kd'])


def test_crop_transform_geometry():
    x = torch.rand(3, 1, 20, 30)
    boxes = RandomResizedCropFlip(16).boxes(500, 20, 30)
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= 30).all()
    assert (boxes[:, 1] >= 0).all() and (boxes[:, 1] + boxes[:, 3] <= 20).all()
    whole = RandomResizedCropFlip((20, 30),
                                  scale=(1.0, 1.0),
                                  ratio=(1.5, 1.5),
                                  flip_prob=1.0)
    assert torch.allclose(whole(x), x.flip(-1), atol=1e-5)
    with pytest.raises(ValueError, match='scale'):
        RandomResizedCropFlip(8, scale=(0.5, 0.2))
    with pytest.raises(ValueError, match='mode'):
        DistillationViews(mode='same', transform=CROP)


def test_agreement_metric():
    metric = TeacherStudentAgreement()
    samples = [
        dict(
            pred_label=torch.tensor([1]),
            teacher_pred_label=torch.tensor([1])),
        dict(
            pred_label=torch.tensor([2]), teacher_pred_label=torch.tensor([0]))
    ]
    metric.process(None, samples)
    assert metric.compute_metrics(metric.results) == {'top1': 50.0}
    with pytest.raises(ValueError, match='record_teacher_predictions'):
        metric.process(None, [dict(pred_label=torch.tensor([1]))])


def test_predict_records_teacher_labels():
    model = build(
        dict(mode='consistent', transform=CROP),
        record_teacher_predictions=True).eval()
    pixels, samples = batch(4)
    out = model.predict(pixels, samples)
    expected = model.logits(pixels, 'teacher').argmax(1)
    assert [int(o.teacher_pred_label) for o in out] == expected.tolist()
