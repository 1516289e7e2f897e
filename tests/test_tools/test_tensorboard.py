"""TensorBoard logging (issue #14): TensorboardVisBackend imports with the
installed stack, a child config's backends reach the visualizer, and a
TST run writes the augmenter's policy to the events file."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from mmengine.config import Config
from test_train_e2e import SMALL, run_tool

TST_CONFIG = osp.join(
    REPO, 'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py')
BACKENDS = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]


def backend_types(cfg):
    return [b['type'] for b in cfg.visualizer.vis_backends]


def child_config(tmp_path, body):
    path = tmp_path / 'child.py'
    path.write_text(f'_base_ = [{TST_CONFIG!r}]\n{body}\n')
    return str(path)


@pytest.mark.parametrize(
    'body',
    [
        # the form the README documents
        f'visualizer = dict(vis_backends={BACKENDS!r})',
        # the top-level list of the _base_ runtimes, overridden in the child
        f'vis_backends = {BACKENDS!r}',
    ])
def test_child_config_backends_reach_visualizer(tmp_path, body):
    from mmtst.apis.train_setup import prepare_config
    path = child_config(tmp_path, body)
    cfg = prepare_config(
        Config.fromfile(path), path, work_dir=str(tmp_path / 'work'))
    assert backend_types(cfg) == ['LocalVisBackend', 'TensorboardVisBackend']


def test_base_configs_keep_their_backends(tmp_path):
    from mmtst.apis.train_setup import prepare_config
    cfg = prepare_config(
        Config.fromfile(TST_CONFIG),
        TST_CONFIG,
        work_dir=str(tmp_path / 'work'))
    assert backend_types(cfg) == ['LocalVisBackend']
    # a changed visualizer wins over the base's top-level list
    path = child_config(
        tmp_path,
        "visualizer = dict(vis_backends=[dict(type='TensorboardVisBackend')])")
    cfg = prepare_config(
        Config.fromfile(path), path, work_dir=str(tmp_path / 'work'))
    assert backend_types(cfg) == ['TensorboardVisBackend']


def test_tensorboard_backend_builds(tmp_path):
    from mmengine.registry import VISBACKENDS
    backend = VISBACKENDS.build(
        dict(type='TensorboardVisBackend', save_dir=str(tmp_path)))
    backend.add_scalars({'a': 1.0}, step=0)  # imports tensorboard lazily
    backend.close()
    assert glob.glob(
        str(tmp_path / '**' / 'events.out.tfevents.*'), recursive=True)


@needs_fashion_mnist
def test_tst_run_logs_policy_to_tensorboard(tmp_path):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator

    import mmtst.models  # noqa: F401  (registers mmtst.CifarResNet)

    # an untrained teacher of the config's architecture
    init_default_scope('mmpretrain')
    teacher = MODELS.build(Config.fromfile(TST_CONFIG).model.teacher)
    teacher_ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)

    config = child_config(tmp_path, f'vis_backends = {BACKENDS!r}')
    data_root, work_dir = tmp_path / 'fashion-mnist', tmp_path / 'work'
    _, out = run_tool(
        osp.join(REPO, 'tools/train.py'), config, '--work-dir', str(work_dir),
        '--cfg-options', *SMALL,
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'model.teacher_ckpt={teacher_ckpt}', 'train_cfg.max_epochs=1',
        'train_cfg.phases_at_epochs=[0]', 'train_cfg.passes_per_phase=1')
    assert 'TST augmenter phase at epoch 0, pass 1/1' in out
    assert 'using it for visualizer.vis_backends' in out

    events = glob.glob(
        str(work_dir / '**' / 'events.out.tfevents.*'), recursive=True)
    assert events, f'no TensorBoard events file under {work_dir}'
    tags = set()
    for path in events:
        acc = EventAccumulator(path)
        acc.Reload()
        tags.update(acc.Tags()['scalars'])
    assert any(t.startswith('augmenter.p_') for t in tags), sorted(tags)
    assert any(t.startswith('augmenter.m_') for t in tags), sorted(tags)
    assert 'augmenter.loss' in tags and 'loss' in tags, sorted(tags)
