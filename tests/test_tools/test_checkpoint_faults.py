"""Faults during save and resume: a checkpoint write that fails (disk full)
stops the run in one line and keeps the previous checkpoint; ``--resume``
skips (auto) or refuses (named) a truncated checkpoint."""
import os.path as osp
import time

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import run_train as run_train_tool

from mmtst.engine.runner.resume_choice import (CheckpointReadError,
                                               choose_resume_checkpoint,
                                               unreadable_reason)

STUDENT = 'configs/quickstart/resnet8_1xb128-4e_fmnist.py'


def write_checkpoint(path, value=1.0):
    torch.save(dict(state_dict=dict(w=torch.full((64, 64), value))), path)
    time.sleep(0.01)  # distinct modification times, newest last


def truncate(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_a_truncated_checkpoint_is_told_from_a_complete_one(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    write_checkpoint(path)
    assert unreadable_reason(path) is None
    truncate(path)
    assert 'truncated or corrupt' in unreadable_reason(path)
    assert unreadable_reason(str(tmp_path / 'nope.pth')) == 'no such file'


def test_auto_resume_skips_a_truncated_newest_checkpoint(tmp_path):
    first, second = str(tmp_path / 'epoch_1.pth'), str(tmp_path /
                                                       'epoch_2.pth')
    write_checkpoint(first)
    write_checkpoint(str(tmp_path / 'teacher.pth'))  # exported weights
    write_checkpoint(second)
    truncate(second)
    chosen, warning = choose_resume_checkpoint(str(tmp_path), None, second)
    assert chosen == first
    assert 'epoch_2.pth is unreadable' in warning and first in warning
    # last_checkpoint lost: the newest readable checkpoint, with a warning
    chosen, warning = choose_resume_checkpoint(str(tmp_path), None, None)
    assert chosen == first and 'no last_checkpoint' in warning
    # a complete newest checkpoint is taken silently
    assert choose_resume_checkpoint(str(tmp_path), None,
                                    first) == (first, None)


def test_a_named_truncated_checkpoint_is_refused_with_the_good_one(tmp_path):
    first, second = str(tmp_path / 'epoch_1.pth'), str(tmp_path /
                                                       'epoch_2.pth')
    write_checkpoint(first)
    write_checkpoint(second)
    truncate(second)
    with pytest.raises(
            CheckpointReadError,
            match=f'cannot resume from {second}: truncated.*'
            f'--resume {first}'):
        choose_resume_checkpoint(str(tmp_path), second, None)
    truncate(first)
    with pytest.raises(CheckpointReadError, match='no other checkpoint in'):
        choose_resume_checkpoint(str(tmp_path), None, second)


# A disk that fills up at the second checkpoint: mmengine writes
# checkpoints through LocalBackend.put.
FULL_DISK = '''
import errno, runpy, sys
from mmengine.fileio.backends import local_backend
put = local_backend.LocalBackend.put
def put_or_fail(self, obj, filepath):
    if 'epoch_2' in str(filepath):
        raise OSError(errno.ENOSPC, 'No space left on device')
    return put(self, obj, filepath)
local_backend.LocalBackend.put = put_or_fail
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def train_student(work_dir, data_root, flags=(), options=(), full_disk=False):
    options = [
        *options, 'train_dataloader.dataset.indices=64',
        'train_dataloader.batch_size=32', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.dataset.indices=50', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}'
    ]
    return run_train_tool(
        osp.join(REPO, STUDENT),
        work_dir,
        *flags,
        options=options,
        python_args=['-c', FULL_DISK] if full_disk else (),
        timeout=900)


@needs_fashion_mnist
def test_a_full_disk_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    work, data = tmp_path / 'work', tmp_path / 'fashion-mnist'
    keep_one = ['default_hooks.checkpoint.max_keep_ckpts=1']
    code, out = train_student(
        work,
        data,
        options=['train_cfg.max_epochs=3', *keep_one],
        full_disk=True)
    assert code == 2, out[-3000:]
    errors = [line for line in out.splitlines() if 'mmtst: error:' in line]
    assert len(errors) == 1 and 'Traceback' not in out
    assert ('CheckpointWriteError: could not write checkpoint epoch_2.pth in '
            f'{work}: No space left on device; {work}/epoch_1.pth is still '
            'good') in errors[0]
    # with max_keep_ckpts=1 mmengine would already have deleted epoch_1
    assert osp.isfile(work / 'epoch_1.pth')
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip() == str(work / 'epoch_1.pth')
    # and the run goes on from it once the disk has room again
    code, out = train_student(
        work,
        data,
        flags=['--resume'],
        options=['train_cfg.max_epochs=2', *keep_one])
    assert code == 0, out[-3000:]
    assert 'resumed epoch: 1' in out
    assert osp.isfile(work / 'epoch_2.pth')
    assert not osp.exists(work / 'epoch_1.pth')  # max_keep_ckpts=1 again


@needs_fashion_mnist
def test_auto_resume_goes_on_from_the_last_good_checkpoint(tmp_path):
    work, data = tmp_path / 'work', tmp_path / 'fashion-mnist'
    keep_two = ['default_hooks.checkpoint.max_keep_ckpts=2']
    code, out = train_student(
        work, data, options=['train_cfg.max_epochs=2', *keep_two])
    assert code == 0, out[-3000:]
    truncate(work / 'epoch_2.pth')
    code, out = train_student(
        work,
        data,
        flags=['--resume'],
        options=['train_cfg.max_epochs=3', *keep_two])
    assert code == 0, out[-3000:]
    assert 'epoch_2.pth is unreadable' in out and 'resumed epoch: 1' in out
    assert osp.isfile(work / 'epoch_3.pth')
