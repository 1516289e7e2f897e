"""One of two gloo (CPU) ranks of a distributed run is lost: the run ends
in bounded time with one line naming what happened and the checkpoint to
resume from, and ``--resume auto`` continues from that checkpoint.

* killed (SIGKILL) under ``tools/dist_train.sh`` (torchrun): the launcher
  exits within seconds with one line instead of torchrun's
  ``ChildFailedError`` traceback; the same command with ``--resume auto``
  resumes from the checkpoint named and finishes;
* frozen (SIGSTOP, as a peer on a lost node looks) with the two ranks
  started on their own (no torchrun agent that would notice): the other
  rank waits only for ``env_cfg.dist_cfg.timeout`` instead of torch's 30
  minutes, then stops with one line.

Before mmtst handled this, the first printed gloo's raw error and a page of
torchrun traceback and named no checkpoint, and the second waited 30
minutes.
"""
import os
import os.path as osp
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import pytest
from conftest import REPO, needs_fashion_mnist

CONFIG = osp.join(
    REPO, 'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py')
#: how long the launcher / the surviving rank may take to exit
KILLED_BOUND_S = 90
# long enough for two ranks starting on a busy machine to meet
FROZEN_TIMEOUT_S = 20
FROZEN_BOUND_S = 75
CHECKPOINT = re.compile(r'continue from the last checkpoint \((\S+)\)')


def small_options(data_root, max_epochs):
    """A KD run with a random teacher: 64 training images in batches of 8
    (4 iterations per epoch on each of two ranks), a checkpoint per epoch,
    single-process loaders."""
    return [
        'model.teacher_ckpt=None',
        'model.allow_random_teacher=True',
        f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.indices=64',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'val_dataloader.dataset.data_root={data_root}',
        'val_dataloader.dataset.indices=32',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_cfg.max_epochs={max_epochs}',
        f'train_cfg.val_interval={max_epochs}',
        'default_hooks.logger.interval=2',
    ]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def processes_of(marker, rank=None):
    """The pids of the processes started by this test (their environment
    holds ``marker``), only those of ``rank`` if given."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        if f'MMTST_TEST_RUN={marker}'.encode() not in env:
            continue
        if rank is None or f'RANK={rank}'.encode() in env:
            found.append(int(pid))
    return found


def kill_all(marker):
    for pid in processes_of(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def wait_for(predicate, timeout, proc=None):
    """Poll ``predicate`` until it holds; False after ``timeout`` seconds
    or once ``proc`` has exited."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def env_for(marker, **extra):
    env = dict(
        os.environ,
        PYTHONPATH=REPO,
        OMP_NUM_THREADS='1',
        MMTST_TEST_RUN=marker,
        PYTHON=sys.executable,
        **extra)
    env.pop('MMTST_DEBUG', None)
    return env


def error_lines(output):
    return [
        line for line in output.splitlines()
        if line.startswith('mmtst: error:')
    ]


@pytest.fixture
def data_root(tmp_path):
    from mmtst.datasets import prepare_fashion_mnist
    return prepare_fashion_mnist(str(tmp_path / 'fashion-mnist'))


@needs_fashion_mnist
def test_killed_rank_ends_the_run_in_one_line_and_it_resumes(
        tmp_path, data_root):
    work_dir = tmp_path / 'work'
    marker = uuid.uuid4().hex
    command = [
        'bash',
        osp.join(REPO, 'tools/dist_train.sh'), CONFIG, '2', '--work-dir',
        str(work_dir), '--cfg-options', *small_options(data_root, 4)
    ]
    log = tmp_path / 'launcher.log'
    with open(log, 'w') as out:
        # to a file: a pipe nobody reads while the run trains fills up
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env_for(marker, PORT=str(free_port())),
            stdout=out,
            stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: osp.exists(work_dir / 'epoch_1.pth'), 300,
                        proc), 'no first checkpoint: ' + log.read_text()
        rank1 = processes_of(marker, rank=1)
        assert len(rank1) == 1, rank1
        os.kill(rank1[0], signal.SIGKILL)
        killed_at = time.monotonic()
        try:
            proc.wait(timeout=KILLED_BOUND_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f'the launcher still runs {KILLED_BOUND_S} s after '
                        'rank 1 was killed')
        exit_s = time.monotonic() - killed_at
        outlived = processes_of(marker)
    finally:
        kill_all(marker)
        proc.wait()
    output = log.read_text()
    print(f'launcher exited {exit_s:.1f} s after rank 1 was killed')
    assert proc.returncode == 1, output[-3000:]
    assert not outlived, 'a rank outlived the launcher'
    # torchrun's page-long report is replaced by one line
    assert 'Traceback' not in output and 'ChildFailedError' not in output, \
        output[-3000:]
    launcher = [
        line for line in error_lines(output)
        if 'distributed training failed' in line
    ]
    assert len(launcher) == 1, output[-3000:]
    line = launcher[0]
    assert f'rank 1 (pid {rank1[0]}) was killed by SIGKILL' in line, line
    assert '--resume auto' in line, line
    # rank 0 may have stopped before the launcher stopped it: then it
    # printed one line of its own, not gloo's raw error
    for other in error_lines(output):
        assert other == line or 'lost contact with another rank' in other, \
            other
    assert 'GLHF' not in output
    checkpoint = CHECKPOINT.search(line).group(1)
    assert osp.dirname(checkpoint) == str(work_dir)
    from mmtst.utils import load_checkpoint_file
    epoch = load_checkpoint_file(checkpoint)['meta']['epoch']
    assert osp.basename(checkpoint) == f'epoch_{epoch}.pth'
    assert epoch < 4, 'the run ended before rank 1 was killed'

    # the same command with --resume auto continues from that checkpoint
    resumed = subprocess.run(
        command[:6] + ['--resume', 'auto'] + command[6:],
        cwd=REPO,
        env=env_for(marker, PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=300)
    kill_all(marker)
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-3000:]
    assert f'Load checkpoint from {checkpoint}' in output
    assert f'resumed epoch: {epoch}, iter:' in output
    assert osp.exists(work_dir / 'epoch_4.pth')
    assert not [f for f in os.listdir(work_dir) if f.endswith('.partial')]


@needs_fashion_mnist
def test_frozen_rank_times_out_in_one_line(tmp_path, data_root):
    """Two ranks started on their own, as on two nodes: no launcher sees
    the frozen one, so only the collective timeout ends the other."""
    work_dir = tmp_path / 'work'
    marker = uuid.uuid4().hex
    port = str(free_port())
    ranks = []
    logs = [tmp_path / 'rank0.log', tmp_path / 'rank1.log']
    files = [open(log, 'w') for log in logs]
    try:
        for rank in (0, 1):
            env = env_for(
                marker,
                RANK=str(rank),
                LOCAL_RANK=str(rank),
                WORLD_SIZE='2',
                MASTER_ADDR='127.0.0.1',
                MASTER_PORT=port)
            ranks.append(
                subprocess.Popen([
                    sys.executable,
                    osp.join(REPO, 'tools/train.py'), CONFIG, '--launcher',
                    'pytorch', '--work-dir',
                    str(work_dir), '--cfg-options',
                    *small_options(data_root, 30),
                    f'env_cfg.dist_cfg.timeout={FROZEN_TIMEOUT_S}'
                ],
                                 cwd=REPO,
                                 env=env,
                                 stdout=files[rank],
                                 stderr=subprocess.STDOUT))
        assert wait_for(lambda: osp.exists(work_dir / 'epoch_1.pth'), 300,
                        ranks[0]), logs[0].read_text()[-3000:]
        ranks[1].send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            ranks[0].wait(timeout=FROZEN_BOUND_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f'rank 0 still runs {FROZEN_BOUND_S} s after rank 1 '
                        'froze')
        exit_s = time.monotonic() - stopped_at
    finally:
        kill_all(marker)
        for proc in ranks:
            proc.wait()
        for file in files:
            file.close()
    output = logs[0].read_text()
    print(f'rank 0 exited {exit_s:.1f} s after rank 1 froze')
    assert exit_s >= FROZEN_TIMEOUT_S - 1
    assert ranks[0].returncode == 2, output[-3000:]
    assert 'Traceback' not in output, output[-3000:]
    lines = error_lines(output)
    assert len(lines) == 1, output[-3000:]
    assert lines[0].startswith(
        'mmtst: error: rank 0 of 2 lost contact with another rank'), lines
    assert f'(no answer for {FROZEN_TIMEOUT_S} s)' in lines[0], lines
    checkpoint = CHECKPOINT.search(lines[0]).group(1)
    assert osp.dirname(checkpoint) == str(work_dir)
    assert re.fullmatch(r'epoch_\d+\.pth', osp.basename(checkpoint))


# the pieces, without processes (imported here: the end-to-end tests
# above also run, and fail, on a checkout without mmtst's handling)


def failure(pid, exitcode, timestamp=0):
    return SimpleNamespace(pid=pid, exitcode=exitcode, timestamp=timestamp)


def test_launcher_line_names_the_rank_killed_not_the_ones_it_stopped(tmp_path):
    from mmtst.apis.dist_failures import launch_failure_message
    (tmp_path / 'epoch_3.pth').write_bytes(b'legacy-format file')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    line = launch_failure_message(
        {
            0: failure(10, -signal.SIGTERM),
            1: failure(11, -signal.SIGKILL, 1)
        }, str(tmp_path))
    assert 'rank 1 (pid 11) was killed by SIGKILL' in line
    assert f'({tmp_path / "epoch_3.pth"})' in line and '--resume auto' in line
    line = launch_failure_message(
        {
            0: failure(10, 2),
            1: failure(11, -signal.SIGTERM)
        }, str(tmp_path / 'none'))
    assert 'rank 0 (pid 10) stopped with exit code 2' in line
    assert 'if rank 0 wrote one, else it starts afresh' in line


def test_lost_peer_errors_are_told_apart(monkeypatch):
    from mmtst.apis.dist_failures import lost_peer_reason
    gloo = ('[gloo/transport/tcp/pair.cc:545] Read error [127.0.0.1]:60340:'
            ' Connection reset by peer. GLHF!')
    timeout = ('[gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting '
               '10000ms for recv operation to complete')
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert lost_peer_reason(RuntimeError(gloo)) == 'connection reset by peer'
    assert lost_peer_reason(RuntimeError(timeout)) == 'no answer for 10 s'
    assert lost_peer_reason(RuntimeError('shape mismatch')) is None
    # not from torch.distributed: a download, say
    assert lost_peer_reason(ConnectionRefusedError(
        111, 'Connection refused')) is None
    monkeypatch.setenv('WORLD_SIZE', '1')
    assert lost_peer_reason(RuntimeError(gloo)) is None


def test_gloo_timeout_and_work_dir():
    from mmtst.apis.dist_failures import (DEFAULT_GLOO_TIMEOUT_S, gloo_timeout,
                                          work_dir_of)
    assert gloo_timeout({}) == DEFAULT_GLOO_TIMEOUT_S
    assert gloo_timeout({'timeout': 15}) == 15
    with pytest.raises(ValueError, match='positive number of seconds'):
        gloo_timeout({'timeout': 0})
    assert work_dir_of(['tools/train.py', 'a/cfg.py', '--work-dir',
                        'w']) == 'w'
    assert work_dir_of(['tools/train.py', 'a/cfg.py']) == 'work_dirs/cfg'
