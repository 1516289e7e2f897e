"""A TST run killed with SIGKILL (inside an augmenter phase, inside a
student epoch, or while a checkpoint is being written) and resumed with
``--resume`` ends with the same student, augmenter and optimiser states as
a run never interrupted (CPU, real Fashion-MNIST images), with
single-process loaders and with the loader workers mmtst's configs ship
(``num_workers=2, persistent_workers=True``), and for mmengine's
iteration-based loop on the scenes in segmentation form (which re-reads the
batches it skips on resume). Checkpoints are read with mmtst's weights-only
allow-list."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import run_train

from mmtst.utils import load_checkpoint_file

pytestmark = needs_fashion_mnist
FIXTURES = osp.join(REPO, 'tests', 'fixtures')

# 128 training images in batches of 32: 4 iterations per epoch and per
# augmenter pass; 3 epochs.
SMALL = [
    'train_dataloader.dataset.indices=128',
    'train_dataloader.batch_size=32',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=100',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'default_hooks.logger.interval=2',
    'train_cfg.max_epochs=3',
]
# the training loader as the quick start's configs ship it (validation,
# which draws nothing random and is RNG-neutral, stays single-process)
WORKERS = [
    option.replace('train_dataloader.num_workers=0',
                   'train_dataloader.num_workers=2').replace(
                       'train_dataloader.persistent_workers=False',
                       'train_dataloader.persistent_workers=True')
    for option in SMALL
]


def write_config(root, base: str, teacher: str, **train_cfg) -> str:
    """A user config inheriting ``base``, with the kill switch loaded."""
    path = root / f'{osp.splitext(osp.basename(base))[0]}_killable.py'
    overrides = ', '.join(f'{k}={v!r}' for k, v in train_cfg.items())
    path.write_text(f"_base_ = {osp.join(REPO, base)!r}\n"
                    "custom_imports = dict(imports=['kill_switch'], "
                    "allow_failed_imports=False)\n"
                    "custom_hooks = [dict(type='mmtst.KillSwitchHook')]\n"
                    f"model = dict(teacher_ckpt={teacher!r})\n"
                    f"train_cfg = dict({overrides})\n")
    return str(path)


def train(config,
          work_dir,
          data_root,
          *extra,
          kill_at=None,
          kill_with=None,
          options=tuple(SMALL)):
    """tools/train.py on ``config`` with the --cfg-options ``options``
    (:data:`SMALL` by default), on Fashion-MNIST in ``data_root`` (None:
    ``options`` name the data)."""
    if data_root is not None:
        options = [
            *options, f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}'
        ]
    return run_train(
        config,
        work_dir,
        *extra,
        options=options,
        env=dict(
            PYTHONPATH=os.pathsep.join([REPO, FIXTURES]),
            MMTST_KILL_AT=kill_at or None,
            MMTST_KILL_WITH=kill_with or None),
        start_new_session=kill_with is not None,
        preexec_fn=_default_ctrl_c if kill_with == 'SIGINT' else None)


def _default_ctrl_c():
    """In the child before exec: Ctrl-C back to its default, as in a
    terminal. A shell starts background jobs with SIGINT ignored, the
    ignore is inherited through exec, and Python then installs no
    KeyboardInterrupt handler, so under e.g. ``nohup make test &`` the run
    would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def final_state(work_dir, name='epoch_3.pth') -> dict:
    checkpoint = load_checkpoint_file(osp.join(work_dir, name))
    return dict(
        state_dict=checkpoint['state_dict'], optimizer=checkpoint['optimizer'])


def assert_same(expected, got, where=''):
    if isinstance(expected, torch.Tensor):
        assert torch.equal(expected, got), f'{where} differs'
    elif isinstance(expected, dict):
        assert expected.keys() == got.keys(), where
        for key in expected:
            assert_same(expected[key], got[key], f'{where}.{key}')
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(got), where
        for i, (a, b) in enumerate(zip(expected, got)):
            assert_same(a, b, f'{where}[{i}]')
    else:
        assert expected == got, f'{where}: {expected} != {got}'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A frozen (randomly initialised) ResNet-20 teacher: exactness does not
    depend on how good the teacher is."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import mmtst  # noqa: F401
    root = tmp_path_factory.mktemp('resume')
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        osp.join(REPO,
                 'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py'))
    torch.manual_seed(0)
    teacher = root / 'teacher.pth'
    torch.save(
        dict(state_dict=MODELS.build(cfg.model.teacher).state_dict()), teacher)
    return dict(
        root=root, teacher=str(teacher), data_root=root / 'fashion-mnist')


CASES = {
    # phases before epochs 0 and 2 (4 updates each): killed at the 2nd
    # update of the second phase, the run resumes from epoch_2.pth and
    # re-runs that phase from its start
    'mid_augmenter_phase':
    dict(
        base='configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
        train_cfg=dict(phases_at_epochs=[0, 2]),
        kill_at='augmenter_step:6',
        resumes_from='epoch_2.pth'),
    # interleaved updates (ALRS state carried across epochs) in replace
    # mode: killed in the middle of the second student epoch
    'mid_student_epoch':
    dict(
        base='configs/quickstart/tst-fast_resnet20_resnet8_1xb128-4e_'
        'fmnist.py',
        train_cfg=dict(interleave_interval=2),
        kill_at='student_iter:7',
        resumes_from='epoch_1.pth'),
    # killed while writing epoch_2.pth: the atomic write leaves epoch_1.pth
    # as the latest checkpoint, and the half-written file is never resumed
    'during_checkpoint_save':
    dict(
        base='configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
        train_cfg=dict(phases_at_epochs=[0, 2]),
        kill_at='save:2',
        resumes_from='epoch_1.pth'),
    # the quick start's TST config with its loader workers (persistent, so
    # the killed run's workers had transformed two epochs' samples and the
    # resumed run's start afresh): the random crops and flips run in the
    # workers, outside the RNG states the checkpoint holds, so they must
    # not depend on the workers' own generators; killed in the middle of
    # the third epoch, after the second phase
    'mid_student_epoch_with_loader_workers':
    dict(
        base='configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
        train_cfg=dict(phases_at_epochs=[0, 2]),
        kill_at='student_iter:10',
        resumes_from='epoch_2.pth',
        options=WORKERS),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_killed_and_resumed_run_matches_the_uninterrupted_run(setup, case):
    spec = CASES[case]
    root = setup['root'] / case
    root.mkdir()
    config = write_config(root, spec['base'], setup['teacher'],
                          **spec['train_cfg'])
    options = spec.get('options', SMALL)
    code, out = train(
        config, root / 'reference', setup['data_root'], options=options)
    assert code == 0, out[-4000:]

    code, out = train(
        config,
        root / 'killed',
        setup['data_root'],
        kill_at=spec['kill_at'],
        options=options)
    assert code == -signal.SIGKILL, out[-4000:]
    assert not osp.exists(root / 'killed' / 'epoch_3.pth')
    with open(root / 'killed' / 'last_checkpoint') as f:
        latest = f.read().strip()
    assert latest.endswith(spec['resumes_from'])
    load_checkpoint_file(latest)  # complete, loads
    if case == 'during_checkpoint_save':
        assert not osp.exists(root / 'killed' / 'epoch_2.pth')

    code, out = train(
        config,
        root / 'killed',
        setup['data_root'],
        '--resume',
        options=options)
    assert code == 0, out[-4000:]
    assert 'resumed' in out.lower()
    assert_same(final_state(root / 'reference'), final_state(root / 'killed'))


def test_ctrl_c_ends_in_one_line_and_the_run_resumes(setup):
    """Ctrl-C (SIGINT to the whole process group, loader workers included)
    during a student epoch: the run ends with exit code 130 and one line
    saying how to go on, no traceback; before the first checkpoint it says
    there is none, after it it names the checkpoint, and the same command
    with ``--resume auto`` then trains to the end."""
    root = setup['root'] / 'ctrl_c'
    root.mkdir()
    config = write_config(
        root,
        'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
        setup['teacher'],
        phases_at_epochs=[0, 2])
    work_dir = root / 'run'

    def interrupted_at(iteration):
        code, out = train(
            config,
            work_dir,
            setup['data_root'],
            kill_at=f'student_iter:{iteration}',
            kill_with='SIGINT',
            options=WORKERS)
        assert code == 130, out[-4000:]
        assert 'Traceback' not in out, out[-4000:]
        return [line for line in out.splitlines() if 'mmtst:' in line]

    assert interrupted_at(2) == [
        f'mmtst: interrupted before the first checkpoint (none in '
        f'{work_dir}); run the same command to start again.'
    ]
    # 4 iterations per epoch: the 6th is in epoch 2, after epoch_1.pth
    assert interrupted_at(6) == [
        f'mmtst: interrupted; to continue from the last checkpoint '
        f'({work_dir / "epoch_1.pth"}), run the same command again with '
        '--resume auto.'
    ]
    code, out = train(
        config,
        work_dir,
        setup['data_root'],
        '--resume',
        'auto',
        options=WORKERS)
    assert code == 0, out[-4000:]
    assert osp.exists(work_dir / 'epoch_3.pth')


SEG_CONFIG = ('configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_'
              'scenes-seg.py')


def seg_options(data_root):
    """12 scenes (64 px) in batches of 4: one loader pass = 3 iterations; a
    TST phase at pass 0 (3 augmenter steps), then 10 student iterations
    with a checkpoint every 4; a random teacher (exactness does not depend
    on it); single-process loaders."""
    options = [
        'model.allow_random_teacher=True',
        'train_dataloader.dataset.indices=12',
        'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.interval=4',
        'default_hooks.logger.interval=1',
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
            f'{loader}_dataloader.dataset.data_root={data_root}/'
        ]
    return options


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume_seg')
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'),
        str(root / 'scenes'), '--train', '12', '--val', '4', '--size', '64',
        '--seed', '3', '--semantic'
    ],
                   cwd=REPO,
                   check=True,
                   capture_output=True,
                   env=dict(os.environ, PYTHONPATH=REPO))
    return root


def test_killed_and_resumed_iteration_based_run_matches(scenes):
    """mmengine's IterBasedTrainLoop skips the batches a resumed run has
    already trained on by reading them again (after ExactResumeHook has
    restored the RNG states): their random flips, and the loader iterators
    made at each end of the data it crosses, must not draw from the
    restored generators. Killed after iteration 7, the run resumes from
    iter_4.pth, re-reading four batches across a loader pass.

    (With the config's persistent loader workers mmengine's loop was
    already exact: new workers replay the skipped batches' draws from
    their seeds. TST's phases draw from a loader of their own, so they
    leave that stream whole: tests/test_tools/test_iter_phase_loader.py.)"""
    root = scenes / 'run'
    root.mkdir()
    config = write_config(
        root, SEG_CONFIG, None, max_iters=10, val_interval=1000)
    options = seg_options(scenes / 'scenes')
    code, out = train(config, root / 'reference', None, options=options)
    assert code == 0, out[-4000:]

    code, out = train(
        config,
        root / 'killed',
        None,
        kill_at='student_iter:7',
        options=options)
    assert code == -signal.SIGKILL, out[-4000:]
    with open(root / 'killed' / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_4.pth')

    code, out = train(
        config, root / 'killed', None, '--resume', options=options)
    assert code == 0, out[-4000:]
    assert 'Advance dataloader 4 steps' in out
    assert_same(
        final_state(root / 'reference', 'iter_10.pth'),
        final_state(root / 'killed', 'iter_10.pth'))
