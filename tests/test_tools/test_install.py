"""An installed copy of mmtst serves its configs to mmengine as
``mmtst::<folder>/<config>.py``, like mmdet / mmseg / mmpretrain: setup.py
puts configs/, tools/ and model-index.yml in mmtst/.mim, as copies in what
gets installed, whichever tree the build runs in."""
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
                "['mmtst::quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py']\\n"
                "model = dict("
                "student=dict(backbone=dict(arch='resnet14')))\\n")
    cfg = Config.fromfile(child)
    print(cfg.model.type, cfg.model.student.backbone.arch,
          cfg.model.teacher.backbone.arch)
''')

MIM_ITEMS = ('configs', 'tools', 'benchmarks', 'model-index.yml')


def copy_checkout(dest):
    """A copy of the checkout to build in: setup.py rewrites mmtst/.mim in
    the tree it runs in."""
    shutil.copytree(
        REPO,
        dest,
        ignore=shutil.ignore_patterns('.git', '.venv', 'work_dirs', 'data',
                                      'build', '*.egg-info', '.mim',
                                      '__pycache__', 'checkpoints'))
    return dest


def pip_install(*args, cwd):
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
        '--no-build-isolation', '--no-index', *map(str, args)
    ],
                   check=True,
                   capture_output=True,
                   cwd=cwd,
                   timeout=300)


def assert_installed_copies(target, source):
    """target/mmtst/.mim holds real files equal to the source's items."""
    mim_dir = target / 'mmtst' / '.mim'
    for name in MIM_ITEMS:
        assert not (mim_dir / name).is_symlink(), name
    assert (mim_dir /
            'model-index.yml').read_text() == (source /
                                               'model-index.yml').read_text()
    for folder in ('configs', 'tools'):
        want = sorted(
            p.relative_to(source / folder)
            for p in (source / folder).rglob('*')
            if p.is_file() and '__pycache__' not in p.parts)
        got = sorted(
            p.relative_to(mim_dir / folder)
            for p in (mim_dir / folder).rglob('*')
            if p.is_file() and '__pycache__' not in p.parts)
        assert got == want, folder


def test_installed_copy_resolves_mmtst_config_paths(tmp_path):
    source = copy_checkout(tmp_path / 'src')
    target = tmp_path / 'site'
    pip_install('--target', target, source, cwd=tmp_path)
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


def test_build_from_an_sdist_tree_keeps_the_shipped_mim(tmp_path):
    """An sdist has configs/, tools/, benchmarks/ and model-index.yml only
    as the copies
    in mmtst/.mim (package data); a wheel built from it must keep them
    (setup.py used to delete them when the top-level items were absent)."""
    checkout = copy_checkout(tmp_path / 'checkout')
    # any setup.py run of a non-editable kind fills .mim with copies
    subprocess.run([sys.executable, 'setup.py', '--version'],
                   check=True,
                   capture_output=True,
                   cwd=checkout,
                   timeout=300)
    sdist_like = tmp_path / 'sdist'
    shutil.copytree(checkout, sdist_like)
    shutil.rmtree(sdist_like / 'configs')
    shutil.rmtree(sdist_like / 'tools')
    shutil.rmtree(sdist_like / 'benchmarks')
    (sdist_like / 'model-index.yml').unlink()
    target = tmp_path / 'site'
    pip_install('--target', target, sdist_like, cwd=tmp_path)
    assert_installed_copies(target, checkout)


def test_regular_build_keeps_the_develop_links(tmp_path):
    """A wheel built in a checkout that has an editable install gets real
    files, and the checkout keeps its links: replacing them by copies
    would leave the editable install serving stale configs."""
    source = copy_checkout(tmp_path / 'src')
    pip_install('--target', tmp_path / 'editable', '-e', source, cwd=tmp_path)
    mim_dir = source / 'mmtst' / '.mim'
    links = {name: os.readlink(mim_dir / name) for name in MIM_ITEMS}
    target = tmp_path / 'site'
    pip_install('--target', target, source, cwd=tmp_path)
    assert {
        name: os.readlink(mim_dir / name)
        for name in MIM_ITEMS if (mim_dir / name).is_symlink()
    } == links
    assert_installed_copies(target, source)
