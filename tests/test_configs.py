"""Every config under configs/ parses; the distiller configs are consistent;
the cheap ones build and run a forward pass; the CIFAR-100 / ImageNet pair
configs carry the settings of the TST paper (METHOD.md, sec. 1.4), CRD's KD
recipe and DKD's per-pair settings (the tables below are the spec); and a
TST CIFAR-100 config trains end to end (on random 32x32 images)."""
import copy
import functools
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope

CONFIG_DIR = osp.join(REPO, 'configs')
ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
QUICKSTART = [c for c in ALL_CONFIGS if c.startswith('quickstart/')]


def is_base(path):
    """Shared bases (configs/_base_/*, <method>/<dataset>/_base_*.py)."""
    return path.startswith('_base_/') or osp.basename(path).startswith(
        '_base_')


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(osp.join(CONFIG_DIR, path))


def load(path):
    """The parsed config (parsed once per session; a copy to modify)."""
    return copy.deepcopy(_parse(path))


def is_distiller(cfg):
    return str(cfg.get('model', {}).get('type', '')).endswith('Distiller')


def build_model(model_cfg, scope='mmpretrain'):
    from mmpretrain.registry import MODELS
    init_default_scope(scope)
    return MODELS.build(model_cfg)


# ---------------------------------------------------------------- the spec
# TST on CIFAR-100 (the paper's table): teacher, student, lr, weight decay,
# alpha, originals per step (half of the paper's "batch (half aug)"),
# augmenter phases (completed student epochs) and passes per phase.
P30_90 = [30, 90]
EVERY_30_FROM_32 = [32, 62, 92, 122, 152, 182, 212]
TST_CIFAR100 = {
    'resnet32x4_resnet8x4':
    ('resnet32x4', 'resnet8x4', 0.1, 1e-4, 1.0, 128, P30_90, 30),
    'wrn_40_2_wrn_16_2':
    ('wrn_40_2', 'wrn_16_2', 0.1, 1e-4, 1.0, 128, P30_90, 30),
    'wrn_40_2_wrn_40_1':
    ('wrn_40_2', 'wrn_40_1', 0.05, 1e-4, 1.0, 128, P30_90, 10),
    'resnet110_resnet32':
    ('resnet110', 'resnet32', 0.1, 1e-4, 0.5, 128, P30_90, 30),
    'resnet110_resnet20': ('resnet110', 'resnet20', 0.1, 1e-4, 0.5, 128, [],
                           None),
    'resnet56_resnet20': ('resnet56', 'resnet20', 0.1, 1e-4, 1.0, 128, P30_90,
                          1),
    'vgg13_vgg8': ('vgg13', 'vgg8', 0.1, 1e-4, 1.0, 128, EVERY_30_FROM_32, 5),
    'vgg13_mobilenetv2': ('vgg13', 'mobile_half', 0.1, 1e-4, 1.0, 128, P30_90,
                          30),
    'resnet32x4_shufflev1': ('resnet32x4', 'ShuffleV1', 0.02, 1e-4, 1.0, 64,
                             P30_90, 30),
    # "7 phases x 5": the 7 points are our (documented) choice
    'wrn_40_2_shufflev1': ('wrn_40_2', 'ShuffleV1', 0.05, 5e-4, 1.0, 128,
                           EVERY_30_FROM_32, 5),
}
# KD (CRD's recipe) and DKD (mdistiller configs/cifar100/dkd/*.yaml): student
# lr and DKD's beta per pair.
SMALL_LR_STUDENTS = ('mobile_half', 'ShuffleV1')  # lr 0.01 in CRD / DKD
DKD_BETA = {
    'resnet32x4_resnet8x4': 8.0,
    'wrn_40_2_wrn_16_2': 6.0,
    'wrn_40_2_wrn_40_1': 6.0,
    'resnet110_resnet32': 2.0,
    'resnet110_resnet20': 2.0,  # no mdistiller config: documented choice
    'resnet56_resnet20': 2.0,
    'vgg13_vgg8': 6.0,
    'vgg13_mobilenetv2': 6.0,
    'resnet32x4_shufflev1': 8.0,
    'wrn_40_2_shufflev1': 8.0,
}
# The configs' file names (configs/README.md): the pair in mmpretrain's
# spelling, GPUs x per-GPU batch and schedule. TST's batch is the table's
# originals per step; KD and DKD use CRD's 64.
PAIR_NAMES = {
    'resnet32x4_resnet8x4': 'resnet32x4_resnet8x4',
    'wrn_40_2_wrn_16_2': 'wrn-40-2_wrn-16-2',
    'wrn_40_2_wrn_40_1': 'wrn-40-2_wrn-40-1',
    'resnet110_resnet32': 'resnet110_resnet32',
    'resnet110_resnet20': 'resnet110_resnet20',
    'resnet56_resnet20': 'resnet56_resnet20',
    'vgg13_vgg8': 'vgg13_vgg8',
    'vgg13_mobilenetv2': 'vgg13_mobilenet-v2',
    'resnet32x4_shufflev1': 'resnet32x4_shufflenet-v1',
    'wrn_40_2_shufflev1': 'wrn-40-2_shufflenet-v1',
}
IN1K_CONFIGS = {
    ('tst', 'resnet34_resnet18'): 'tst_resnet34_resnet18_8xb32-100e',
    ('tst', 'resnet50_mobilenetv2'): 'tst_resnet50_mobilenet-v2_8xb32-110e',
    ('kd', 'resnet34_resnet18'): 'kd_resnet34_resnet18_8xb64-100e',
    ('kd', 'resnet50_mobilenetv2'): 'kd_resnet50_mobilenet-v2_8xb64-100e',
    ('dkd', 'resnet34_resnet18'): 'dkd_resnet34_resnet18_8xb64-100e',
    ('dkd', 'resnet50_mobilenetv2'): 'dkd_resnet50_mobilenet-v2_8xb64-100e',
}


def cifar100_config(method, pair):
    batch = TST_CIFAR100[pair][5] if method == 'tst' else 64
    return (f'{method}/cifar100/{method}_{PAIR_NAMES[pair]}_'
            f'1xb{batch}-240e_cifar100.py')


def in1k_config(method, pair):
    return f'{method}/imagenet/{IN1K_CONFIGS[method, pair]}_in1k.py'


def teacher_config(arch):
    return f"teachers/cifar100/{arch.replace('_', '-')}_1xb64-240e_cifar100.py"


CIFAR100_DISTILLERS = [
    cifar100_config(m, pair) for pair in TST_CIFAR100
    for m in ('tst', 'kd', 'dkd')
]
TEACHERS = ('resnet56', 'resnet110', 'resnet32x4', 'wrn_40_2', 'vgg13')


# ---------------------------------------------------------------- parsing
@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_every_config_parses(path):
    cfg = load(path)
    if not is_base(path):
        assert 'model' in cfg, f'{path} has no model'


@pytest.mark.parametrize(
    'path', [p for p in ALL_CONFIGS if not p.startswith('_base_/')])
def test_every_config_carries_mmtst_s_runtime(path):
    """What a run needs is in the config (configs/_base_/mmtst_runtime.py),
    so mmengine's RUNNERS.build(cfg) builds the runner tools/train.py
    builds: mmtst's runner and hooks, and the distillers' DDP wrapper."""
    cfg = load(path)
    assert cfg.get('runner_type') == 'mmtst.AtomicCheckpointRunner'
    assert [h['type'] for h in cfg.get('custom_hooks', [])] == [
        'mmtst.WeightsOnlyCheckpointHook', 'mmtst.FiniteLossHook',
        'mmtst.ExactResumeHook', 'mmtst.TeacherValidationHook',
        'mmtst.AugmenterLoggerHook'
    ]
    assert cfg.default_hooks.checkpoint.type == 'mmtst.SafeCheckpointHook'
    wrapper = cfg.get('model_wrapper_cfg')
    if is_distiller(cfg):
        assert wrapper == dict(type='mmtst.DistillerDistributedDataParallel')
    else:
        assert wrapper is None


def test_the_pair_configs_exist():
    for path in CIFAR100_DISTILLERS:
        assert path in ALL_CONFIGS, path
    for arch in TEACHERS:
        assert teacher_config(arch) in ALL_CONFIGS
    for method in ('tst', 'kd', 'dkd'):
        for pair in ('resnet34_resnet18', 'resnet50_mobilenetv2'):
            assert in1k_config(method, pair) in ALL_CONFIGS


def _distiller_path(path):
    try:
        return not path.startswith('_base_/') and is_distiller(_parse(path))
    except Exception:  # reported by test_every_config_parses
        return False


DISTILLER_CONFIGS = [p for p in ALL_CONFIGS if _distiller_path(p)]


def num_classes(model_cfg, what):
    """Every ``num_classes`` in a model (a classifier's head, a detector's
    heads), the model given inline or by config path."""
    from mmtst.models.algorithms.base_distiller import resolve_model_cfg

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'num_classes' and isinstance(value, int):
                    yield value
                elif key != 'data_preprocessor':
                    yield from collect(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                yield from collect(item)

    return set(collect(resolve_model_cfg(model_cfg, what)))


@pytest.mark.parametrize('path', DISTILLER_CONFIGS)
def test_distiller_config_is_consistent(path):
    from mmtst.apis.train_setup import check_arguments
    cfg = load(path)
    model = cfg.model
    assert model.type.endswith('Distiller')
    check_arguments(model, 'model')  # no misspelt argument of mmtst parts
    # the Runner would hand a top-level data_preprocessor to the distiller,
    # which must keep raw pixels
    assert cfg.get('data_preprocessor') is None
    assert 'constructor' in cfg.optim_wrapper
    assert 'architecture' in cfg.optim_wrapper
    if is_base(path):
        return
    classes = num_classes(model.teacher, 'teacher')
    assert classes and classes == num_classes(model.student, 'student')
    ckpt = model.teacher_ckpt
    assert isinstance(ckpt, str) and ckpt.endswith('.pth')
    assert '://' not in ckpt, 'teacher_ckpt must be a local file'
    if 'augmenter' in model:
        aug = model.augmenter
        assert aug.type.split('.')[-1] == 'LearnableAugmentPolicy'
        assert aug.get('backend', 'neural') in ('neural', 'analytic')
        assert 1 <= aug.get('solve_number', 4) <= 14
        assert aug.get('temperature', 0.05) > 0
        assert aug.get('cutout_size', 16) >= 1
        assert 'augmenter' in cfg.optim_wrapper
        loop = cfg.train_cfg
        assert loop.type in ('mmtst.TSTEpochBasedTrainLoop',
                             'mmtst.TSTIterBasedTrainLoop')
        if loop.type == 'mmtst.TSTEpochBasedTrainLoop':
            points = list(loop.get('phases_at_epochs', []))
            assert all(0 <= p < loop.max_epochs for p in points), points
            assert points == sorted(set(points)), points
        assert loop.get('passes_per_phase', 1) >= 1
    else:
        assert 'augmenter' not in cfg.optim_wrapper


# ---------------------------------------------------------------- the spec
def _pair_cfg(method, pair):
    return load(cifar100_config(method, pair))


@pytest.mark.parametrize('pair', sorted(TST_CIFAR100))
def test_tst_cifar100_follows_the_paper(pair):
    teacher, student, lr, wd, alpha, batch, epochs, passes = TST_CIFAR100[pair]
    cfg = _pair_cfg('tst', pair)
    model = cfg.model
    assert model.teacher.backbone.arch == teacher
    assert model.student.backbone.arch == student
    assert model.teacher_ckpt == f'checkpoints/cifar100/{teacher}.pth'
    assert model.tst_mode == 'double' and model.aug_loss_weight == 0.5
    assert model.distill_loss == dict(type='KDLoss', tau=4.0, alpha=alpha)
    assert model.augmenter.cutout_size == 32
    assert model.augmenter.solve_number == 4
    assert model.augmenter.temperature == 0.05
    assert cfg.train_dataloader.batch_size == batch
    opt = cfg.optim_wrapper.architecture.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay, opt.nesterov) \
        == ('SGD', lr, 0.9, wd, True)
    aug_opt = cfg.optim_wrapper.augmenter.optimizer
    assert (aug_opt.type, aug_opt.lr, aug_opt.momentum) == ('SGD', 0.01, 0.9)
    [step] = cfg.param_scheduler.architecture
    assert (step.type, step.milestones, step.gamma) == ('MultiStepLR',
                                                        [150, 180, 210], 0.1)
    assert cfg.param_scheduler.augmenter == []
    loop = cfg.train_cfg
    assert loop.type == 'mmtst.TSTEpochBasedTrainLoop'
    assert loop.max_epochs == 240
    assert list(loop.phases_at_epochs) == epochs
    if passes is not None:
        assert loop.passes_per_phase == passes


@pytest.mark.parametrize('pair', sorted(TST_CIFAR100))
def test_kd_and_dkd_cifar100_baselines(pair):
    teacher, student = TST_CIFAR100[pair][:2]
    lr = 0.01 if student in SMALL_LR_STUDENTS else 0.05
    for method in ('kd', 'dkd'):
        cfg = _pair_cfg(method, pair)
        assert cfg.model.teacher.backbone.arch == teacher
        assert cfg.model.student.backbone.arch == student
        assert 'augmenter' not in cfg.model
        assert cfg.train_dataloader.batch_size == 64
        opt = cfg.optim_wrapper.architecture.optimizer
        assert (opt.lr, opt.momentum, opt.weight_decay) == (lr, 0.9, 5e-4)
        assert not opt.get('nesterov', False)
        assert cfg.param_scheduler[0].milestones == [150, 180, 210]
        assert cfg.train_cfg.max_epochs == 240
    assert _pair_cfg('kd', pair).model.distill_loss == dict(
        type='KDLoss', tau=4.0, alpha=0.9, ce_weight=0.1)
    assert _pair_cfg('dkd', pair).model.distill_loss == dict(
        type='DKDLoss',
        tau=4.0,
        alpha=1.0,
        beta=DKD_BETA[pair],
        ce_weight=1.0,
        warmup=20)


def test_imagenet_pairs():
    r34 = load('tst/imagenet/tst_resnet34_resnet18_8xb32-100e_in1k.py')
    assert r34.train_dataloader.batch_size * 8 * 2 == 512  # originals + aug
    assert r34.optim_wrapper.architecture.optimizer.lr == 0.3
    assert r34.param_scheduler.architecture[0].milestones == [40, 70]
    assert r34.train_cfg.max_epochs == 100
    assert list(r34.train_cfg.phases_at_epochs) == [10, 25]
    assert r34.train_cfg.passes_per_phase == 5
    assert r34.model.distill_loss.tau == 1.0
    assert r34.model.augmenter.cutout_size == 224
    mnv2 = load('tst/imagenet/tst_resnet50_mobilenet-v2_8xb32-110e_in1k.py')
    assert mnv2.optim_wrapper.architecture.optimizer.lr == 0.2
    assert mnv2.train_cfg.max_epochs == 110
    for pair, beta in (('resnet34_resnet18', 0.5), ('resnet50_mobilenetv2',
                                                    2.0)):
        kd = load(in1k_config('kd', pair))
        dkd = load(in1k_config('dkd', pair))
        for cfg in (kd, dkd):
            assert cfg.train_dataloader.batch_size * 8 == 512
            assert cfg.optim_wrapper.architecture.optimizer.lr == 0.2
            assert cfg.param_scheduler[0].milestones == [30, 60, 90]
        assert kd.model.distill_loss == dict(
            type='KDLoss', tau=1.0, alpha=0.5, ce_weight=0.5)
        assert dkd.model.distill_loss == dict(
            type='DKDLoss',
            tau=1.0,
            alpha=1.0,
            beta=beta,
            ce_weight=1.0,
            warmup=1)


def test_imagenet_models_are_mmpretrain_s():
    """The ImageNet teachers and students are mmpretrain's model configs,
    each with its own ImageNet normalisation."""
    from mmtst.models.algorithms.base_distiller import resolve_model_cfg
    for method in ('tst', 'kd', 'dkd'):
        for pair, teacher, student in (
            ('resnet34_resnet18', 'resnet/resnet34_8xb32_in1k.py',
             'resnet/resnet18_8xb32_in1k.py'),
            ('resnet50_mobilenetv2', 'resnet/resnet50_8xb32_in1k.py',
             'mobilenet_v2/mobilenet-v2_8xb32_in1k.py')):
            model = load(in1k_config(method, pair)).model
            assert model.teacher == 'mmpretrain::' + teacher
            assert model.student == 'mmpretrain::' + student
            assert model.teacher_ckpt == 'checkpoints/imagenet/' + \
                osp.basename(teacher).replace('.py', '.pth')
            for name in (model.teacher, model.student):
                preprocessor = resolve_model_cfg(name,
                                                 'model')['data_preprocessor']
                assert preprocessor['mean'] == [123.675, 116.28, 103.53]
                assert preprocessor['to_rgb'] is True


# ---------------------------------------------------------------- building
def _random_pixels(channels, size, n=2):
    torch.manual_seed(0)
    return torch.rand(n, channels, size, size) * 255


@pytest.mark.parametrize('path', QUICKSTART)
def test_quickstart_models_build(path):
    cfg = load(path)
    model_cfg = cfg.model
    if is_distiller(cfg):
        model_cfg.allow_random_teacher = True
        model_cfg.teacher_ckpt = None
    model = build_model(model_cfg, cfg.default_scope).eval()
    pixels = _random_pixels(1, 28)
    with torch.no_grad():
        if is_distiller(cfg):
            logits = model(pixels, mode='tensor')
        else:
            logits = model(
                model.data_preprocessor(dict(inputs=pixels), False)['inputs'],
                mode='tensor')
    assert logits.shape == (2, 10)


def test_cifar100_classifier_channels():
    """Each head's in_channels is its backbone's out_channels."""
    cfg = load('_base_/models/cifar100_classifiers.py')
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    for name, value in cfg.items():
        if name.endswith('_cifar'):
            backbone = MODELS.build(value.backbone)
            assert backbone.out_channels == value.head.in_channels, name
            assert value.head.num_classes == 100


@pytest.mark.parametrize('pair', sorted(TST_CIFAR100))
def test_cifar100_distillers_build(pair):
    """Each pair's TST distiller builds and runs (teacher, student and
    augmenter); its KD and DKD configs hold the same two models, checked
    above, and their losses build."""
    from mmtst.registry import MODELS
    cfg = load(cifar100_config('tst', pair))
    cfg.model.allow_random_teacher = True
    cfg.model.teacher_ckpt = None
    model = build_model(cfg.model, cfg.default_scope).eval()
    pixels = _random_pixels(3, 32)
    with torch.no_grad():
        assert model(pixels, mode='tensor').shape == (2, 100)
        assert model.logits(pixels, 'teacher').shape == (2, 100)
        augmented = model.augment(pixels)
    assert augmented.shape == pixels.shape
    # unclamped by default (as the authors' augmenter); clamp=True bounds it
    assert torch.isfinite(augmented).all()
    model.augmenter.clamp = True
    with torch.no_grad():
        clamped = model.augment(pixels)
    assert 0 <= clamped.min() and clamped.max() <= 255
    for method in ('kd', 'dkd'):
        other = _pair_cfg(method, pair).model
        assert other.teacher == cfg.model.teacher
        assert other.student == cfg.model.student
        loss = MODELS.build(dict(other.distill_loss, _scope_='mmtst'))
        target = torch.tensor([0, 1])
        with torch.no_grad():
            logits = model.logits(pixels, 'student')
            assert all(
                torch.isfinite(v)
                for v in loss(logits, logits + 1, target).values())


def test_one_kd_and_one_dkd_cifar100_distiller_build():
    for path in (
            'kd/cifar100/kd_resnet56_resnet20_1xb64-240e_cifar100.py',
            'dkd/cifar100/dkd_wrn-40-2_shufflenet-v1_1xb64-240e_cifar100.py'):
        cfg = load(path)
        cfg.model.allow_random_teacher = True
        cfg.model.teacher_ckpt = None
        model = build_model(cfg.model, cfg.default_scope).eval()
        assert model.augmenter is None
        with torch.no_grad():
            assert model(
                _random_pixels(3, 32), mode='tensor').shape == (2, 100)


def test_imagenet_tst_distiller_builds():
    cfg = load('tst/imagenet/tst_resnet34_resnet18_8xb32-100e_in1k.py')
    cfg.model.allow_random_teacher = True
    cfg.model.teacher_ckpt = None
    model = build_model(cfg.model, cfg.default_scope).eval()
    # the distiller keeps raw pixels: its own preprocessor only stacks
    assert type(model.data_preprocessor).__name__ == 'ImgDataPreprocessor'
    pixels = _random_pixels(3, 64)
    with torch.no_grad():
        assert model(pixels, mode='tensor').shape == (2, 1000)
        assert model.augment(pixels).shape == pixels.shape


# ---------------------------------------------------------------- training
class TinyRandomImages(BaseDataset):
    """A few random 32x32 RGB images with CIFAR-100 labels."""

    def __init__(self, num=16, **kwargs):
        self.num = num
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(0)
        return [
            dict(
                img=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                gt_label=i % 100) for i in range(self.num)
        ]


@pytest.mark.parametrize(
    'schedule',
    [
        dict(phases_at_epochs=[0]),  # the paper's phases
        dict(phases_at_epochs=[], interleave_interval=1),  # interleaved steps
    ])
def test_tst_cifar100_config_trains(tmp_path, schedule):
    """tst_resnet56_resnet20 through mmengine's Runner on random images: an
    augmenter phase (one pass) or interleaved augmenter steps, one student
    epoch of 2 iterations, validation, a checkpoint and the policy plot."""
    from mmengine.runner import Runner
    from mmpretrain.registry import DATASETS

    from mmtst.apis import prepare_config
    DATASETS.register_module(
        name='TinyRandomImages', module=TinyRandomImages, force=True)
    path = osp.join(
        CONFIG_DIR,
        'tst/cifar100/tst_resnet56_resnet20_1xb128-240e_cifar100.py')
    cfg = Config.fromfile(path)
    for split, num, pipeline in (('train', 8, cfg.train_pipeline),
                                 ('val', 4, cfg.test_pipeline)):
        loader = cfg[f'{split}_dataloader']
        loader.dataset = dict(
            type='TinyRandomImages', num=num, pipeline=pipeline)
        loader.batch_size = 4
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.allow_random_teacher = True
    cfg.model.teacher_ckpt = None
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.update(schedule)
    cfg.default_hooks.logger.interval = 1
    cfg = prepare_config(cfg, path, work_dir=str(tmp_path))
    runner = Runner.from_cfg(cfg)
    policy = [
        p.detach().clone() for p in runner.model.augmenter.parameters()
        if p.requires_grad
    ]
    runner.train()
    assert runner.epoch == 1 and runner.iter == 2
    after = [p for p in runner.model.augmenter.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(after, policy)), \
        'the augmenter phase did not update the policy'
    # the augmenter has no lr scheduler of its own (keyed param_scheduler)
    assert set(runner.param_schedulers) == {'architecture', 'augmenter'}
    assert runner.param_schedulers['augmenter'] == []
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    # the logged policy becomes a plot
    from mmtst.visualization import (plot_policy, read_policy_records,
                                     read_policy_trajectories)
    trajectories = read_policy_trajectories(str(tmp_path))
    assert set(trajectories) >= {'p_Rotate', 'm_Rotate', 'p_Cutout'}
    records = read_policy_records(str(tmp_path))
    # the policy before its first update comes first, as initialised
    assert records[0].initial and not any(r.initial for r in records[1:])
    assert records[0].values['p_Rotate'] == pytest.approx(0.5, abs=1e-6)
    assert records[-1].values != records[0].values
    assert osp.getsize(plot_policy(records, str(tmp_path / 'p.png'))) > 0
