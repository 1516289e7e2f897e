"""SegmentationDistiller (TST, Shao et al. IJCAI 2023, segmentation):
student step on [aug; orig] with warped label maps, logit KL / CWD,
heterogeneous pairs, augmenter step with the inverted pixel CE."""
import copy

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

from mmtst.models.losses import ChannelWiseDivergence, PixelWiseKL
from mmtst.models.losses.inverted_losses import inverted_task_losses
from mmtst.registry import MODELS

MODELS_CFG = Config.fromfile(
    f'{REPO}/configs/_base_/models/scenes_segmenters.py')
AUGMENTER = dict(
    type='LearnableAugmentPolicy',
    backend='analytic',
    ops=['TranslateX', 'Rotate', 'Brightness'],
    solve_number=3)


def build(**kwargs):
    init_default_scope('mmseg')
    cfg = dict(
        type='mmtst.SegmentationDistiller',
        teacher=copy.deepcopy(MODELS_CFG.pspnet_teacher),
        student=copy.deepcopy(MODELS_CFG.pspnet_student),
        allow_random_teacher=True)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def optim(model):
    return OptimWrapperDict(
        architecture=OptimWrapper(
            torch.optim.SGD(model.student.parameters(), lr=0.1)),
        augmenter=OptimWrapper(
            torch.optim.SGD(model.augmenter.parameters(), lr=0.5),
            clip_grad=dict(max_norm=20)))


def batch(n=2, size=32):
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(0, 256, (3, size, size), dtype=torch.uint8))
        labels = torch.zeros(1, size, size, dtype=torch.long)
        labels[:, 8:20, 8:20] = 3
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_student_step_on_doubled_batch_with_warped_labels():
    model = build(augmenter=AUGMENTER)
    data = model.data_preprocessor(batch(), True)
    seen = {}
    original = model.student.loss

    def spy(inputs, samples):
        seen['n'] = inputs.shape[0]
        seen['samples'] = samples
        return original(inputs, samples)

    model.student.loss = spy
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert seen['n'] == 4
    assert {
        'student.decode.loss_ce', 'student.aux.loss_ce',
        'distill.loss_decode_kd', 'distill.loss_aux_kd'
    } <= set(losses)
    # originals unchanged, aug copies carry their own (warped) labels
    assert seen['samples'][2] is data['data_samples'][0]
    assert seen['samples'][0] is not data['data_samples'][0]
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.augmenter.probability_logits.grad is None  # no_grad aug
    assert all(p.grad is None for p in model.teacher.parameters())


def test_kl_vanishes_for_a_student_identical_to_the_teacher():
    twin = build(decode_weight=1.5, aux_weight=0.5)
    # eval mode: no dropout, BN on running stats, as the teacher
    twin.student = copy.deepcopy(twin.teacher).eval()
    data = twin.data_preprocessor(batch(), True)
    losses = twin(data['inputs'], data['data_samples'], mode='loss')
    assert losses['distill.loss_decode_kd'].abs() < 1e-5
    assert losses['distill.loss_aux_kd'].abs() < 1e-5


def test_pixel_kl_and_cwd_values():
    s, t = torch.randn(2, 5, 4, 6), torch.randn(2, 5, 4, 6)
    kl = PixelWiseKL()(s, t)
    ref = torch.nn.functional.kl_div(
        s.log_softmax(1), t.log_softmax(1), log_target=True, reduction='none')
    assert torch.allclose(kl, ref.sum(1).mean(), atol=1e-6)
    cwd = ChannelWiseDivergence(tau=4.0)(s, t)
    s2, t2 = (s / 4).flatten(2).log_softmax(2), (t /
                                                 4).flatten(2).log_softmax(2)
    ref = torch.nn.functional.kl_div(s2, t2, log_target=True, reduction='none')
    assert torch.allclose(cwd, ref.sum(2).mean() * 16, atol=1e-5)
    assert ChannelWiseDivergence()(t, t).abs() < 1e-6
    with pytest.raises(ValueError, match='num_classes'):
        PixelWiseKL()(s, t[:, :4])


def test_cwd_alternative_and_heterogeneous_pair():
    student = copy.deepcopy(MODELS_CFG.pspnet_student)
    # output stride 16 vs the teacher's 8: logits resized to the teacher's
    student['backbone']['dilations'] = (1, 1, 1, 2)
    student['backbone']['strides'] = (1, 2, 2, 1)
    model = build(
        student=student,
        distill_loss=dict(type='mmtst.ChannelWiseDivergence', tau=4),
        feature_distill=dict(loss_weight=1.0))
    assert isinstance(model.feature_adapter, torch.nn.Conv2d)
    assert model.feature_adapter.in_channels == 64
    assert model.feature_adapter.out_channels == 128
    data = model.data_preprocessor(batch(), True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(losses['distill.loss_decode_kd'])
    assert torch.isfinite(losses['distill.loss_feature'])
    losses['distill.loss_feature'].backward()
    assert model.feature_adapter.weight.grad is not None


def test_different_num_classes_is_a_clear_error():
    student = copy.deepcopy(MODELS_CFG.pspnet_student)
    student['decode_head']['num_classes'] = 5
    with pytest.raises(ValueError, match='num_classes'):
        build(student=student)
    student = copy.deepcopy(MODELS_CFG.pspnet_student)
    student.pop('auxiliary_head')
    with pytest.raises(ValueError, match='aux_weight'):
        build(student=student)
    build(student=student, aux_weight=0)


def test_inverted_pixel_ce_and_ignore_index():
    model = build()
    head = model.student.decode_head
    logits = torch.randn(2, 11, 6, 6)
    labels = torch.randint(0, 11, (2, 6, 6))
    labels[0, :3] = 255
    # mmseg's pixel mean ('task'); the authors' form (/ C) is tested in
    # test_geometric_augmenter_objective.py
    with inverted_task_losses(model.student, 'task'):
        inverted = head.loss_decode
        got = inverted(logits, labels, ignore_index=255)
    assert head.loss_decode is not inverted  # restored
    p = logits.softmax(1)
    valid = labels != 255
    p_gt = p.gather(1, labels.clamp(max=10)[:, None])[:, 0]
    ref = (-torch.log(1 - p_gt + 1e-8) * valid).mean()
    assert torch.allclose(got, ref, atol=1e-5)


def test_augmenter_step_moves_only_the_augmenter():
    model = build(augmenter=AUGMENTER)
    wrappers = optim(model)
    before = {k: v.clone() for k, v in model.student.state_dict().items()}
    aug_before = [p.clone() for p in model.augmenter.parameters()]
    model.train()
    log = model.augmenter_step(batch(), wrappers)
    assert 'augmenter.teacher.decode.loss_ce' in log
    assert 'augmenter.student_inverted.decode.loss_ce' in log
    assert model.student.training
    assert all(p.requires_grad for p in model.student.parameters())
    for k, v in model.student.state_dict().items():
        assert torch.equal(v, before[k]), k  # BN stats too (eval mode)
    assert any(not torch.equal(a, b)
               for a, b in zip(aug_before, model.augmenter.parameters()))
    # and the student's own loss modules are back
    assert type(model.student.decode_head.loss_decode).__name__ == \
        'CrossEntropyLoss'


def test_predict_student_or_teacher():
    model = build().eval()
    data = model.data_preprocessor(batch(n=1), False)
    out = model(data['inputs'], data['data_samples'], mode='predict')
    assert out[0].pred_sem_seg.data.shape[-2:] == (32, 32)
    teacher = build(predict_model='teacher').eval()
    out = teacher(data['inputs'], data['data_samples'], mode='predict')
    assert out[0].seg_logits.data.shape[0] == 11


def test_batch_of_one_and_an_all_ignored_label_map():
    """One image per batch, whose label map is ignore_index everywhere:
    both TST steps stay finite (no pixel to average over is not a NaN)."""
    model = build(augmenter=AUGMENTER)
    wrappers = optim(model)
    model.train()
    for fill in (None, 255):
        data = batch(n=1)
        if fill is not None:
            data['data_samples'][0].gt_sem_seg.data.fill_(fill)
        log = model.train_step(data, wrappers)
        assert all(
            torch.isfinite(torch.as_tensor(v)).all()
            for v in log.values()), (fill, log)
        log = model.augmenter_step(data, wrappers)
        assert all(
            torch.isfinite(torch.as_tensor(v)).all()
            for v in log.values()), (fill, log)
    assert all(torch.isfinite(p).all() for p in model.augmenter.parameters())
    assert all(torch.isfinite(p).all() for p in model.student.parameters())
