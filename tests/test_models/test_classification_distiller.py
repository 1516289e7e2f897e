"""ClassificationDistiller: frozen teacher, student steps, TST alternation,
and the errors users get for bad configs."""
import copy

import pytest
import torch
from helpers import tiny_classifier
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmtst.engine import DistillerOptimWrapperConstructor
from mmtst.registry import MODELS


def build(teacher_ckpt=None, **overrides):
    init_default_scope('mmpretrain')
    cfg = dict(
        type='mmtst.ClassificationDistiller',
        teacher=tiny_classifier('resnet8'),
        student=tiny_classifier('resnet8'),
        teacher_ckpt=teacher_ckpt,
        distill_loss=dict(type='KDLoss', tau=4.0))
    cfg.update(overrides)
    return MODELS.build(cfg)


def batch(n=8, channels=1, size=28):
    torch.manual_seed(1)
    inputs = [
        torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
        for _ in range(n)
    ]
    samples = [DataSample().set_gt_label(i % 10) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def optim(model, with_augmenter=False):
    cfg = dict(architecture=dict(optimizer=dict(type='SGD', lr=0.1)))
    if with_augmenter:
        cfg['augmenter'] = dict(
            optimizer=dict(type='SGD', lr=0.5, momentum=0.9))
    return DistillerOptimWrapperConstructor(cfg)(model)


def test_student_step_leaves_teacher_untouched(teacher_ckpt):
    model = build(teacher_ckpt)
    model.train()
    assert not model.teacher.training, 'teacher norms must stay in eval mode'
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    student_before = copy.deepcopy(model.student.state_dict())
    log = model.train_step(batch(), optim(model))
    assert {'distill.loss_ce', 'distill.loss_kd', 'loss'} <= set(log)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key
    changed = [
        k for k, v in model.student.state_dict().items()
        if not torch.equal(v, student_before[k])
    ]
    assert changed, 'the student did not learn'
    assert all(not p.requires_grad for p in model.teacher.parameters())


def test_teacher_checkpoint_is_loaded(teacher_ckpt):
    model = build(teacher_ckpt)
    saved = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, saved[key])
    model.init_weights()  # what mmengine's Runner does after building
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value,
                           saved[key]), 'init_weights overwrote the teacher'


def test_predict_student_or_teacher(teacher_ckpt):
    model = build(teacher_ckpt).eval()
    data = model.data_preprocessor(batch(4), False)
    student_out = model(**data, mode='predict')
    model.predict_model = 'teacher'
    teacher_out = model(**data, mode='predict')
    assert len(student_out) == len(teacher_out) == 4
    assert 'pred_label' in student_out[0]
    expected = model.teacher(model.model_inputs(data['inputs'], 'teacher'))
    assert torch.allclose(
        teacher_out[0].pred_score, expected.softmax(1)[0], atol=1e-6)


def test_grey_input_is_repeated_for_an_rgb_teacher(tmp_path):
    init_default_scope('mmpretrain')
    rgb = tiny_classifier(
        'resnet8', in_channels=3, mean=(0, 0, 0), std=(1, 1, 1))
    model = build(
        None,
        teacher=rgb,
        allow_random_teacher=True,
        teacher_input_size=(32, 32))
    x = torch.rand(2, 1, 28, 28) * 255
    assert model.model_inputs(x, 'teacher').shape == (2, 3, 32, 32)
    assert model.model_inputs(x, 'student').shape == (2, 1, 28, 28)
    assert model.logits(x, 'teacher').shape == (2, 10)


def test_tst_student_step_uses_doubled_batch(teacher_ckpt):
    aug = dict(type='LearnableAugmentPolicy', backend='analytic')
    model = build(teacher_ckpt, augmenter=aug)
    model.train()
    seen = []
    model.student.register_forward_hook(
        lambda m, i, o: seen.append(i[0].shape[0]))
    log = model.train_step(batch(8), optim(model, True))
    assert seen == [16]
    assert 'tst.teacher_acc_aug' in log
    model.tst_mode = 'replace'
    seen.clear()
    model.train_step(batch(8), optim(model, True))
    assert seen == [8]


@pytest.mark.parametrize('backend', ['analytic', 'neural'])
def test_augmenter_step_updates_only_the_augmenter(teacher_ckpt, backend):
    aug = dict(type='LearnableAugmentPolicy', backend=backend, solve_number=14)
    model = build(teacher_ckpt, augmenter=aug)
    model.train()
    wrappers = optim(model, True)
    student_before = copy.deepcopy(model.student.state_dict())
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    policy_before = [
        p.detach().clone() for p in model.augmenter.parameters()
        if p.requires_grad
    ]
    log = model.augmenter_step(batch(8), wrappers)
    assert {
        'augmenter.loss_teacher_ce', 'augmenter.loss_student_anti_ce',
        'augmenter.teacher_conf', 'augmenter.student_conf'
    } <= set(log)
    for key, value in model.student.state_dict().items():
        assert torch.equal(value, student_before[key]), key
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key
    policy_after = [p for p in model.augmenter.parameters() if p.requires_grad]
    moved = [
        not torch.equal(a, b) for a, b in zip(policy_after, policy_before)
    ]
    assert all(moved), 'both probability and magnitude logits must move'
    assert model.student.training, 'student mode restored after the step'
    assert all(p.requires_grad for p in model.student.parameters())


# ---------------------------------------------------------------- bad input
def test_missing_teacher_ckpt_is_a_clear_error():
    with pytest.raises(ValueError, match='teacher_ckpt'):
        build(None)


def test_teacher_ckpt_file_not_found():
    with pytest.raises(FileNotFoundError, match='teacher_ckpt not found'):
        build('/nonexistent/teacher.pth')


def test_class_count_mismatch(teacher_ckpt):
    with pytest.raises(
            ValueError, match='teacher predicts 10 classes but the student 7'):
        build(teacher_ckpt, student=tiny_classifier('resnet8', num_classes=7))


def test_unknown_loss_type(teacher_ckpt):
    with pytest.raises(
            KeyError, match='KDLos.*distill_loss|distill_loss.*KDLos'):
        build(teacher_ckpt, distill_loss=dict(type='KDLos'))


@pytest.mark.parametrize(
    'part, cfg, suggestion',
    [
        ('distill_loss', dict(type='KDLos'), "Did you mean 'KDLoss'"),
        # an mmtst type named without its prefix in an mmpretrain model
        ('student',
         dict(
             tiny_classifier(),
             backbone=dict(type='CifarResNet', arch='resnet8')),
         "Did you mean 'mmtst.CifarResNet'"),
        ('student', dict(tiny_classifier(), type='ImageClasifier'),
         "Did you mean 'ImageClassifier'"),
    ])
def test_registry_typos_get_a_did_you_mean(teacher_ckpt, part, cfg,
                                           suggestion):
    with pytest.raises(KeyError) as info:
        build(teacher_ckpt, **{part: cfg})
    message = info.value.args[0]
    assert suggestion in message and part in message
    assert 'mmtst.ImageClassifier' not in message  # no invalid advice


def test_teacher_ckpt_keys_that_do_not_match(tmp_path):
    init_default_scope('mmpretrain')
    other = MODELS.build(
        dict(tiny_classifier('resnet14'), _scope_='mmpretrain'))
    path = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(ValueError, match='unexpected keys') as info:
        build(str(path))
    assert 'backbone.' in str(info.value)


def test_checkpoint_needing_arbitrary_unpickling_is_refused(tmp_path):
    path = tmp_path / 'pickled.pth'
    torch.save(dict(state_dict={}, extra=OptimWrapper), path)
    with pytest.raises(RuntimeError, match='--allow-unsafe-checkpoint'):
        build(str(path))


def test_bad_tst_mode(teacher_ckpt):
    with pytest.raises(ValueError, match="tst_mode"):
        build(teacher_ckpt, tst_mode='triple')


def test_optim_constructor_parts(teacher_ckpt):
    model = build(teacher_ckpt)
    wrappers = optim(model)
    assert isinstance(wrappers, OptimWrapperDict)
    params = {
        id(p)
        for g in wrappers['architecture'].optimizer.param_groups
        for p in g['params']
    }
    assert params == {id(p) for p in model.student.parameters()}
    with pytest.raises(ValueError, match='no augmenter'):
        optim(model, with_augmenter=True)
    with pytest.raises(ValueError, match='unknown part'):
        DistillerOptimWrapperConstructor(dict(architecture={}, studnet={}))


def test_models_from_mmpretrain_config_paths():
    """`teacher='mmpretrain::...'`: the model of mmpretrain's own config,
    with the normalisation its Runner would give it."""
    model = build(
        None,
        teacher='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        student='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        allow_random_teacher=True)
    assert model.teacher.backbone.depth == 18
    assert model.teacher.data_preprocessor.mean.flatten().tolist() == \
        pytest.approx([123.675, 116.28, 103.53])
    x = torch.rand(1, 3, 64, 64) * 255
    assert model.logits(x, 'teacher').shape == (1, 1000)


@pytest.mark.parametrize('views', [None, 'consistent'])
def test_batch_of_one(teacher_ckpt, views):
    """A last batch of one sample (drop_last=False): TST's doubled batch,
    the augmenter step and FunMatch's mixup (mixing a sample with itself)
    all run and stay finite."""
    extra = {}
    if views:
        extra['views'] = dict(
            type='DistillationViews',
            mode=views,
            transform=dict(type='RandomResizedCropFlip', size=28),
            mixup=dict(type='BatchMixup', alpha=1.0))
    model = build(
        teacher_ckpt,
        augmenter=dict(type='LearnableAugmentPolicy', backend='analytic'),
        **extra)
    model.train()
    wrappers = optim(model, True)
    log = model.train_step(batch(1), wrappers)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    log = model.augmenter_step(batch(1), wrappers)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    assert all(torch.isfinite(p).all() for p in model.augmenter.parameters())
