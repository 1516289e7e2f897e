"""Golden digests: a refactor must not move a single training number.

Each case trains a TST config for a few iterations (fixed seed, one thread,
no loader workers, a tiny fixed data subset, a random but seeded teacher)
through the same path as tools/train.py, including one augmenter phase of
a few steps, and hashes every parameter, buffer and optimiser-state tensor
at the end. The hashes are stored in tests/fixtures/golden_digests.json, one
set per platform (torch version and CPU kernel level: other kernels round
differently). A change that is meant to alter numbers updates them in a
commit of its own that says why:

    MMTST_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_digests.py

On a platform without recorded digests the cases are skipped with that
hint (CI runs on the platform the digests were recorded on).
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from mmengine.config import Config

pytestmark = needs_fashion_mnist

DIGESTS = osp.join(osp.dirname(__file__), 'fixtures', 'golden_digests.json')
UPDATE = os.environ.get('MMTST_UPDATE_GOLDEN') == '1'


def platform_key() -> str:
    capability = torch.backends.cpu.get_cpu_capability()
    return f'torch-{torch.__version__}/{capability}'


def loader_options(data_root=None):
    options = {}
    for loader in ('train', 'val', 'test'):
        options[f'{loader}_dataloader.num_workers'] = 0
        options[f'{loader}_dataloader.persistent_workers'] = False
        if data_root is not None:
            options[f'{loader}_dataloader.dataset.data_root'] = data_root + '/'
    return options


def classification_case(data_root):
    # 24 images, batch 8: 3 student iterations an epoch, 7 epochs = 21;
    # a phase before epoch 3 = 3 augmenter steps
    options = dict(
        loader_options(data_root), **{
            'train_dataloader.dataset.indices': 24,
            'train_dataloader.batch_size': 8,
            'train_cfg.max_epochs': 7,
            'train_cfg.val_interval': 100,
            'train_cfg.phases_at_epochs': [3],
            'train_cfg.passes_per_phase': 1,
            'model.teacher_ckpt': None,
            'model.allow_random_teacher': True
        })
    return options


def detection_case(data_root):
    ann = osp.join(data_root, 'annotations', 'val.json')
    # 12 scenes, batch 4: 3 iterations an epoch, 7 epochs = 21
    return dict(
        loader_options(data_root), **{
            'train_dataloader.dataset.indices': 12,
            'train_dataloader.batch_size': 4,
            'val_evaluator.ann_file': ann,
            'test_evaluator.ann_file': ann,
            'train_cfg.max_epochs': 7,
            'train_cfg.val_interval': 100,
            'train_cfg.phases_at_epochs': [3],
            'train_cfg.passes_per_phase': 1,
            'model.teacher_ckpt': None,
            'model.allow_random_teacher': True
        })


def segmentation_case(data_root):
    # an iteration-based loop: the phase at pass 0 = 3 steps, then 20
    return dict(
        loader_options(data_root), **{
            'train_dataloader.dataset.indices': 12,
            'train_dataloader.batch_size': 4,
            'train_cfg.max_iters': 20,
            'train_cfg.val_interval': 1000,
            'train_cfg.phases_at_passes': [0],
            'train_cfg.passes_per_phase': 1,
            'model.teacher_ckpt': None,
            'model.allow_random_teacher': True
        })


CASES = {
    'tst_neural_fmnist':
    ('configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
     classification_case, 'fmnist'),
    'tst_analytic_fmnist':
    ('configs/quickstart/tst-analytic_resnet20_resnet8_1xb128-4e_fmnist.py',
     classification_case, 'fmnist'),
    'tst_retinanet_scenes':
    ('configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_'
     'scenes.py', detection_case, 'scenes'),
    'tst_pspnet_scenes_seg':
    ('configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_scenes-'
     'seg.py', segmentation_case, 'scenes'),
}


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    root = tmp_path_factory.mktemp('golden')
    scenes = str(root / 'scenes')
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), scenes,
        '--train', '12', '--val', '4', '--seed', '7'
    ],
                   cwd=REPO,
                   check=True,
                   capture_output=True,
                   env=dict(os.environ, PYTHONPATH=REPO))
    return dict(fmnist=str(root / 'fashion-mnist'), scenes=scenes)


def state_digest(runner) -> str:
    """sha256 over every tensor of the model's state and of each optimiser's
    state, in a fixed order (names included)."""
    sha = hashlib.sha256()

    def feed(name, value):
        if isinstance(value, torch.Tensor):
            sha.update(name.encode())
            sha.update(value.detach().cpu().contiguous().numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                feed(f'{name}.{key}', value[key])
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                feed(f'{name}.{i}', item)
        elif isinstance(value, (int, float, bool, str)) or value is None:
            sha.update(f'{name}={value!r}'.encode())

    feed('model', runner.model.state_dict())
    feed('optim', runner.optim_wrapper.state_dict())
    return sha.hexdigest()


def train_and_digest(config, options, work_dir) -> str:
    from mmtst.apis import prepare_config
    from mmtst.engine import AtomicCheckpointRunner
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg = prepare_config(
        cfg, config, work_dir=str(work_dir), cfg_options=options)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1000)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner = AtomicCheckpointRunner.from_cfg(cfg)
        runner.train()
    finally:
        torch.set_num_threads(threads)
    return state_digest(runner)


# what importing cv2 / torch in this process adds to os.environ (cv2 puts
# its own folders on LD_LIBRARY_PATH): a child must start as a fresh shell's
INHERITED_BY_IMPORTS = ('LD_LIBRARY_PATH', 'QT_QPA_PLATFORM_PLUGIN_PATH',
                        'QT_QPA_FONTDIR', 'TORCHINDUCTOR_CACHE_DIR')


def clean_environment() -> dict:
    env = {
        k: v
        for k, v in os.environ.items() if k not in INHERITED_BY_IMPORTS
    }
    kept = [
        p for p in os.environ.get('LD_LIBRARY_PATH', '').split(':')
        if p and '/cv2/' not in p
    ]
    if kept:
        env['LD_LIBRARY_PATH'] = ':'.join(kept)
    env['PYTHONPATH'] = REPO
    return env


def digest_in_own_process(config, options, work_dir) -> str:
    """:func:`train_and_digest` in a fresh interpreter: in one pytest
    session the RetinaNet case's numbers depended on what earlier tests had
    imported (det parts are registered lazily), so each case starts from
    the same state, as a tools/train.py run does."""
    code = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
            'import test_golden_digests as golden; '
            'print("DIGEST", golden.train_and_digest('
            'sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))')
    proc = subprocess.run([
        sys.executable, '-c', code,
        osp.dirname(osp.abspath(__file__)), config,
        json.dumps(options),
        str(work_dir)
    ],
                          cwd=REPO,
                          env=clean_environment(),
                          capture_output=True,
                          text=True,
                          timeout=1800)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    [line] = [
        out for out in proc.stdout.splitlines() if out.startswith('DIGEST ')
    ]
    return line.split()[1]


@pytest.mark.parametrize('case', sorted(CASES))
def test_training_numbers_are_unchanged(case, data_roots, tmp_path):
    recorded = json.load(open(DIGESTS)) if osp.isfile(DIGESTS) else {}
    expected = recorded.get(platform_key(), {}).get(case)
    if expected is None and not UPDATE:
        pytest.skip(f'no golden digest for {case} on {platform_key()}; record '
                    'with MMTST_UPDATE_GOLDEN=1')
    config, make_options, data = CASES[case]
    # a copy per case: a run may write into its data root, and the
    # RetinaNet case's numbers depended on which case had run before it
    data_root = str(tmp_path / 'data')
    if osp.isdir(data_roots[data]):  # Fashion-MNIST is converted on use
        shutil.copytree(data_roots[data], data_root)
    digest = digest_in_own_process(config, make_options(data_root),
                                   tmp_path / 'work')
    if UPDATE:
        recorded.setdefault(platform_key(), {})[case] = digest
        os.makedirs(osp.dirname(DIGESTS), exist_ok=True)
        with open(DIGESTS, 'w') as f:
            json.dump(recorded, f, indent=2, sort_keys=True)
            f.write('\n')
        return
    assert digest == expected, (
        f'{case}: training numbers changed. If that is intended, update the '
        'digests (MMTST_UPDATE_GOLDEN=1) in a commit that says why.')


def test_the_digest_sees_a_one_ulp_change():
    """The digest is not blind: nudging one weight by one ulp changes it."""
    from types import SimpleNamespace
    model = torch.nn.Linear(3, 2)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optim.step()
    runner = SimpleNamespace(model=model, optim_wrapper=optim)
    before = state_digest(runner)
    assert state_digest(runner) == before
    with torch.no_grad():
        w = model.weight.view(-1)
        w[0] = torch.nextafter(w[0], torch.tensor(float('inf')))
    assert state_digest(runner) != before
