"""Two processes (gloo, CPU) train TST through an augmenter phase and end
with identical student and augmenter parameters."""
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import torch
from conftest import REPO, needs_fashion_mnist

SCRIPT = textwrap.dedent('''
    import os, sys
    import torch
    sys.path.insert(0, {repo!r})
    from mmengine.config import Config
    from mmtst.apis import prepare_config
    from mmtst.engine import AtomicCheckpointRunner

    config = {config!r}
    cfg = prepare_config(Config.fromfile(config), config,
                         work_dir={work_dir!r}, launcher='pytorch',
                         no_validate=True, cfg_options={options!r})
    runner = AtomicCheckpointRunner.from_cfg(cfg)
    runner.train()
    model = runner.model.module
    # parameters, not buffers: with mmengine's broadcast_buffers=False each
    # rank keeps its own BN statistics (only rank 0's are saved)
    state = {{k: v.detach() for k, v in model.named_parameters()
              if k.startswith(('student.', 'augmenter.'))}}
    torch.save(state, os.path.join({out!r}, 'rank%s.pt' % os.environ['RANK']))
''')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@needs_fashion_mnist
def test_two_ranks_agree_after_tst_with_an_augmenter_phase(tmp_path):
    from mmtst.datasets import prepare_fashion_mnist
    data_root = str(tmp_path / 'fashion-mnist')
    prepare_fashion_mnist(data_root)
    options = {
        'env_cfg.dist_cfg.backend': 'gloo',
        'model.teacher_ckpt': None,
        'model.allow_random_teacher': True,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.indices': 64,
        'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': 2,
        'train_cfg.phases_at_epochs': [1],
        'default_hooks.logger.interval': 1,
    }
    script = tmp_path / 'dist_check.py'
    script.write_text(
        SCRIPT.format(
            repo=REPO,
            config=osp.join(
                REPO,
                'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py'),
            work_dir=str(tmp_path / 'work'),
            options=options,
            out=str(tmp_path)))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    proc = subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port',
        str(free_port()),
        str(script)
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert 'TST augmenter phase at epoch 1, pass 1/1' in output
    ranks = [
        torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in (0, 1)
    ]
    assert any(k.startswith('augmenter.') for k in ranks[0])
    for key, value in ranks[0].items():
        assert torch.equal(value,
                           ranks[1][key]), f'{key} differs between ranks'
    # the augmenter did learn (not trivially equal at its initial value)
    assert not torch.equal(
        ranks[0]['augmenter.probability_logits'],
        torch.zeros_like(ranks[0]['augmenter.probability_logits']))
    # only rank 0 wrote checkpoints, each complete
    files = sorted(os.listdir(tmp_path / 'work'))
    assert 'epoch_2.pth' in files and not [f for f in files if 'partial' in f]
