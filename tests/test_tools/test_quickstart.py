"""tools/quickstart.py: its two presets size the runs as documented, and a
run is reused only with the settings (and the teacher) it was trained
with; a run trained again starts empty, with the earlier one kept."""
import argparse
import glob
import json
import os.path as osp

import pytest
from conftest import REPO, needs_fashion_mnist
from helpers import load_tool, tiny_fmnist_data_options
from mmengine.config import Config, DictAction

QUICKSTART = load_tool('tools/quickstart.py')


def built_config(name: str, options: list) -> Config:
    """The config tools/train.py would run for ``name`` with
    ``--cfg-options options`` (parsed by the same mmengine action)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(osp.join(REPO, QUICKSTART.CONFIGS[name]))
    cfg.merge_from_dict(
        parser.parse_args(['--cfg-options'] + options).cfg_options)
    return cfg


def test_quick_preset_shortens_the_teacher_and_subsets_the_students():
    teacher = built_config(
        'teacher',
        QUICKSTART.run_options('teacher', 'quick', 3, 'unused.pth', []))
    assert teacher.train_cfg.max_epochs == 2
    # the warm-up keeps its epoch, the cosine decay ends with the run
    assert teacher.param_scheduler[0].end == 1
    assert teacher.param_scheduler[1].end == 2
    assert teacher.randomness.seed == 3
    assert 'indices' not in teacher.train_dataloader.dataset  # all 60k

    for name in ('student', 'kd', 'dkd', 'tst'):
        cfg = built_config(
            name, QUICKSTART.run_options(name, 'quick', 0, 'teacher.pth', []))
        assert cfg.train_dataloader.dataset.indices == 10000
        assert cfg.train_cfg.max_epochs == 4
        assert 'indices' not in cfg.val_dataloader.dataset  # 10k test
        if name != 'student':
            assert cfg.model.teacher_ckpt == 'teacher.pth'


def test_full_preset_runs_the_configs_as_written():
    for name in ('teacher', 'student', 'kd'):
        options = QUICKSTART.run_options(name, 'full', 0, 't.pth', [])
        cfg = built_config(name, options)
        assert cfg.train_cfg.max_epochs == 4
        assert cfg.param_scheduler[1].end == 4
        assert 'indices' not in cfg.train_dataloader.dataset


def test_user_options_come_last_and_win():
    options = QUICKSTART.run_options('kd', 'quick', 0, 't.pth',
                                     ['train_dataloader.dataset.indices=64'])
    cfg = built_config('kd', options)
    assert cfg.train_dataloader.dataset.indices == 64


@needs_fashion_mnist
def test_quickstart_trains_reuses_and_keeps_replaced_runs(tmp_path):
    """Three launches of the real tool on a few images: the first trains
    and tabulates, the second reuses everything, the third (another preset
    in the same work dir) trains again and keeps the earlier runs."""
    tiny = tiny_fmnist_data_options(tmp_path / 'fashion-mnist') + [
        'train_dataloader.batch_size=32', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1'
    ]
    work = tmp_path / 'qs'
    argv = ['--work-dir', str(work), '--cfg-options'] + tiny

    first = QUICKSTART.main(argv)
    assert set(first) == {'teacher', 'student', 'kd'}
    assert all(r['trained'] for r in first.values())
    for result in first.values():
        assert 0 <= result['accuracy'] <= 100
    assert osp.isfile(work / 'fmnist_teacher_resnet20.pth')
    table = (work / 'table.md').read_text()
    assert 'student + KD' in table and 'teacher ResNet-20' in table
    with open(work / 'kd' / 'result.json') as f:
        recorded = json.load(f)
    assert recorded['settings']['preset'] == 'quick'
    assert recorded['settings']['teacher'] == first['teacher']['finished']
    assert (f'model.teacher_ckpt={work}/fmnist_teacher_resnet20.pth'
            in recorded['settings']['cfg_options'])

    second = QUICKSTART.main(argv)
    assert not any(r['trained'] for r in second.values())
    assert {k: r['accuracy'] for k, r in second.items()} == \
        {k: r['accuracy'] for k, r in first.items()}

    third = QUICKSTART.main(['--preset', 'full', '--methods', 'student'] +
                            argv)
    assert third['teacher']['trained'] and third['student']['trained']
    for name in ('teacher', 'student'):
        kept = glob.glob(str(work / f'{name}_replaced_*'))
        assert len(kept) == 1, kept
        with open(osp.join(kept[0], 'result.json')) as f:
            assert json.load(f)['settings']['preset'] == 'quick'
    # the student was not distilled: its old run is untouched
    assert not glob.glob(str(work / 'kd_replaced_*'))


def test_a_failed_run_stops_with_one_line_naming_it(tmp_path, capsys):
    """A run that fails (here: a config key that does not exist) ends the
    quick start with a message naming the run and its work dir, not a
    traceback, and records no result."""
    with pytest.raises(SystemExit) as stop:
        QUICKSTART.main([
            '--work-dir',
            str(tmp_path), '--cfg-options', 'model.no_such_key=1'
        ])
    message = str(stop.value.code)
    assert message.startswith('[quickstart] error: the teacher run failed')
    assert str(tmp_path / 'teacher') in message
    assert not (tmp_path / 'teacher' / 'result.json').exists()


@pytest.mark.parametrize('settings_key', ['preset', 'cfg_options'])
def test_a_result_with_other_settings_is_not_reused(tmp_path, settings_key):
    settings = dict(preset='quick', cfg_options=['randomness.seed=0'])
    (tmp_path / 'kd').mkdir()
    with open(tmp_path / 'kd' / 'result.json', 'w') as f:
        json.dump(dict(accuracy=80.0, settings=settings), f)
    assert QUICKSTART.cached_result(str(tmp_path / 'kd'),
                                    settings)['accuracy'] == 80.0
    other = dict(settings, **{settings_key: 'changed'})
    assert QUICKSTART.cached_result(str(tmp_path / 'kd'), other) is None
    # a result written before settings were recorded is never reused
    with open(tmp_path / 'kd' / 'result.json', 'w') as f:
        json.dump(dict(accuracy=80.0, seconds=1.0, seed=0), f)
    assert QUICKSTART.cached_result(str(tmp_path / 'kd'), settings) is None
