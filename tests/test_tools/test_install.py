"""An installed copy of mmtst serves its configs to mmengine as
``mmtst::<folder>/<config>.py``, like mmdet / mmseg / mmpretrain."""
import os
import shutil
import subprocess
import sys
import textwrap

from conftest import REPO

CHECK = textwrap.dedent('''
    import os, sys, tempfile
    import mmtst
    assert mmtst.__file__.startswith(sys.argv[1]), mmtst.__file__
    from mmengine.config import Config
    child = os.path.join(tempfile.mkdtemp(), 'pair.py')
    with open(child, 'w') as f:
        f.write("_base_ = "
                "['mmtst::quickstart/kd_resnet20_resnet8_fmnist.py']\\n"
                "model = dict("
                "student=dict(backbone=dict(arch='resnet14')))\\n")
    cfg = Config.fromfile(child)
    print(cfg.model.type, cfg.model.student.backbone.arch,
          cfg.model.teacher.backbone.arch)
''')


def test_installed_copy_resolves_mmtst_config_paths(tmp_path):
    # install from a copy: setup.py rewrites mmtst/.mim in the tree it runs in
    source = tmp_path / 'src'
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns('.git', '.venv', 'work_dirs', 'data',
                                      'build', '*.egg-info', '.mim',
                                      '__pycache__', 'checkpoints'))
    target = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
        '--no-build-isolation', '--no-index', '--target',
        str(target),
        str(source)
    ],
                   check=True,
                   capture_output=True,
                   cwd=tmp_path,
                   timeout=300)
    assert (target / 'mmtst' / '.mim' / 'configs' / 'quickstart').is_dir()
    assert (target / 'mmtst' / '.mim' / 'model-index.yml').is_file()
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run(
        [sys.executable, '-c', CHECK, str(target)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == [
        'mmtst.ClassificationDistiller', 'resnet14', 'resnet20'
    ]
