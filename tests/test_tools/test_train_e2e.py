"""End to end through the command-line tools on real Fashion-MNIST data:
train a teacher, distil it (KD and TST), resume, test, export the student
and load it with mmpretrain's own API."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, needs_fashion_mnist

pytestmark = needs_fashion_mnist

SMALL = [
    'train_dataloader.dataset.indices=256',
    'train_dataloader.batch_size=32',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=200',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.dataset.indices=200',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'default_hooks.logger.interval=2',
]


def run_tool(*args, expect_ok=True):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='2')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run([sys.executable, *args],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    output = proc.stdout + proc.stderr
    if expect_ok:
        assert proc.returncode == 0, output[-4000:]
    return proc.returncode, output


def train(config, work_dir, data_root, *extra, expect_ok=True):
    return run_tool(
        osp.join(REPO, 'tools/train.py'),
        osp.join(REPO, config),
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *SMALL,
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        *extra,
        expect_ok=expect_ok)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Train a teacher for one short epoch and export its weights."""
    root = tmp_path_factory.mktemp('e2e')
    data_root = root / 'fashion-mnist'
    train('configs/quickstart/resnet20_1xb128-4e_fmnist.py', root / 'teacher',
          data_root, 'train_cfg.max_epochs=1')
    with open(root / 'teacher' / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    from mmtst.utils import extract_state_dict, load_checkpoint_file
    teacher = root / 'teacher.pth'
    torch.save(
        dict(state_dict=extract_state_dict(load_checkpoint_file(ckpt))),
        teacher)
    return dict(root=root, data_root=data_root, teacher=teacher)


def test_kd_train_resume_test_export(runs):
    root, data_root = runs['root'], runs['data_root']
    config = 'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py'
    teacher = f'model.teacher_ckpt={runs["teacher"]}'
    work_dir = root / 'kd'
    _, out = train(config, work_dir, data_root, teacher,
                   'train_cfg.max_epochs=1')
    assert 'distill.loss_kd' in out and 'accuracy/top1' in out
    assert osp.isfile(work_dir / 'epoch_1.pth')

    # --resume continues from epoch 1 with weights_only loading left on
    _, out = train(config, work_dir, data_root, teacher,
                   'train_cfg.max_epochs=2', '--resume')
    assert 'resumed' in out.lower() and 'Epoch(train) [2]' in out
    assert 'Epoch(train) [1]' not in out
    checkpoint = str(work_dir / 'epoch_2.pth')

    # tools/test.py evaluates the student, and the teacher on request
    metrics = root / 'metrics.json'
    _, out = run_tool(
        osp.join(REPO,
                 'tools/test.py'), osp.join(REPO,
                                            config), checkpoint, '--work-dir',
        str(root / 'test'), '--out', str(metrics), '--cfg-options', *SMALL,
        f'test_dataloader.dataset.data_root={data_root}')
    assert 'accuracy/top1' in metrics.read_text()
    _, out = run_tool(
        osp.join(REPO, 'tools/test.py'),
        osp.join(REPO, config), checkpoint, '--teacher', '--work-dir',
        str(root / 'test_t'), '--cfg-options', *SMALL,
        f'test_dataloader.dataset.data_root={data_root}')
    assert 'accuracy/top1' in out

    # the exported student is a plain mmpretrain model
    exported = root / 'student.pth'
    run_tool(
        osp.join(REPO, 'tools/model_converters/export_student.py'),
        osp.join(REPO, config), checkpoint, str(exported))
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.apis import init_model
    from mmpretrain.registry import MODELS

    from mmtst.utils import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    native = init_model(
        str(exported).replace('.pth', '.py'), str(exported), device='cpu')
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.teacher_ckpt = str(runs['teacher'])
    distiller = MODELS.build(cfg.model).eval()
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    distiller.load_state_dict(state)
    pixels = torch.randint(0, 256, (4, 1, 28, 28)).float()
    with torch.no_grad():
        expected = distiller(pixels, mode='tensor')
        got = native(
            native.data_preprocessor(
                dict(inputs=pixels, data_samples=None), False)['inputs'])
    assert torch.allclose(expected, got, atol=1e-5)


@pytest.mark.parametrize('backend', ['neural', 'analytic'])
def test_tst_runs_an_augmenter_phase(runs, backend):
    root, data_root = runs['root'], runs['data_root']
    _, out = train(
        'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
        root / f'tst_{backend}', data_root,
        f'model.teacher_ckpt={runs["teacher"]}',
        f'model.augmenter.backend={backend}', 'train_cfg.max_epochs=1',
        'train_cfg.phases_at_epochs=[0]')
    assert 'TST augmenter phase at epoch 0, pass 1/1' in out
    assert 'augmenter.loss_student_anti_ce' in out
    assert 'TST policy: p_Brightness=' in out
    assert 'distill.loss_kd' in out and 'tst.teacher_acc_aug' in out


def test_missing_teacher_ckpt_is_one_clear_line(runs):
    code, out = train(
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py',
        runs['root'] / 'bad',
        runs['data_root'],
        'model.teacher_ckpt=/nowhere/teacher.pth',
        expect_ok=False)
    assert code == 2
    assert 'mmtst: error:' in out and 'teacher_ckpt not found' in out
    assert 'Traceback' not in out


def test_config_typo_suggests_the_argument(runs):
    code, out = train(
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py',
        runs['root'] / 'typo',
        runs['data_root'],
        'model.teacher_ckp=x.pth',
        expect_ok=False)
    assert code == 2 and 'Did you mean `teacher_ckpt`' in out
    assert 'Traceback' not in out


def test_registry_type_typo_suggests_the_registered_name(runs):
    code, out = train(
        'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py',
        runs['root'] / 'type_typo',
        runs['data_root'],
        f'model.teacher_ckpt={runs["teacher"]}',
        'model.distill_loss.type=KDLos',
        expect_ok=False)
    assert code == 2 and "Did you mean 'KDLoss'" in out
    assert 'Traceback' not in out
