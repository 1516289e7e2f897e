"""The classification profile (mmcv-lite, no mmdet / mmseg), simulated in
the full venv: each test runs a subprocess that imports
``tests/fixtures/lite_profile.py`` first, which makes mmdet, mmseg and
mmcv's compiled ops unimportable (a real lite venv, built by
tools/setup_env.sh classification, is tested in test_lite_venv.py).
mmtst must import, parse and build every classification config and train
a TST distiller there; a detection or segmentation config must fail with
one line naming ``make setup-full``."""
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, needs_fashion_mnist
from helpers import assert_full_profile_error, tiny_quickstart_options

FIXTURES = osp.join(REPO, 'tests', 'fixtures')
LITE = osp.join(FIXTURES, 'lite_profile.py')
# the config folders that need the full profile; everything else is
# classification (quick start, KD / DKD / TST / FunMatch on FMNIST,
# CIFAR-100, ImageNet, the fmnist-limited benchmark)
FULL_PROFILE_DIRS = ('tst/coco/', 'tst/cityscapes/', 'tst/scenes/',
                     'tst/scenes_seg/', 'kd/scenes/', 'kd/scenes_seg/',
                     'teachers/scenes/', 'teachers/scenes_seg/',
                     'students/scenes/', 'students/scenes_seg/')
TST_QUICKSTART = 'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py'

# imports mmtst, loads every config, then builds the TST quick start
# distiller from its config and trains it for two student iterations and
# one augmenter step on random 28x28 images; prints a JSON summary
SCRIPT = textwrap.dedent('''
    import glob, json, os.path as osp, sys, tempfile
    import lite_profile  # noqa: F401  (first: blocks mmdet, mmseg, mmcv._ext)
    import torch
    import mmtst, mmtst.apis, mmtst.datasets, mmtst.engine, mmtst.evaluation
    import mmtst.models, mmtst.visualization
    from mmtst.utils.profiles import FullProfileRequired, load_config
    repo, full_dirs = sys.argv[1], tuple(sys.argv[2].split(','))
    lazy = ('detection_distiller', 'segmentation_distiller', 'scenes',
            'task_adapters', 'inverted_losses', 'pixel_kl')
    # (lite_profile leaves None entries for the modules it blocks)
    out = dict(loaded=sorted(m for m, mod in sys.modules.items()
                             if mod is not None
                             and m.split('.')[0] in ('mmdet', 'mmseg')
                             or m.startswith('mmcv.ops')
                             or (m.startswith('mmtst')
                                 and any(k in m for k in lazy))))

    # every config: classification ones load, det / seg ones raise
    loaded, refused, wrong = 0, 0, []
    root = osp.join(repo, 'configs')
    paths = glob.glob(osp.join(root, '**', '*.py'), recursive=True)
    for path in sorted(paths):
        rel = osp.relpath(path, root)
        if rel.startswith('_base_/') or osp.basename(rel).startswith('_base_'):
            continue
        try:
            load_config(path)
            loaded += 1
            ok = not rel.startswith(full_dirs)
        except FullProfileRequired as err:
            refused += 1
            ok = rel.startswith(full_dirs) and 'make setup-full' in str(err)
        if not ok:
            wrong.append(rel)
    out.update(configs_loaded=loaded, configs_refused=refused, wrong=wrong)

    # building a detection part directly: the same one-line error
    from mmengine.registry import init_default_scope
    from mmtst.registry import DATASETS, MODELS
    for registry, name in ((MODELS, 'mmtst.DetectionDistiller'),
                           (MODELS, 'mmtst.SegmentationDistiller'),
                           (DATASETS, 'mmtst.FashionMNISTScenes')):
        try:
            registry.get(name)
            out[name] = 'no error'
        except FullProfileRequired as err:
            out[name] = str(err)

    # the TST quick start distiller, built from its config, trains
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.structures import DataSample
    cfg = load_config(osp.join(repo, sys.argv[3]))
    init_default_scope(cfg.default_scope)
    teacher = MODELS.build(cfg.model.teacher)
    ckpt = osp.join(tempfile.mkdtemp(), 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg.model.teacher_ckpt = ckpt
    model = MODELS.build(cfg.model)
    model.train()
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    torch.manual_seed(0)
    batch = dict(
        inputs=[torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8)
                for _ in range(8)],
        data_samples=[DataSample().set_gt_label(i % 10) for i in range(8)])
    logs = [model.augmenter_step(batch, wrappers)]
    logs += [model.train_step(batch, wrappers) for _ in range(2)]
    out['losses'] = [float(log['loss']) for log in logs[1:]]
    out['augmenter_keys'] = sorted(logs[0])
    print('RESULT ' + json.dumps(out))
''')


def run_lite(args, timeout=600):
    """Run ``python ARGS`` from the repository with the blocker importable;
    warnings off, so that stderr holds only what mmtst prints."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([REPO, FIXTURES]),
        OMP_NUM_THREADS='2')
    env.pop('MMTST_DEBUG', None)
    return subprocess.run([sys.executable, '-W', 'ignore', *args],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


def test_classification_profile_imports_loads_and_trains():
    proc = run_lite(
        ['-c', SCRIPT, REPO, ','.join(FULL_PROFILE_DIRS), TST_QUICKSTART])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
    out = json.loads(line[-1][len('RESULT '):])
    # nothing of the full profile, nor mmtst's det / seg parts, was imported
    assert out['loaded'] == []
    assert out['wrong'] == [], 'configs in the wrong profile'
    assert out['configs_loaded'] > 50 and out['configs_refused'] >= 10
    for name in ('mmtst.DetectionDistiller', 'mmtst.SegmentationDistiller',
                 'mmtst.FashionMNISTScenes'):
        assert 'make setup-full' in out[name], out[name]
        assert name in out[name] and '\n' not in out[name]
    assert all(loss == loss and abs(loss) < 1e4 for loss in out['losses'])
    assert 'augmenter.loss_teacher_ce' in out['augmenter_keys']


@pytest.mark.parametrize('tool,config', [
    ('tools/train.py',
     'configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_'
     'scenes.py'),
    ('tools/test.py',
     'configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_scenes-'
     'seg.py'),
])
def test_det_seg_config_is_one_line_naming_the_command(tool, config, tmp_path):
    args = [LITE, osp.join(REPO, tool), osp.join(REPO, config)]
    args += ['--work-dir', str(tmp_path)] if tool.endswith('train.py') else [
        str(tmp_path / 'none.pth'), '--work-dir',
        str(tmp_path)
    ]
    proc = run_lite(args, timeout=300)
    assert_full_profile_error(proc, config)


@needs_fashion_mnist
def test_quickstart_tst_config_trains_through_the_runner(tmp_path):
    """tools/train.py, Runner, TST loop and data pipeline, all under the
    blocker: one augmenter pass and one short student epoch."""
    small = tiny_quickstart_options(tmp_path / 'fashion-mnist')
    proc = run_lite([
        LITE,
        osp.join(REPO, 'tools/train.py'),
        osp.join(REPO, TST_QUICKSTART), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *small
    ])
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert 'Epoch(train) [1][4/4]' in output
    assert 'accuracy/top1' in output
