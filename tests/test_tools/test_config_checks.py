"""Config checks that run before the Runner: misaddressed or misspelt
``--cfg-options`` keys and loop arguments are refused in one line, before
mmengine's environment and config dump; errors from inside a model name
the model file and the config key that built it."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import yaml
from conftest import REPO
from mmengine.config import Config

from mmtst.apis.config_checks import (check_loop_arguments, check_overrides,
                                      override_problem)

TST = ('configs/benchmarks/fmnist_limited/'
       'tst_resnet20_resnet8_fmnist_limited.py')
STUDENT = 'configs/quickstart/resnet8_1xb128-4e_fmnist.py'


@pytest.fixture(scope='module')
def tst_cfg():
    return Config.fromfile(osp.join(REPO, TST))


@pytest.mark.parametrize(
    'key, expected',
    [
        # the silent no-op: a list index into TST's dict of schedulers
        ('param_scheduler.1.end',
         "not a list, so `param_scheduler.1.end` would "
         "add a key '1'"),
        ('param_scheduler.architecture.5.end', 'is a list of 2 entries'),
        ('train_cfg.max_epoch', 'Did you mean `max_epochs`?'),
        ('model.augmenter.cutout_siz', 'Did you mean `cutout_size`?'),
        ('randomnes.seed', 'the config has no key `randomnes`. Did you mean '
         '`randomness`?'),
        ('train_cfg.max_epochs.x', 'is the value 40, not a dict'),
    ])
def test_misaddressed_overrides_are_named(tst_cfg, key, expected):
    problem = override_problem(tst_cfg, key)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(
    'key',
    [
        'train_cfg.max_epochs',
        'param_scheduler.architecture.1.end',
        # new keys that the typed component takes
        'train_dataloader.dataset.indices',
        'model.augmenter.clamp',
        'train_cfg.interleave_interval',
        # new untyped / top-level keys not close to an existing one
        'work_dir',
        'auto_scale_lr.enable'
    ])
def test_valid_overrides_pass(tst_cfg, key):
    assert override_problem(tst_cfg, key) is None


def test_a_marked_new_key_is_taken_as_is(tst_cfg):
    with pytest.raises(ValueError, match=r'write it as \+model.foo=\.\.\.'):
        check_overrides(tst_cfg, {'model.foo': 1})
    assert check_overrides(tst_cfg, {'+model.foo': 1}) == {'model.foo': 1}


def test_loop_argument_typo_in_a_config_file(tst_cfg):
    cfg = tst_cfg.copy()
    cfg.train_cfg = dict(cfg.train_cfg, phase_at_epochs=[1])
    with pytest.raises(
            ValueError,
            match='TSTEpochBasedTrainLoop has no '
            'argument `phase_at_epochs`. Did you mean '
            '`phases_at_epochs`'):
        check_loop_arguments(cfg)
    cfg = Config.fromfile(osp.join(REPO, STUDENT))
    cfg.train_cfg.max_epoch = 1
    with pytest.raises(ValueError, match='Did you mean `max_epochs`'):
        check_loop_arguments(cfg)


def _set_overrides():
    """(config, options) of every run of every benchmark set, teachers
    included."""
    with open(osp.join(REPO, 'benchmarks/sets.yaml')) as f:
        sets = yaml.safe_load(f)['sets']
    cases = []
    for name, spec in sets.items():
        common = [str(o) for o in spec.get('cfg_options') or []]
        teachers = set()
        for run in spec['runs']:
            for config in sorted(glob.glob(osp.join(REPO, run['config']))):
                if osp.basename(config).startswith('_base_'):
                    continue
                cases.append(
                    (name, config,
                     common + [str(o) for o in run.get('cfg_options') or []]))
            if run.get('teacher'):
                teachers.add(run['teacher'])
        for teacher in teachers:
            cases.append(
                (name, osp.join(REPO, teacher), common +
                 [str(o) for o in spec.get('teacher_cfg_options') or []]))
    return cases


def test_every_benchmark_override_is_accepted():
    """The sets' own overrides (list indices into schedulers, new dataset
    arguments) must all address what their configs have."""
    checked = 0
    for name, config, options in _set_overrides():
        if not options:
            continue
        cfg = Config.fromfile(config)
        for option in options:
            key = option.split('=', 1)[0]
            assert override_problem(cfg, key) is None, (name, config, key)
            checked += 1
    assert checked > 50


def run_train(*args):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable,
         osp.join(REPO, 'tools/train.py'), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_train_refuses_a_silent_override_before_the_dump(tmp_path):
    code, out = run_train(
        osp.join(REPO, TST), '--work-dir', str(tmp_path), '--cfg-options',
        'param_scheduler.1.end=1')
    assert code == 2
    assert "would add a key '1'" in out and '+param_scheduler.1.end' in out
    # refused before mmengine logs its environment and config
    assert 'System environment' not in out and 'Config:' not in out
    assert 'Traceback' not in out


def test_an_error_inside_the_model_names_its_file_and_config_key(tmp_path):
    """A head whose in_channels do not match the backbone fails in torch's
    linear layer; the report names mmpretrain's head and model.head."""
    data_root = tmp_path / 'fashion-mnist'
    code, out = run_train(
        osp.join(REPO, STUDENT), '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', 'model.head.in_channels=32',
        'train_dataloader.dataset.indices=64',
        'train_dataloader.batch_size=32', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}')
    if 'Fashion-MNIST' in out and 'not found' in out:
        pytest.skip('no Fashion-MNIST data on this machine')
    assert code == 2, out[-3000:]
    last = [line for line in out.splitlines() if 'mmtst: error:' in line]
    assert last, out[-3000:]
    assert 'mmpretrain/models/heads/linear_head.py:' in last[-1]
    assert 'LinearClsHead.' in last[-1] and 'config key model.head' in last[-1]
