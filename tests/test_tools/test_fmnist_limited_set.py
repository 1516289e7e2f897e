"""The data-limited, patient Fashion-MNIST benchmark set (``fmnist-limited``
in benchmarks/sets.yaml) and the "KD with TST's recipe" CIFAR-100 controls:
the configs parse, build and share one recipe; the class-balanced subset;
the paired difference to KD with its 95% t-interval; the parallel runner;
and a 2-iteration smoke run of the whole set through run_benchmark.py."""
import copy
import glob
import json
import os
import os.path as osp
import random
import shutil

import numpy as np
import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import load_tool as load_tool_at
from mmengine.config import Config
from mmengine.registry import init_default_scope

SET = 'fmnist-limited'
LIMITED_DIR = osp.join(REPO, 'configs', 'benchmarks', 'fmnist_limited')
LIMITED = sorted(
    p for p in glob.glob(osp.join(LIMITED_DIR, '*.py'))
    if not osp.basename(p).startswith('_base_'))
TEACHER = osp.join(LIMITED_DIR, 'teacher_resnet20_fmnist_full.py')
STUDENTS = [p for p in LIMITED if p != TEACHER]
PAIRS = sorted(
    osp.basename(p)[len('tst_'):-len('_cifar100.py')] for p in glob.glob(
        osp.join(REPO, 'configs', 'tst', 'cifar100', 'tst_*_cifar100.py')))
FUNMATCH = ('funmatch_resnet20_resnet8_fmnist_limited',
            'tst_funmatch_resnet20_resnet8_fmnist_limited')


def name(path):
    return osp.splitext(osp.basename(path))[0]


def load_tool(tool):
    return load_tool_at(f'tools/analysis/{tool}.py')


def arch_scheduler(cfg):
    sched = cfg.param_scheduler
    return sched['architecture'] if isinstance(sched, dict) else sched


def build(model_cfg):
    from mmpretrain.registry import MODELS

    import mmtst  # noqa: F401  (registers mmtst's modules)
    init_default_scope('mmpretrain')
    model_cfg = copy.deepcopy(model_cfg)
    if 'Distiller' in model_cfg['type']:
        model_cfg.update(teacher_ckpt=None, allow_random_teacher=True)
    return MODELS.build(model_cfg)


# ------------------------------------------------------------- (a) configs
def test_the_set_lists_every_method():
    from mmtst.benchmarks import load_sets
    spec = load_sets()['sets'][SET]
    assert spec['seeds'] == 5 and spec['jobs'] == 2
    listed = {osp.join(REPO, r['config']) for r in spec['runs']}
    assert listed == set(STUDENTS)
    teachers = {r.get('teacher') for r in spec['runs']} - {None}
    assert teachers == {osp.relpath(TEACHER, REPO)}
    # only the student alone runs without the teacher
    alone = [r['config'] for r in spec['runs'] if not r.get('teacher')]
    assert [name(p) for p in alone] == ['student_resnet8_fmnist_limited']


@pytest.mark.parametrize('path', STUDENTS, ids=name)
def test_limited_configs_share_one_recipe_and_build(path):
    cfg = Config.fromfile(path)
    base = Config.fromfile(osp.join(LIMITED_DIR, '_base_fmnist_limited.py'))
    # only the data / augmentation / loss part differs between methods
    data = cfg.train_dataloader
    assert data.batch_size == base.train_dataloader.batch_size == 128
    assert data.dataset.type == 'mmtst.OfflineFashionMNIST'
    assert (data.dataset.per_class,
            data.dataset.subset_seed) == (base.per_class, base.subset_seed)
    assert cfg.val_dataloader.dataset.split == 'test'
    assert 'per_class' not in cfg.val_dataloader.dataset
    assert cfg.train_cfg.max_epochs == base.max_epochs
    assert cfg.train_cfg.val_interval == base.val_interval
    assert arch_scheduler(cfg) == base.param_scheduler
    optim = cfg.optim_wrapper
    optimizer = (
        optim.architecture.optimizer
        if 'architecture' in optim else optim.optimizer)
    assert optimizer == base.optimizer
    model = cfg.model
    if name(path) == 'student_resnet8_fmnist_limited':
        assert model.type == 'ImageClassifier'
    elif name(path) in FUNMATCH:
        assert model.distill_loss.type == 'KLDivergence'
        assert model.views.mode == 'consistent' and model.views.mixup
    else:
        assert model.distill_loss == dict(type='KDLoss', tau=4.0, alpha=1.0)
    if 'augmenter' in model:
        assert cfg.train_cfg.type == 'mmtst.TSTEpochBasedTrainLoop'
        points = list(cfg.train_cfg.get('phases_at_epochs', []))
        if name(path).startswith(('tst_frozen', 'tst_fast')):
            assert points == []
        else:
            assert points == base.tst_augmenter_epochs
    build(model)


@pytest.mark.parametrize('set_name', [
    'fmnist-limited-n500', 'fmnist-limited-patient',
    'fmnist-limited-patient160', 'fmnist-limited-n25'
])
def test_rescaled_sets_rescale_every_schedule_with_the_run(set_name):
    """The sets that reuse the fmnist-limited configs with other epochs
    (per-run --cfg-options) must move the cosine decay, the checkpoints and
    TST's phases with the run, or a method would silently train on a
    different schedule from its KD."""
    from mmtst.benchmarks import load_sets
    spec = load_sets()['sets'][set_name]
    base = Config.fromfile(osp.join(LIMITED_DIR, '_base_fmnist_limited.py'))
    seen = set()
    for run in spec['runs']:
        cfg = Config.fromfile(osp.join(REPO, run['config']))
        options = {}
        for item in run.get('cfg_options', []):
            key, value = item.split('=', 1)
            options[key] = eval(value)  # ints and int lists only
        cfg.merge_from_dict(options)
        epochs = cfg.train_cfg.max_epochs
        seen.add(epochs)
        sched = arch_scheduler(cfg)
        assert sched[-1]['end'] == epochs
        assert sched[0]['end'] == sched[1]['begin'] < epochs
        assert epochs % cfg.default_hooks.checkpoint.interval == 0
        points = list(cfg.train_cfg.get('phases_at_epochs', []))
        if points:
            # the paper's phases: after 1/8 and 3/8 of the run, each of
            # 1/8 pass per student epoch (30 passes in 240 epochs)
            assert [p / epochs for p in points] == [1 / 8, 3 / 8]
            assert cfg.train_cfg.passes_per_phase * 8 == epochs
    assert seen and seen != {base.max_epochs}


def test_limited_teacher_trains_on_all_images():
    cfg = Config.fromfile(TEACHER)
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.backbone.arch == 'resnet20'
    assert 'per_class' not in cfg.train_dataloader.dataset
    assert 'indices' not in cfg.train_dataloader.dataset
    assert cfg.train_cfg.max_epochs == cfg.param_scheduler[1].end


@pytest.mark.parametrize('pair', PAIRS)
def test_kd_with_tst_recipe_differs_from_tst_only_by_the_augmenter(pair):
    tst = Config.fromfile(
        osp.join(REPO, 'configs', 'tst', 'cifar100',
                 f'tst_{pair}_cifar100.py'))
    kd = Config.fromfile(
        osp.join(REPO, 'configs', 'kd', 'cifar100',
                 f'kd-tstrecipe_{pair}_cifar100.py'))
    assert 'augmenter' not in kd.model and 'augmenter_loss' not in kd.model
    assert 'augmenter' not in kd.optim_wrapper
    for key in ('teacher', 'student', 'teacher_ckpt', 'distill_loss'):
        assert kd.model[key] == tst.model[key], key
    assert kd.optim_wrapper.architecture == tst.optim_wrapper.architecture
    assert kd.param_scheduler == tst.param_scheduler.architecture
    assert kd.train_dataloader == tst.train_dataloader
    assert kd.train_cfg.get('type', 'EpochBasedTrainLoop') == \
        'EpochBasedTrainLoop'
    assert kd.train_cfg.max_epochs == tst.train_cfg.max_epochs
    assert kd.train_cfg.val_interval == tst.train_cfg.val_interval


def test_one_kd_with_tst_recipe_builds_and_steps():
    """The distiller without augmenter trains on the loader's batch only."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'kd', 'cifar100',
                 'kd-tstrecipe_resnet56_resnet20_1xb128-240e_cifar100.py'))
    model = build(cfg.model)
    assert model.augmenter is None
    from mmpretrain.structures import DataSample
    images = torch.randint(0, 256, (4, 3, 32, 32)).float()
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    losses = model.loss(images, samples)
    assert set(losses) == {'distill.loss_ce', 'distill.loss_kd'} or all(
        k.startswith('distill.') for k in losses)


# ------------------------------------------------------ (b) balanced subset
def test_balanced_subset_without_the_dataset():
    from mmtst.datasets.fashion_mnist import balanced_subset
    data = [dict(gt_label=np.array(i % 3), idx=i) for i in range(30)]
    first = balanced_subset(data, 4, subset_seed=0)
    counts = np.bincount([int(d['gt_label']) for d in first])
    assert counts.tolist() == [4, 4, 4]
    idx = [d['idx'] for d in first]
    assert idx == sorted(idx)
    np.random.seed(123)  # a run's seed does not change the draw
    assert balanced_subset(data, 4, subset_seed=0) == first
    assert balanced_subset(data, 4, subset_seed=1) != first
    with pytest.raises(ValueError, match='fewer than per_class'):
        balanced_subset(data, 11)


@needs_fashion_mnist
def test_balanced_fashion_mnist_subset_is_fixed(tmp_path):
    from mmtst.datasets.fashion_mnist import OfflineFashionMNIST

    def draw(run_seed):
        random.seed(run_seed)
        np.random.seed(run_seed)
        torch.manual_seed(run_seed)
        ds = OfflineFashionMNIST(
            data_root=str(tmp_path / 'fm'),
            split='train',
            per_class=7,
            pipeline=[])
        labels = [int(ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
        images = np.stack([ds.get_data_info(i)['img'] for i in range(len(ds))])
        return labels, images

    labels0, images0 = draw(0)
    labels1, images1 = draw(1)
    assert len(labels0) == 70
    assert np.bincount(labels0, minlength=10).tolist() == [7] * 10
    assert labels0 == labels1 and np.array_equal(images0, images1)


# ----------------------------------------------------- (c) paired interval
def test_paired_difference_by_hand():
    from mmtst.benchmarks import paired_difference, t_quantile_975
    method = {0: 85.0, 1: 86.0, 2: 84.5, 7: 99.0}
    kd = {0: 84.0, 1: 84.5, 2: 84.5, 3: 90.0}
    diff = paired_difference(method, kd)
    # seeds 0, 1, 2: differences 1.0, 1.5, 0.0; mean 0.8333; sample sd
    # sqrt(((1/6)^2 + (2/3)^2 + (5/6)^2) / 2) = 0.76376; half-width
    # t_{0.975,2} * sd / sqrt(3) = 4.303 * 0.44096 = 1.89746
    assert diff.seeds == [0, 1, 2]
    assert diff.mean == pytest.approx(0.833333, abs=1e-5)
    assert diff.half_width == pytest.approx(1.89746, abs=1e-4)
    assert (diff.low, diff.high) == (pytest.approx(-1.06413, abs=1e-4),
                                     pytest.approx(2.73079, abs=1e-4))
    one = paired_difference({0: 2.0}, {0: 1.5})
    assert (one.mean, one.half_width, one.n) == (0.5, None, 1)
    assert paired_difference({0: 1.0}, {1: 1.0}) is None
    assert t_quantile_975(4) == 2.776
    assert t_quantile_975(60) == pytest.approx(2.000, abs=2e-3)


def write_run(work_dir, config_name, model, seed, top1, pipeline=None):
    """TEST FIXTURE: a fabricated finished mmengine-like run (config dump,
    one validation record with the final top-1)."""
    vis = osp.join(work_dir, '20990101_000000', 'vis_data')
    os.makedirs(vis, exist_ok=True)
    text = (f'model = {model!r}\n'
            f'randomness = dict(seed={seed})\n'
            'train_cfg = dict(by_epoch=True, max_epochs=1)\n'
            f'train_dataloader = dict(dataset=dict(pipeline={pipeline!r}))\n')
    for path in (osp.join(work_dir,
                          f'{config_name}.py'), osp.join(vis, 'config.py')):
        with open(path, 'w') as f:
            f.write(text)
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        f.write(json.dumps({'loss': 1.0, 'lr': 0.1, 'step': 8}) + '\n')
        f.write(json.dumps({'accuracy/top1': top1, 'step': 1}) + '\n')


def test_collector_reports_the_paired_difference(tmp_path):
    kd_model = dict(
        type='mmtst.ClassificationDistiller', distill_loss=dict(type='KDLoss'))
    tst_model = dict(kd_model, augmenter=dict(type='LearnableAugmentPolicy'))
    randaug = [
        dict(type='RandAugment', num_policies=2),
        dict(type='PackInputs')
    ]
    for seed, (kd, tst, ra) in enumerate([(84.0, 85.0, 83.0),
                                          (84.5, 86.0, 84.0),
                                          (84.5, 84.5, 84.0)]):
        write_run(
            str(tmp_path / 'kd_x' / f'seed{seed}'), 'kd_x', kd_model, seed, kd)
        write_run(
            str(tmp_path / 'tst_x' / f'seed{seed}'), 'tst_x', tst_model, seed,
            tst)
        write_run(
            str(tmp_path / 'kd_ra_x' / f'seed{seed}'),
            'kd_ra_x',
            kd_model,
            seed,
            ra,
            pipeline=randaug)
    collect = load_tool('collect_results')
    rows = {r['config']: r for r in collect.collect([str(tmp_path)])}
    assert rows['kd_ra_x']['method'] == 'kd+randaugment'
    assert rows['kd_x']['delta_kd_paired'] is None
    paired = rows['tst_x']['delta_kd_paired']
    assert paired['n'] == 3
    assert paired['mean'] == pytest.approx(0.833333, abs=1e-5)
    assert paired['half_width'] == pytest.approx(1.89746, abs=1e-4)
    table = collect.markdown_table(list(rows.values()), False)
    assert '| Δ vs KD (paired, 95% CI) |' in table
    assert '+0.83 [-1.06, +2.73] (n=3)' in table


def test_versus_compares_any_two_runs_over_matching_seeds(tmp_path, capsys):
    kd_model = dict(
        type='mmtst.ClassificationDistiller', distill_loss=dict(type='KDLoss'))
    tst_model = dict(kd_model, augmenter=dict(type='LearnableAugmentPolicy'))
    for seed, (frozen, tst) in enumerate([(84.5, 85.0), (84.5, 86.0),
                                          (84.5, 84.5)]):
        write_run(
            str(tmp_path / 'tst_frozen_x' / f'seed{seed}'), 'tst_frozen_x',
            tst_model, seed, frozen)
        write_run(
            str(tmp_path / 'tst_x' / f'seed{seed}'), 'tst_x', tst_model, seed,
            tst)
    collect = load_tool('collect_results')
    assert collect.main([str(tmp_path), '--versus', 'tst_x:tst_frozen*']) == 0
    out = capsys.readouterr().out
    # differences 0.5, 1.5, 0.0: mean 0.667, sd 0.7638, t_{.975,2} 4.303
    assert '| tst_x − tst_frozen_x | +0.67 [-1.23, +2.56] | 0, 1, 2 |' in out
    with pytest.raises(ValueError, match="'tst_\\*' matches 2 run groups"):
        collect.main([str(tmp_path), '--versus', 'tst_*:tst_x'])


def test_tst_rows_are_compared_with_kd_on_tsts_recipe(tmp_path):
    kd_model = dict(
        type='mmtst.ClassificationDistiller', distill_loss=dict(type='KDLoss'))
    tst_model = dict(kd_model, augmenter=dict(type='LearnableAugmentPolicy'))
    dkd_model = dict(kd_model, distill_loss=dict(type='DKDLoss'))
    for seed in (0, 1):
        for cfg, model, top1 in (('kd_p', kd_model, 70.0), ('kd_tstrecipe_p',
                                                            kd_model, 72.0),
                                 ('tst_p', tst_model,
                                  73.0 + seed), ('dkd_p', dkd_model, 71.0)):
            write_run(
                str(tmp_path / cfg / f'seed{seed}'), cfg, model, seed, top1)
    collect = load_tool('collect_results')
    rows = {r['config']: r for r in collect.collect([str(tmp_path)])}
    assert rows['tst_p']['kd_config'] == 'kd_tstrecipe_p'
    assert rows['tst_p']['delta_kd'] == pytest.approx(1.5)
    assert rows['dkd_p']['kd_config'] == 'kd_p'
    assert rows['dkd_p']['delta_kd_paired']['mean'] == pytest.approx(1.0)
    assert rows['kd_tstrecipe_p']['delta_kd'] == pytest.approx(2.0)


# ------------------------------------------------------ parallel runner
def test_parallel_runner_waits_for_the_export_only_where_needed(
        tmp_path, monkeypatch):
    runner = load_tool('run_benchmark')
    order = []
    marker = str(tmp_path / 'teacher_done')
    teacher = runner.Step(
        'train',
        'teacher', [
            'python', '-c', f'import time; time.sleep(1); '
            f'open({marker!r}, "w").close()'
        ],
        work_dir=str(tmp_path / 't'),
        teacher='T')
    export = runner.Step('export', 'export', teacher='T')
    alone = runner.Step(
        'train',
        'alone', ['python', '-c', 'pass'],
        work_dir=str(tmp_path / 'a'))
    student = runner.Step(
        'train',
        'student',
        ['python', '-c', f'import os; assert os.path.exists({marker!r})'],
        work_dir=str(tmp_path / 's'),
        needs='T')
    monkeypatch.setattr(runner, 'export_teachers',
                        lambda set_cfg, root, only: order.append(only))
    args = runner.parse_args(['x', '--jobs', '2'])
    assert runner.execute(args, [teacher, export, student, alone], {},
                          str(tmp_path)) == 0
    assert order == ['T']
    # the student alone ran beside the teacher, with one thread
    assert osp.isfile(tmp_path / 'a' / 'console.log')
    bad = runner.Step(
        'train',
        'bad', ['python', '-c', 'raise SystemExit(3)'],
        work_dir=str(tmp_path / 'b'))
    with pytest.raises(RuntimeError, match='exit 3'):
        runner.execute(args, [bad], {}, str(tmp_path))
    args.keep_going = True
    assert runner.execute(args, [bad, alone], {}, str(tmp_path)) == 1


# ------------------------------------------------------ (d) smoke run
SMOKE_OPTIONS = [
    # 2 iterations: 2 images per class, batch 10, one epoch
    'train_dataloader.dataset.per_class=2',
    'train_dataloader.batch_size=10',
    'train_cfg.max_epochs=1',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=20',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.dataset.indices=20',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
]


@needs_fashion_mnist
def test_two_iteration_smoke_run_of_the_set(tmp_path, capsys):
    """Every run of the set (teacher included) for 2 iterations, 2 at a
    time, then the results table with the paired column."""
    runner = load_tool('run_benchmark')
    work_root = str(tmp_path / 'bench')
    data_root = f'{tmp_path}/fashion-mnist'
    options = SMOKE_OPTIONS + [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}'
    ]
    assert runner.main([
        SET, '--seeds', '1', '--jobs', '2', '--work-root', work_root,
        '--cfg-options'
    ] + options) == 0
    root = osp.join(work_root, SET)
    for path in STUDENTS + [TEACHER]:
        assert osp.isfile(
            osp.join(root, name(path), 'seed0', 'last_checkpoint')), name(path)
    results = json.load(open(osp.join(root, 'results.json')))['groups']
    assert {r['config'] for r in results} >= {name(p) for p in STUDENTS}
    assert all(r['n'] == 1 for r in results)
    table = open(osp.join(root, 'results.md')).read()
    assert 'Δ vs KD (paired, 95% CI)' in table
    # a second call finds everything finished and trains nothing
    capsys.readouterr()
    assert runner.main(
        [SET, '--seeds', '1', '--work-root', work_root, '--print-only']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(line.startswith('# ') for line in lines), lines


def test_recorded_results_pair_with_new_runs(tmp_path, capsys):
    """Seeds whose work dirs are gone (recorded in an earlier results.json)
    are paired with new runs; a run on disk wins over its record."""
    tst_model = dict(
        type='mmtst.ClassificationDistiller',
        distill_loss=dict(type='KDLoss'),
        augmenter=dict(type='LearnableAugmentPolicy'))
    old, new = tmp_path / 'old', tmp_path / 'new'
    for seed, top1 in enumerate([84.5, 84.5, 84.5]):
        write_run(
            str(old / 'tst_frozen_x' / f'seed{seed}'), 'tst_frozen_x',
            tst_model, seed, top1)
    collect = load_tool('collect_results')
    recorded = tmp_path / 'recorded'
    assert collect.main([str(old), '--out', str(recorded)]) == 0
    # the seed 2 run is kept on disk with another value: it wins
    write_run(
        str(old / 'tst_frozen_x' / 'seed2'), 'tst_frozen_x', tst_model, 2,
        85.5)
    for seed in (0, 1):
        shutil.rmtree(old / 'tst_frozen_x' / f'seed{seed}')
    for seed, top1 in enumerate([85.0, 86.0, 84.5]):
        write_run(
            str(new / 'tst_x' / f'seed{seed}'), 'tst_x', tst_model, seed, top1)
    capsys.readouterr()
    assert collect.main([
        str(recorded / 'results.json'),
        str(old),
        str(new), '--versus', 'tst_x:tst_frozen*'
    ]) == 0
    out = capsys.readouterr().out
    # differences 0.5, 1.5, -1.0: mean 0.333, sd 1.258, t_{.975,2} 4.303
    assert '| tst_x − tst_frozen_x | +0.33 [-2.79, +3.46] | 0, 1, 2 |' in out
    with pytest.raises(ValueError, match='not a results.json'):
        collect.main([str(tmp_path / 'missing.json')])
