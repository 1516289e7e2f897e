"""The benchmark tools (collector, runner, curve plots) and the reference
table, on FABRICATED work dirs: every run below is a test fixture written
by :func:`write_fake_run` into tmp_path (mmengine-like ``vis_data`` files,
made-up accuracies); nothing is trained."""
import importlib.util
import json
import os
import os.path as osp
from glob import glob

import pytest
from conftest import REPO
from helpers import load_tool as load_tool_at

from mmtst import benchmarks

KD_CFG = 'configs/kd/cifar100/kd_resnet32x4_resnet8x4_1xb64-240e_cifar100.py'
DKD_CFG = ('configs/dkd/cifar100/dkd_resnet32x4_resnet8x4_1xb64-240e_'
           'cifar100.py')
TST_CFG = ('configs/tst/cifar100/tst_resnet32x4_resnet8x4_1xb128-240e_'
           'cifar100.py')
TEACHER_CFG = 'configs/teachers/cifar100/resnet32x4_1xb64-240e_cifar100.py'

KD_MODEL = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='KDLoss', tau=4.0))
DKD_MODEL = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='DKDLoss', beta=8.0))
TST_MODEL = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='KDLoss'),
    augmenter=dict(type='LearnableAugmentPolicy', backend='neural'))
PLAIN_MODEL = dict(type='ImageClassifier')


def load_tool(name):
    """Import tools/analysis/<name>.py (tools/ is not a package)."""
    return load_tool_at(f'tools/analysis/{name}.py')


# ------------------------------------------------------- TEST FIXTURES
def write_fake_run(work_dir,
                   config_name,
                   model,
                   seed,
                   max_epochs,
                   top1,
                   checkpoint=True,
                   timestamp='20990101_000000',
                   policy=None,
                   iters_per_epoch=10,
                   extra_config='',
                   trained=True):
    """TEST FIXTURE: write a fabricated mmengine-like run into work_dir.

    Writes what mmengine 0.10.7's Runner would: ``<config_name>.py``
    (dump_config), ``<ts>/vis_data/config.py`` (LocalVisBackend),
    ``<ts>/vis_data/scalars.json`` (a training record and a validation
    record ``accuracy/top1`` with ``step`` = epoch for each value of
    ``top1``), and ``last_checkpoint`` -> ``epoch_<N>.pth`` (empty file).
    ``policy`` = {'p_Rotate': value, ...} adds one augmenter record;
    ``extra_config`` is appended to the config dump; ``trained=False``
    writes validation records only (what tools/test.py leaves).
    Call again with a later ``timestamp`` to fake a resumed launch.
    """
    vis = osp.join(work_dir, timestamp, 'vis_data')
    os.makedirs(vis, exist_ok=True)
    text = (f'model = {model!r}\n'
            f'randomness = dict(seed={seed}, deterministic=False)\n'
            f'train_cfg = dict(by_epoch=True, max_epochs={max_epochs}, '
            'val_interval=1)\n' + extra_config)
    for path in (osp.join(work_dir,
                          f'{config_name}.py'), osp.join(vis, 'config.py')):
        with open(path, 'w') as f:
            f.write('# TEST FIXTURE: fabricated config dump\n' + text)
    start = getattr(top1, 'start', 1)
    with open(osp.join(vis, 'scalars.json'), 'a') as f:
        for epoch, value in enumerate(top1, start=start):
            step = epoch * iters_per_epoch
            if trained:
                f.write(
                    json.dumps(
                        dict(
                            lr=0.1,
                            loss=1.0,
                            epoch=epoch,
                            iter=step,
                            step=step)) + '\n')
            f.write(json.dumps({'accuracy/top1': value, 'step': epoch}) + '\n')
        if policy:
            f.write(
                json.dumps(
                    dict({
                        f'augmenter.{k}': v
                        for k, v in policy.items()
                    },
                         step=iters_per_epoch)) + '\n')
    if checkpoint and top1:
        last = start + len(top1) - 1
        ckpt = osp.join(work_dir, f'epoch_{last}.pth')
        open(ckpt, 'w').close()
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)


class Offset(list):
    """A list of accuracies whose first epoch is ``start`` (a resumed
    launch continues at a later epoch)."""

    def __init__(self, start, values):
        super().__init__(values)
        self.start = start


def cname(config):
    return osp.splitext(osp.basename(config))[0]


@pytest.fixture
def bench(tmp_path):
    """TEST FIXTURE: a fabricated CIFAR-100 ResNet32x4 -> ResNet8x4
    benchmark: KD with three finished seeds (final 73, 74, 75; seed 2 in
    two launches) and one unfinished seed, DKD one seed, TST one seed, a
    teacher run, and a run of a config the reference does not know."""
    root = tmp_path / 'runs'
    kd = root / cname(KD_CFG)
    write_fake_run(
        str(kd / 'seed0'), cname(KD_CFG), KD_MODEL, 0, 3, [60.0, 74.5, 73.0])
    write_fake_run(
        str(kd / 'seed1'), cname(KD_CFG), KD_MODEL, 1, 3, [61.0, 70.0, 74.0])
    write_fake_run(
        str(kd / 'seed2'),
        cname(KD_CFG),
        KD_MODEL,
        2,
        3, [62.0, 71.0],
        timestamp='20990101_000000')
    write_fake_run(
        str(kd / 'seed2'),
        cname(KD_CFG),
        KD_MODEL,
        2,
        3,
        Offset(3, [75.0]),
        timestamp='20990102_000000')
    write_fake_run(str(kd / 'seed3'), cname(KD_CFG), KD_MODEL, 3, 3, [50.0])
    write_fake_run(
        str(root / cname(DKD_CFG) / 'seed0'), cname(DKD_CFG), DKD_MODEL, 0, 3,
        [65.0, 70.0, 76.0])
    write_fake_run(
        str(root / cname(TST_CFG) / 'seed0'),
        cname(TST_CFG),
        TST_MODEL,
        0,
        3, [66.0, 71.0, 77.0],
        policy={
            'p_Rotate': 0.6,
            'm_Rotate': 0.4
        })
    write_fake_run(
        str(root / 'teacher'), cname(TEACHER_CFG), PLAIN_MODEL, 0, 3,
        [70.0, 78.0, 79.0])
    write_fake_run(
        str(root / 'other' / 'seed0'), 'my_own_experiment', KD_MODEL, 0, 3,
        [10.0, 20.0, 30.0])
    return root


def rows_by(rows):
    return {(r['pair'], r['method'], r['config']): r for r in rows}


# ------------------------------------------------------------ collector
def test_collector_groups_seeds_with_mean_and_std(bench):
    collect = load_tool('collect_results')
    rows = rows_by(collect.collect([str(bench)]))
    pair = 'cifar100/resnet32x4-resnet8x4'
    kd = rows[(pair, 'kd', cname(KD_CFG))]
    assert kd['n'] == 3 and kd['seeds'] == [0, 1, 2]
    assert kd['final_mean'] == pytest.approx(74.0)
    assert kd['final_std'] == pytest.approx(1.0)  # sample std of 73/74/75
    assert kd['best_mean'] == pytest.approx((74.5 + 74.0 + 75.0) / 3)
    assert kd['paper'] == 73.33
    assert kd['delta_paper'] == pytest.approx(74.0 - 73.33)
    dkd = rows[(pair, 'dkd', cname(DKD_CFG))]
    assert dkd['n'] == 1 and dkd['final_std'] == 0.0
    assert dkd['paper'] == 76.32
    assert (dkd['kd_basis'], dkd['delta_kd']) == ('ours', pytest.approx(2.0))


def test_collector_flags_unfinished_runs(bench):
    collect = load_tool('collect_results')
    pair = 'cifar100/resnet32x4-resnet8x4'
    kd = rows_by(collect.collect([str(bench)]))[(pair, 'kd', cname(KD_CFG))]
    assert any('unfinished: seed 3 (1/3 epochs)' in f for f in kd['flags'])
    assert [r['finished'] for r in kd['runs']] == [True, True, True, False]
    kept = rows_by(collect.collect([str(bench)], include_unfinished=True))
    assert kept[(pair, 'kd', cname(KD_CFG))]['n'] == 4
    table = collect.markdown_table(collect.collect([str(bench)]), False)
    assert 'unfinished: seed 3' in table


def test_collector_keeps_different_experiments_apart(tmp_path):
    """A 1-epoch and a 3-epoch run of one config on different subsets are
    two rows, not one mean; a tools/test.py work dir is no run; a delta to
    KD across different subsets is flagged."""
    collect = load_tool('collect_results')
    root = tmp_path / 'runs'
    subset = ("train_dataloader = dict(batch_size=64, "
              "dataset=dict(indices={}))\n")
    write_fake_run(
        str(root / 'a' / 'seed0'),
        cname(DKD_CFG),
        DKD_MODEL,
        0,
        1, [1.0],
        extra_config=subset.format(100))
    write_fake_run(
        str(root / 'b' / 'seed0'),
        cname(DKD_CFG),
        DKD_MODEL,
        0,
        3, [10.0, 80.0, 91.0],
        extra_config=subset.format(5000))
    write_fake_run(
        str(root / 'kd' / 'seed0'),
        cname(KD_CFG),
        KD_MODEL,
        0,
        3, [10.0, 80.0, 90.0],
        extra_config=subset.format(5000))
    write_fake_run(
        str(root / 'kd_test' / 'seed0'),
        cname(KD_CFG),
        KD_MODEL,
        0,
        3, [90.0],
        trained=False,
        checkpoint=False)
    rows = collect.collect([str(root)])
    dkd = sorted((r for r in rows if r['method'] == 'dkd'),
                 key=lambda r: r['final_mean'])
    assert [(r['n'], r['final_mean']) for r in dkd] == [(1, 1.0), (1, 91.0)]
    assert dkd[0]['config'].endswith('[epochs=1, indices=100]')
    assert dkd[1]['config'].endswith('[epochs=3, indices=5000]')
    assert any('Δ vs KD across different settings (epochs 1 vs 3, '
               'indices 100 vs 5000)' in f for f in dkd[0]['flags'])
    assert not any('Δ vs KD' in f for f in dkd[1]['flags'])
    kd = [r for r in rows if r['method'] == 'kd']
    assert len(kd) == 1 and kd[0]['n'] == 1 and not kd[0]['flags']


def test_runs_distilled_from_two_teachers_are_two_experiments(tmp_path):
    """One KD config, three seeds: two distilled from the same weights
    (one naming them relative to the repository root it ran in, one by an
    absolute path to a copy), one from retrained weights. The collector
    pairs the first two and keeps the third apart, and flags a Δ to KD
    across teachers."""
    collect = load_tool('collect_results')
    repo = tmp_path / 'worktree'
    teacher = repo / 'work_dirs' / 'teacher.pth'
    teacher.parent.mkdir(parents=True)
    teacher.write_bytes(b'teacher weights, first training')
    copy = tmp_path / 'elsewhere' / 'teacher_copy.pth'
    copy.parent.mkdir()
    copy.write_bytes(teacher.read_bytes())
    retrained = tmp_path / 'retrained.pth'
    retrained.write_bytes(b'teacher weights, second training')
    runs = repo / 'work_dirs' / 'benchmark'
    for seed, ckpt, top1 in ((0, 'work_dirs/teacher.pth', 82.0),
                             (1, str(copy), 84.0), (2, str(retrained), 79.0)):
        write_fake_run(
            str(runs / 'kd' / f'seed{seed}'), cname(KD_CFG),
            dict(KD_MODEL, teacher_ckpt=ckpt), seed, 1, [top1])
    third = tmp_path / 'third.pth'
    third.write_bytes(b'teacher weights, third training')
    for seed, ckpt in ((0, retrained), (1, third)):
        write_fake_run(
            str(runs / 'dkd' / f'seed{seed}'), cname(DKD_CFG),
            dict(DKD_MODEL, teacher_ckpt=str(ckpt)), seed, 1, [80.0])
    rows = collect.collect([str(runs)])
    kd = sorted((r for r in rows if r['method'] == 'kd'), key=lambda r: r['n'])
    assert [(r['n'], r['final_mean']) for r in kd] == [(1, 79.0), (2, 83.0)]
    first = collect_teacher_digest(teacher)
    second = collect_teacher_digest(retrained)
    assert first != second
    assert kd[0]['config'].endswith(f'[teacher={second}]')
    assert kd[1]['config'].endswith(f'[teacher={first}]')
    # a row is compared with the KD of its own teacher where that ran ...
    dkd = {
        r['config'].split('=')[-1][:-1]: r
        for r in rows if r['method'] == 'dkd'
    }
    assert not any('Δ vs KD' in f for f in dkd[second]['flags'])
    assert dkd[second]['delta_kd'] == pytest.approx(80.0 - 79.0)
    # ... and flagged when it is compared with KD of another teacher
    third_digest = collect_teacher_digest(third)
    assert any(f'teacher {third_digest} vs ' in f
               for f in dkd[third_digest]['flags']), dkd[third_digest]


def collect_teacher_digest(path) -> str:
    from mmtst.benchmarks import teacher_digest
    return teacher_digest(str(path))


def test_a_single_validation_point_is_drawn_as_a_point(tmp_path, monkeypatch):
    plot = load_tool('plot_curves')
    root = tmp_path / 'runs'
    write_fake_run(
        str(root / 'kd' / 'seed0'), cname(KD_CFG), KD_MODEL, 0, 1, [50.0])
    figures = []
    monkeypatch.setattr(plot.plt, 'close', figures.append)
    plot.plot_all([str(root)], str(tmp_path / 'plots'))
    [line] = figures[0].axes[0].get_lines()
    assert line.get_marker() == 'o'


def test_collector_matches_the_reference_table(bench):
    collect = load_tool('collect_results')
    rows = rows_by(collect.collect([str(bench)]))
    # one teacher run serves both pairs whose teacher is ResNet32x4
    for pair in ('cifar100/resnet32x4-resnet8x4',
                 'cifar100/resnet32x4-shufflev1'):
        teacher = rows[(pair, 'teacher', cname(TEACHER_CFG))]
        assert teacher['paper'] == 79.42 and teacher['n'] == 1
    tst = rows[('cifar100/resnet32x4-resnet8x4', 'tst-neural', cname(TST_CFG))]
    assert tst['paper'] is None and tst['tst_paper_missing']
    assert tst['delta_kd'] == pytest.approx(77.0 - 74.0)
    assert 'KD 73.33' in tst['anchors'] and 'DKD 76.32' in tst['anchors']
    unmatched = rows[(None, 'kd', 'my_own_experiment')]
    assert unmatched['paper'] is None and unmatched['final_mean'] == 30.0
    table = collect.markdown_table(list(rows.values()), False)
    row = '| cifar100/resnet32x4-resnet8x4 | kd | 74.00 ± 1.00 (n=3) |'
    assert row in table
    assert rows[('cifar100/resnet32x4-resnet8x4', 'teacher',
                 cname(TEACHER_CFG))]['delta_kd'] is None
    assert '—†' in table and collect.TST_FOOTNOTE in table


def test_collector_cli_writes_json_and_markdown(bench, tmp_path, capsys):
    collect = load_tool('collect_results')
    out = tmp_path / 'table'
    assert collect.main([str(bench), '--json', '--out', str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {g['method']
            for g in printed['groups']
            } >= {'kd', 'dkd', 'tst-neural', 'teacher'}
    assert (out / 'results.md').read_text().startswith('| pair | method |')


def test_read_back_helpers(bench):
    kd0 = str(bench / cname(KD_CFG) / 'seed0')
    assert benchmarks.last_accuracy(kd0) == 73.0
    run = benchmarks.parse_run(str(bench / cname(KD_CFG) / 'seed2'))
    assert run.curve == [(1, 62.0), (2, 71.0), (3, 75.0)]  # two launches
    assert (run.seed, run.progress, run.total, run.finished) == (2, 3, 3, True)
    assert run.config_path == KD_CFG


def test_iteration_based_runs_and_coco_scale(tmp_path):
    """TEST FIXTURE run: an iteration-based detection run (mmdet logs
    coco/bbox_mAP as a fraction; validation step = iteration)."""
    work_dir = tmp_path / 'det'
    vis = work_dir / '20990101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'config.py').write_text(
        '# TEST FIXTURE\nmodel = dict(type="mmtst.DetectionDistiller", '
        'augmenter=dict(backend="analytic"))\n'
        'train_cfg = dict(type="IterBasedTrainLoop", max_iters=2000)\n')
    (vis / 'scalars.json').write_text(''.join(
        json.dumps({
            'coco/bbox_mAP': v,
            'step': s
        }) + '\n' for s, v in ((1000, 0.301), (2000, 0.352))))
    run = benchmarks.parse_run(str(work_dir))
    assert (run.method, run.metric, run.unit) == ('tst-analytic',
                                                  'coco/bbox_mAP', 'iter')
    assert run.final == pytest.approx(35.2) and run.finished


def test_log_only_run_is_read_from_the_text_log(tmp_path):
    """TEST FIXTURE run: only an mmengine text log survived (no
    scalars.json, no dumped config): config and curve come from the log."""
    ts = tmp_path / 'run' / '20990101_000000'
    ts.mkdir(parents=True)
    (ts / '20990101_000000.log').write_text(
        '2099/01/01 00:00:00 - mmengine - INFO - Config:\n'
        "model = dict(type='mmtst.ClassificationDistiller', "
        "distill_loss=dict(type='DKDLoss'))\n"
        'randomness = dict(seed=5)\n'
        'train_cfg = dict(by_epoch=True, max_epochs=3)\n\n'
        '2099/01/01 00:00:01 - mmengine - INFO - Epoch(val) [1][79/79]    '
        'accuracy/top1: 61.2500  data_time: 1.2e-03  time: 0.0200\n'
        '2099/01/01 00:00:02 - mmengine - INFO - Epoch(val) [2][79/79]    '
        'accuracy/top1: 70.5000  data_time: 0.0100  time: 0.0200\n')
    assert benchmarks.find_runs([str(tmp_path)]) == [str(tmp_path / 'run')]
    run = benchmarks.parse_run(str(tmp_path / 'run'))
    assert (run.method, run.seed, run.curve) == ('dkd', 5, [(1, 61.25),
                                                            (2, 70.5)])
    assert (run.progress, run.total, run.finished) == (2, 3, False)


def test_classify_method():
    classify = benchmarks.classify_method
    assert classify(PLAIN_MODEL) == 'alone'
    assert classify(KD_MODEL) == 'kd' and classify(DKD_MODEL) == 'dkd'
    analytic = dict(TST_MODEL, augmenter=dict(backend='analytic'))
    assert classify(analytic) == 'tst-analytic'
    views = dict(
        type='mmtst.ClassificationDistiller',
        distill_loss=dict(type='KLDivergence'),
        views=dict(mode='consistent', mixup=dict(type='BatchMixup')))
    assert classify(views) == 'funmatch-function-matching'
    views['views'] = dict(mode='fixed_teacher', mixup=None)
    assert classify(views) == 'funmatch-fixed-teacher'
    assert classify(dict(type='mmtst.DetectionDistiller')) == 'kd'
    assert classify(
        dict(
            type='mmtst.DetectionDistiller',
            augmenter=dict(),
            mimic=dict(levels=[0]))) == 'kd+mimic'
    assert classify(
        dict(
            type='mmtst.DetectionDistiller',
            augmenter=dict(backend='neural'),
            mimic=dict(levels=[0]))) == 'tst-neural+mimic'


# --------------------------------------------------------------- runner
@pytest.fixture
def sets_file(tmp_path):
    """TEST FIXTURE: a one-set sets file with a teacher and a KD run."""
    path = tmp_path / 'sets.yaml'
    path.write_text(
        'work_root: work_dirs/unused\n'
        'sets:\n'
        '  mini:\n'
        '    seeds: 2\n'
        '    runs:\n'
        '      - config: '
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py\n'
        '        teacher: configs/quickstart/resnet20_1xb128-4e_fmnist.py\n')
    return str(path)


def fake_set_progress(root):
    """TEST FIXTURE: KD seed 0 finished (4/4 epochs), seed 1 stopped after
    2 of 4 epochs with a checkpoint; the teacher finished, not exported."""
    kd = 'kd_resnet20_resnet8_1xb128-4e_fmnist'
    write_fake_run(
        osp.join(root, kd, 'seed0'), kd, KD_MODEL, 0, 4,
        [80.0, 85.0, 88.0, 89.0])
    write_fake_run(
        osp.join(root, kd, 'seed1'), kd, KD_MODEL, 1, 4, [80.0, 85.0])
    write_fake_run(
        osp.join(root, 'resnet20_1xb128-4e_fmnist',
                 'seed0'), 'resnet20_1xb128-4e_fmnist', PLAIN_MODEL, 0, 4,
        [85.0, 88.0, 90.0, 91.0])


def test_runner_print_only_dist(tmp_path, sets_file, capsys):
    runner = load_tool('run_benchmark')
    work_root = str(tmp_path / 'bench')
    fake_set_progress(osp.join(work_root, 'mini'))
    assert runner.main([
        'mini', '--sets', sets_file, '--work-root', work_root, '--print-only',
        '--launcher', 'dist', '--gpus', '8'
    ]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    root = osp.join(work_root, 'mini')
    teacher_ckpt = osp.join(root, 'resnet20_1xb128-4e_fmnist', 'teacher.pth')
    assert lines == [
        '# skip (finished 4/4 epochs): '
        f'{root}/resnet20_1xb128-4e_fmnist/seed0',
        f'python tools/analysis/run_benchmark.py mini --export-teachers '
        f'--work-root {work_root} --sets {sets_file}',
        '# skip (finished 4/4 epochs): '
        f'{root}/kd_resnet20_resnet8_1xb128-4e_fmnist/seed0',
        'tools/dist_train.sh '
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py'
        f' 8 --work-dir {root}/kd_resnet20_resnet8_1xb128-4e_fmnist/seed1 '
        '--resume '
        f'--cfg-options randomness.seed=1 model.teacher_ckpt={teacher_ckpt} '
        # the config's total batch of 128 shared by the 8 GPUs
        'train_dataloader.batch_size=16',
    ]


def test_runner_print_only_slurm_and_fresh_runs(tmp_path, sets_file, capsys):
    runner = load_tool('run_benchmark')
    work_root = str(tmp_path / 'bench')
    assert runner.main([
        'mini', '--sets', sets_file, '--work-root', work_root, '--print-only',
        '--launcher', 'slurm', '--partition', 'P', '--gpus', '16', '--seeds',
        '1'
    ]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    root = osp.join(work_root, 'mini')
    assert lines[0] == ('GPUS=16 GPUS_PER_NODE=8 tools/slurm_train.sh P '
                        'mini-resnet20_1xb128-4e_fmnist '
                        'configs/quickstart/resnet20_1xb128-4e_fmnist.py '
                        f'{root}/resnet20_1xb128-4e_fmnist/seed0 '
                        '--cfg-options randomness.seed=0 '
                        'train_dataloader.batch_size=8')
    assert lines[1].endswith('--export-teachers --work-root '
                             f'{work_root} --sets {sets_file}')
    assert lines[2] == (
        'GPUS=16 GPUS_PER_NODE=8 tools/slurm_train.sh P '
        'mini-kd_resnet20_resnet8_1xb128-4e_fmnist-seed0 '
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py '
        f'{root}/kd_resnet20_resnet8_1xb128-4e_fmnist/seed0 --cfg-options '
        'randomness.seed=0 model.teacher_ckpt='
        f'{root}/resnet20_1xb128-4e_fmnist/teacher.pth '
        'train_dataloader.batch_size=8')
    assert len(lines) == 3


def test_distributed_batch_that_gpus_cannot_share_is_refused(
        tmp_path, sets_file, capsys):
    runner = load_tool('run_benchmark')
    with pytest.raises(
            SystemExit,
            match=r'batch of 128.*--gpus 4 or set '
            r'--cfg-options train_dataloader.batch_size='):
        runner.main([
            'mini', '--sets', sets_file, '--work-root',
            str(tmp_path), '--print-only', '--launcher', 'dist', '--gpus', '6',
            '--seeds', '1'
        ])
    # an explicit total batch is what gets shared
    assert runner.main([
        'mini', '--sets', sets_file, '--work-root',
        str(tmp_path), '--print-only', '--launcher', 'dist', '--gpus', '6',
        '--seeds', '1', '--cfg-options', 'train_dataloader.batch_size=96'
    ]) == 0
    assert 'train_dataloader.batch_size=16' in capsys.readouterr().out


def test_runner_plain_commands_and_sets_file(tmp_path, capsys):
    runner = load_tool('run_benchmark')
    assert runner.main(['--list']) == 0
    assert 'fmnist-mini:' in capsys.readouterr().out
    assert runner.main([
        'fmnist-mini', '--print-only', '--seeds', '1', '--work-root',
        str(tmp_path)
    ]) == 0
    out = capsys.readouterr().out
    for config in ('resnet8_1xb128-4e_fmnist',
                   'kd_resnet20_resnet8_1xb128-4e_fmnist',
                   'dkd_resnet20_resnet8_1xb128-4e_fmnist',
                   'tst_resnet20_resnet8_1xb128-4e_fmnist',
                   'tst-analytic_resnet20_resnet8_1xb128-4e_fmnist',
                   'funmatch_resnet20_resnet8_1xb128-4e_fmnist'):
        assert 'python tools/train.py ' in out and f'/{config}/seed0 ' in out
    student = [
        line for line in out.splitlines()
        if 'resnet8_1xb128-4e_fmnist/' in line
    ]
    assert student and 'teacher_ckpt' not in student[0]


def test_runner_exports_a_finished_teacher(tmp_path, sets_file, capsys):
    import torch
    runner = load_tool('run_benchmark')
    work_root = str(tmp_path / 'bench')
    root = osp.join(work_root, 'mini')
    args = [
        'mini', '--sets', sets_file, '--work-root', work_root,
        '--export-teachers'
    ]
    with pytest.raises(RuntimeError, match='has not finished'):
        runner.main(args)
    fake_set_progress(root)
    teacher_dir = osp.join(root, 'resnet20_1xb128-4e_fmnist')
    # TEST FIXTURE: a tiny fabricated Runner checkpoint of the teacher
    torch.save(
        dict(meta=dict(epoch=4), state_dict={'w': torch.ones(2)}),
        osp.join(teacher_dir, 'seed0', 'epoch_4.pth'))
    assert runner.main(args) == 0
    exported = torch.load(
        osp.join(teacher_dir, 'teacher.pth'), weights_only=True)
    assert list(exported) == ['state_dict']
    assert torch.equal(exported['state_dict']['w'], torch.ones(2))
    runner.main([
        'mini', '--sets', sets_file, '--work-root', work_root, '--print-only'
    ])
    assert '# teacher weights exist' in capsys.readouterr().out


def test_runner_orders_seed_major_and_applies_set_options(tmp_path, capsys):
    """Every run's seed 0 before any seed 1 (a set cut short still compares
    every method); set-level options reach every run and the teacher,
    teacher-only options only the teacher."""
    sets = tmp_path / 'sets.yaml'
    sets.write_text(  # TEST FIXTURE: a two-run set with set-level options
        'sets:\n'
        '  two:\n'
        '    seeds: 2\n'
        '    cfg_options: [train_dataloader.dataset.indices=100]\n'
        '    teacher_cfg_options: [train_cfg.max_epochs=9]\n'
        '    runs:\n'
        '      - config: configs/quickstart/resnet8_1xb128-4e_fmnist.py\n'
        '      - config: '
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py\n'
        '        teacher: configs/quickstart/resnet20_1xb128-4e_fmnist.py\n')
    runner = load_tool('run_benchmark')
    assert runner.main([
        'two', '--sets',
        str(sets), '--work-root',
        str(tmp_path / 'w'), '--print-only'
    ]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    trains = [line for line in lines if 'tools/train.py' in line]
    names = [
        line.split('--work-dir ')[1].split()[0].split('/two/')[1]
        for line in trains
    ]
    assert names == [
        'resnet20_1xb128-4e_fmnist/seed0', 'resnet8_1xb128-4e_fmnist/seed0',
        'kd_resnet20_resnet8_1xb128-4e_fmnist/seed0',
        'resnet8_1xb128-4e_fmnist/seed1',
        'kd_resnet20_resnet8_1xb128-4e_fmnist/seed1'
    ]
    assert all('train_dataloader.dataset.indices=100' in line
               for line in trains)
    assert 'train_cfg.max_epochs=9' in trains[0]
    assert not any('train_cfg.max_epochs=9' in line for line in trains[1:])


def test_wall_clock_sums_the_launches_of_a_run(tmp_path):
    """Two launches (a kill and a resume): their spans are added, the time
    between them is not."""
    from mmtst.benchmarks import wall_seconds
    for stamp, lines in (('20990101_000000', ['00:00:00', '00:01:30']),
                         ('20990101_010000',
                          ['01:00:00', '01:00:10', '01:02:00'])):
        folder = tmp_path / stamp
        folder.mkdir()
        # TEST FIXTURE: fabricated mmengine log lines
        (folder / f'{stamp}.log').write_text(''.join(
            f'2099/01/01 {t} - mmengine - INFO - line\n  continued\n'
            for t in lines))
    assert wall_seconds(str(tmp_path)) == 90 + 120
    assert wall_seconds(str(tmp_path / 'nowhere')) is None


def test_runner_executes_steps_in_sequence(tmp_path):
    runner = load_tool('run_benchmark')
    ok = runner.Step('train', 'ok', ['python', '-c', 'pass'])
    bad = runner.Step('train', 'bad', ['python', '-c', 'raise SystemExit(3)'])
    args = runner.parse_args(['mini'])
    with pytest.raises(RuntimeError, match='exit 3'):
        runner.execute(args, [ok, bad, ok], {}, str(tmp_path))
    args.keep_going = True
    assert runner.execute(args, [bad, ok], {}, str(tmp_path)) == 1


# ------------------------------------------------------------ plot tool
def test_policy_of_a_resumed_run_drops_what_the_resume_redid(tmp_path):
    """Launch 1 ran the phase at step 80 and was killed; launch 2 resumed
    from the checkpoint before that phase, ran it again from the initial
    policy, then the phase at step 240: the run's policy history is
    launch 2's. A launch resumed after a phase keeps the earlier one."""
    from mmtst.visualization import read_policy_records

    def launch(work_dir, timestamp, records):
        vis = osp.join(work_dir, timestamp, 'vis_data')
        os.makedirs(vis)
        with open(osp.join(vis, 'scalars.json'), 'w') as f:
            for step, p, initial in records:
                record = {'augmenter.p_Rotate': p, 'step': step}
                if initial:
                    record['augmenter.initial'] = 1
                f.write(json.dumps(record) + '\n')
            f.write('{"augmenter.p_Rotate": 0.')  # torn by the kill

    redone = str(tmp_path / 'redone')
    launch(redone, '20990101_000000', [(80, 0.5, True), (80, 0.2, False),
                                       (80, 0.1, False)])
    launch(redone, '20990101_010000', [(80, 0.5, True), (80, 0.4, False),
                                       (80, 0.3, False), (240, 0.6, False)])
    records = read_policy_records(redone)
    assert [(r.step, r.values['p_Rotate'], r.initial)
            for r in records] == [(80, 0.5, True), (80, 0.4, False),
                                  (80, 0.3, False), (240, 0.6, False)]
    kept = str(tmp_path / 'kept')
    launch(kept, '20990101_000000', [(80, 0.5, True), (80, 0.2, False)])
    launch(kept, '20990101_010000', [(240, 0.3, False)])
    assert [r.values['p_Rotate']
            for r in read_policy_records(kept)] == [0.5, 0.2, 0.3]


def test_plot_curves_and_policy(bench, tmp_path):
    plot = load_tool('plot_curves')
    out = tmp_path / 'plots'
    written = plot.plot_all([str(bench)], str(out))
    names = {osp.basename(p) for p in written}
    assert 'curves_cifar100_resnet32x4-resnet8x4.png' in names
    assert f'policy_{cname(TST_CFG)}_seed0.png' in names
    assert all(osp.getsize(p) > 0 for p in written)


# ------------------------------------------------------ reference table
BRIEF_PAIRS = {
    'cifar100/resnet56-resnet20',
    'cifar100/resnet110-resnet32',
    'cifar100/resnet110-resnet20',
    'cifar100/resnet32x4-resnet8x4',
    'cifar100/wrn_40_2-wrn_16_2',
    'cifar100/wrn_40_2-wrn_40_1',
    'cifar100/vgg13-vgg8',
    'cifar100/vgg13-mobilenetv2',
    'cifar100/resnet32x4-shufflev1',
    'cifar100/wrn_40_2-shufflev1',
    'imagenet/resnet34-resnet18',
    'imagenet/resnet50-mobilenetv1',
    'coco/retinanet_x101-retinanet_r50',
    'coco/cascade_mask_rcnn_x101-faster_rcnn_r50',
    'coco/fcos_r101-fcos_r50',
    'cityscapes/pspnet_r101-pspnet_r18',
    'imagenet/bit_r152x2-resnet50',
}


def test_reference_yaml_has_sources_and_no_invented_tst_numbers():
    reference = benchmarks.load_reference()
    sources = reference['sources']
    assert BRIEF_PAIRS <= set(reference['pairs'])
    for pair_id, entry in reference['pairs'].items():
        assert 'tst_paper' in entry, pair_id
        tst = entry['tst_paper']
        # null unless someone filled it in from the paper, with its source
        assert tst is None or (isinstance(tst, dict) and tst.get('value')
                               and tst.get('source') == 'tst'), pair_id
        for key, number in (entry.get('numbers') or {}).items():
            assert isinstance(number['value'], (int, float)), (pair_id, key)
            assert number['source'] in sources, (pair_id, key)
        assert entry['configs'], pair_id
    assert reference['pairs']['imagenet/bit_r152x2-resnet50']['numbers'][
        'funmatch']['value'] == 82.8


def test_reference_config_globs_name_the_cifar100_configs():
    """Each CIFAR-100 pair's KD / DKD / TST glob names exactly one of the
    configs in the repo (keeps the table in step with configs/)."""
    reference = benchmarks.load_reference()
    for pair_id, entry in reference['pairs'].items():
        if not pair_id.startswith('cifar100/'):
            continue
        for method in ('kd', 'dkd', 'tst'):
            hits = [
                p for pattern in entry['configs'][method]
                for p in glob(osp.join(REPO, pattern))
            ]
            assert len(hits) == 1, (pair_id, method, hits)


# ------------------------------------------------------------ cost table
def write_fake_log(work_dir,
                   start_minute,
                   minutes,
                   timestamp='20990101_000000'):
    """TEST FIXTURE: a fabricated mmengine text log spanning ``minutes``."""
    folder = osp.join(work_dir, timestamp)
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, f'{timestamp}.log'), 'w') as f:
        for minute in (start_minute, start_minute + minutes):
            f.write(f'2099/01/01 {minute // 60:02d}:{minute % 60:02d}:00 - '
                    'mmengine - INFO - fabricated\n')


def test_cost_table_whole_runs_and_steps(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        '_cost_table', osp.join(REPO, 'tools', 'benchmarks', 'cost_table.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root = tmp_path / 'w' / 'mini'
    for name, model, minutes, top1 in (
        ('kd_resnet20_resnet8_1xb128-4e_fmnist', KD_MODEL, 10, [85.0, 88.0]),
        ('tst_resnet20_resnet8_1xb128-4e_fmnist', TST_MODEL, 25, [86.0,
                                                                  89.0])):
        for seed in (0, 1):
            work_dir = str(root / name / f'seed{seed}')
            write_fake_run(work_dir, name, model, seed, 2, top1)
            write_fake_log(work_dir, 60 * seed, minutes)
    steps = tmp_path / 'steps.json'
    steps.write_text(
        json.dumps(
            dict(  # TEST FIXTURE: fabricated step rows
                rows=[
                    dict(kind='kd', ratio_to_kd=1.0, target=None, passed=None),
                    dict(
                        kind='aug_step[neural]',
                        ratio_to_kd=1.6,
                        target=1.5,
                        metric='ratio',
                        passed=False)
                ],
                peak_memory={
                    'kd': dict(peak_rss_mb=900.0, added_by_steps_mb=50.0)
                })))
    sets = tmp_path / 'sets.yaml'
    sets.write_text('sets:\n  mini:\n    runs: []\n')
    assert tool.main([
        '--set', 'mini', '--sets',
        str(sets), '--work-root',
        str(tmp_path / 'w'), '--steps-json',
        str(steps)
    ]) == 0
    out = capsys.readouterr().out
    assert '| tst_resnet20_resnet8_1xb128-4e_fmnist | tst-neural | 2 ' \
           '| 25.0 | 2.50x | 89.00 | +1.00 |' in out
    assert '| kd_resnet20_resnet8_1xb128-4e_fmnist | kd | 2 | 10.0 ' \
           '| 1.00x |' in out
    assert '| aug_step[neural] | 1.60x | <= 1.50x | FAIL |' in out
    assert '| kd | 900 | 50 |' in out
    with pytest.raises(RuntimeError, match='no finished run'):
        tool.main([
            '--set', 'mini', '--sets',
            str(sets), '--work-root',
            str(tmp_path / 'empty')
        ])
