"""A killed training process leaves no data-loader worker behind.

Seen before the fix, and by this test: after ``kill -9`` of
``tools/train.py`` in its second epoch, with the quick start's loaders
(``num_workers=2, persistent_workers=True``, validation on the 10k test
images in batches of 500), the two validation workers lived on, asleep,
until killed by hand.
:class:`mmtst.engine.AtomicCheckpointRunner` now ties every loader's
workers to the process (``PR_SET_PDEATHSIG``,
:mod:`mmtst.engine.runner.worker_lifetime`)."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, needs_fashion_mnist

pytestmark = [
    needs_fashion_mnist,
    pytest.mark.skipif(
        not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG')
]


def children_of(pid):
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for task in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{task}/children') as f:
            found += [int(child) for child in f.read().split()]
    return found


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_killed_run_leaves_no_loader_worker(tmp_path):
    work_dir = tmp_path / 'run'
    options = [
        'train_dataloader.dataset.indices=256',
        'train_dataloader.batch_size=32', 'train_cfg.max_epochs=100',
        'default_hooks.logger.interval=4'
    ]
    for split in ('train', 'val'):
        options += [
            f'{split}_dataloader.num_workers=2',
            f'{split}_dataloader.persistent_workers=True',
            f'{split}_dataloader.dataset.data_root={tmp_path / "data"}'
        ]
    proc = subprocess.Popen([
        sys.executable,
        osp.join(REPO, 'tools/train.py'),
        osp.join(REPO, 'configs/quickstart/resnet8_1xb128-4e_fmnist.py'),
        '--work-dir',
        str(work_dir), '--cfg-options', *options
    ],
                            cwd=REPO,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers = []
    try:
        # after the first validation (the 10k test images in batches of
        # 500, as the quick start validates) both loaders' persistent
        # workers run; killed in the second training epoch
        assert wait_for(
            lambda: proc.poll() is None and osp.exists(
                work_dir / 'epoch_1.pth'), 300), 'no first checkpoint'
        time.sleep(3)
        workers = children_of(proc.pid)
        assert len(workers) == 4, workers  # 2 training + 2 validation
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gone = wait_for(lambda: not any(alive(w) for w in workers), 20)
        left = [w for w in workers if alive(w)]
        assert gone, f'workers still alive 20 s after the kill: {left}'
    finally:
        if proc.poll() is None:
            proc.kill()
        for worker in workers:
            if alive(worker):
                os.kill(worker, signal.SIGKILL)
