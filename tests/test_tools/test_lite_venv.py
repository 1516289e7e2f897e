"""The classification profile for real, not simulated: a venv built in a
temporary folder by the repository's own set-up script
(``MMTST_VENV=<tmp>/venv bash tools/setup_env.sh classification``), then,
in that venv,

* mmtst imports, mmcv is mmcv-lite, and mmdet, mmseg and mmcv._ext are
  really absent (``importlib.util.find_spec``);
* the quick start's TST config trains a few iterations through
  tools/train.py;
* a detection config fails with the one line naming ``make setup-full``.

tests/test_tools/test_profiles.py checks the same things in the full venv
with the full profile's modules blocked (tests/fixtures/lite_profile.py);
this catches what a simulation cannot: a classification requirement that
is missing, a set-up script that breaks outside ``.venv``, an import of
mmdet that only the real absence shows.

Cost: torch's CUDA build (torch, torchvision, triton and the nvidia /
cuda wheels: 5.5 GB) is not installed a second time. The new venv gets
hard links to the repository venv's copy (same files, no disk), which
tools/setup_env.sh then finds already satisfying its pins, exactly as on a
machine where torch came first; it installs the rest (mmengine,
mmpretrain, mmcv-lite and their dependencies, a few hundred MB) itself.
CI once ran out of disk building the 5.5 GB twice. Where hard links are
impossible (another file system) the build installs everything, and the
fixture first checks that the disk has room for it, skipping with the
figures when it has not. The venv is deleted afterwards. Deselect with
``-m 'not lite_venv'`` (e.g. ``make test ARGS="-m 'not lite_venv'"``);
set ``MMTST_LITE_VENV=<folder>`` to build the venv there and keep it, so
that a rerun reuses it (the script then only checks it, in seconds).
"""
import errno
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time

import pytest
from conftest import REPO, needs_fashion_mnist
from helpers import (assert_full_profile_error, load_tool,
                     tiny_quickstart_options)

pytestmark = [pytest.mark.lite_venv, pytest.mark.timeout(1800)]

SETUP_ENV = osp.join(REPO, 'tools', 'setup_env.sh')
FULL_PROFILE = ('mmdet', 'mmseg', 'mmcv._ext')


def quickstart_tst_config() -> str:
    """The quick start's TST config, as tools/quickstart.py names it (so a
    renamed config is followed)."""
    return load_tool('tools/quickstart.py').CONFIGS['tst']


def scenes_detection_config() -> str:
    """The TST RetinaNet config of the scenes detection benchmark,
    wherever configs/ keeps it."""
    found = sorted(
        glob.glob(
            osp.join(REPO, 'configs', '**', 'tst_retinanet_*_scenes.py'),
            recursive=True))
    assert found, 'no TST RetinaNet scenes config under configs/'
    return osp.relpath(found[0], REPO)


def venv_env(venv: str) -> dict:
    """The environment of a command run in ``venv``: as if it were
    activated, with nothing of the venv that runs the tests (its bin/ on
    PATH, a PYTHONPATH) leaking in; pip keeps its cache."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME', 'MMTST_DEBUG',
                     'MMTST_VENV', 'MMTST_PROFILE')
    }
    outer_bin = osp.dirname(sys.executable)
    path = [
        p for p in env.get('PATH', '').split(os.pathsep)
        if p and osp.abspath(p) != outer_bin
    ]
    env.update(
        VIRTUAL_ENV=venv,
        PATH=os.pathsep.join([osp.join(venv, 'bin')] + path),
        OMP_NUM_THREADS='2')
    return env


# torch's CUDA build: what the classification venv shares with the
# repository's venv by hard links instead of a second 5.5 GB install
SHARED_DISTS = ('torch', 'torchvision', 'triton')
SHARED_DIST_PREFIXES = ('nvidia-', 'cuda-')
# free disk the build needs, with a margin: the rest of the stack alone
# (under 1 GB: the repository venv holds 1 GB beside torch, mmdet and
# mmseg included) or everything (about 6.3 GB)
NEEDED_BYTES = dict(linked=2 << 30, full=8 << 30)


def shared_dist(name: str) -> bool:
    name = name.lower().replace('_', '-')
    return name in SHARED_DISTS or name.startswith(SHARED_DIST_PREFIXES)


def link_torch_into(venv: str) -> int:
    """Hard-link the files of torch's CUDA build installed in the venv that
    runs the tests (every file its RECORD lists under site-packages,
    dist-info included, so pip sees the distributions as installed) into
    the site-packages of ``venv``. Returns the bytes linked; 0 when the two
    are on different file systems (nothing is left half-linked then)."""
    from importlib import metadata
    purelib = sysconfig.get_paths()['purelib']
    target = osp.join(venv, osp.relpath(purelib, sys.prefix))
    pairs = []
    for dist in metadata.distributions(path=[purelib]):
        if not shared_dist(dist.metadata['Name'] or ''):
            continue
        for rel in dist.files or ():
            src = osp.normpath(osp.join(purelib, str(rel)))
            # entry-point scripts (../../../bin/torchrun): not needed
            if src.startswith(purelib + os.sep) and osp.isfile(src):
                pairs.append((src, osp.join(target, str(rel))))
    linked = 0
    try:
        for src, dst in pairs:
            os.makedirs(osp.dirname(dst), exist_ok=True)
            os.link(src, dst)
            linked += osp.getsize(src)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        for _, dst in pairs:
            if osp.lexists(dst):
                os.unlink(dst)
        return 0
    return linked


def stamp_of(venv: str) -> str:
    path = osp.join(venv, '.mmtst-setup-stamp')
    if not osp.isfile(path):
        return ''
    with open(path) as f:
        return f.read()


@pytest.fixture(scope='module')
def lite_venv():
    """Build the classification venv (or reuse ``$MMTST_LITE_VENV``); yield
    its path; delete it unless it was asked to be kept."""
    keep = os.environ.get('MMTST_LITE_VENV')
    root = None if keep else tempfile.mkdtemp(prefix='mmtst-lite-')
    venv = osp.abspath(keep) if keep else osp.join(root, 'venv')
    main_venv = osp.join(REPO, '.venv')
    main_stamp = stamp_of(main_venv)
    env = venv_env(venv)
    env.update(MMTST_VENV=venv, MMTST_SKIP_APT='1')
    # the interpreter the repository's venv was made from, not the venv's
    env.setdefault('PYTHON', getattr(sys, '_base_executable', sys.executable))
    start = time.time()
    try:
        linked = 0
        if not osp.isdir(venv):
            subprocess.run([env['PYTHON'], '-m', 'venv', venv], check=True)
            linked = link_torch_into(venv)
        need = NEEDED_BYTES['linked' if linked else 'full']
        free = shutil.disk_usage(venv).free
        if free < need and not stamp_of(venv):
            pytest.skip(f'no room to build the classification venv in '
                        f'{osp.dirname(venv)}: {free / 2**30:.1f} GB free, '
                        f'{need / 2**30:.0f} GB needed (torch hard-linked: '
                        f'{bool(linked)}); free disk or set TMPDIR')
        proc = subprocess.run(['bash', SETUP_ENV, 'classification'],
                              cwd=REPO,
                              env=env,
                              capture_output=True,
                              text=True,
                              timeout=1500)
        seconds = time.time() - start
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-6000:]
        # (shown with -s) what the build cost
        print(f'\n[test_lite_venv] classification venv set up in '
              f'{seconds:.0f}s ({linked / 2**30:.1f} GB of torch '
              f'hard-linked): {venv}')
        assert stamp_of(venv).startswith('profile=classification\n'), (
            stamp_of(venv))
        # the repository's own venv was left alone
        assert stamp_of(main_venv) == main_stamp
        yield venv
    finally:
        if root is not None:
            # rm: faster than shutil.rmtree on many thousand files
            if subprocess.run(['rm', '-rf', root]).returncode:
                shutil.rmtree(root, ignore_errors=True)


def run_in(venv, args, timeout=600):
    """``python ARGS`` in the lite venv, from the repository; warnings
    off, so that stderr holds only what mmtst prints."""
    return subprocess.run(
        [osp.join(venv, 'bin', 'python'), '-W', 'ignore', *args],
        cwd=REPO,
        env=venv_env(venv),
        capture_output=True,
        text=True,
        timeout=timeout)


PROBE = textwrap.dedent('''
    import importlib.util, json, sys
    from importlib import metadata
    import mmcv, mmengine, mmpretrain
    import mmtst, mmtst.apis, mmtst.datasets, mmtst.engine
    import mmtst.evaluation, mmtst.models, mmtst.visualization

    def absent(name):
        try:
            return importlib.util.find_spec(name) is None
        except ImportError:  # a missing parent package
            return True

    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    from mmtst.utils.profiles import missing_full_profile
    print('RESULT ' + json.dumps(dict(
        prefix=sys.prefix,
        mmtst=mmtst.__file__,
        absent={name: absent(name) for name in sys.argv[1:]},
        dists={d: version(d) for d in ('mmcv', 'mmcv-lite', 'mmdet',
                                       'mmsegmentation', 'mmpretrain')},
        missing=missing_full_profile(),
        imported=sorted(m for m in sys.modules
                        if m.split('.')[0] in ('mmdet', 'mmseg')
                        or m.startswith('mmcv._ext')))))
''')


def test_lite_venv_imports_mmtst_without_the_full_profile(lite_venv):
    proc = run_in(lite_venv, ['-c', PROBE, *FULL_PROFILE])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
    out = json.loads(line[-1][len('RESULT '):])
    assert osp.realpath(out['prefix']) == osp.realpath(lite_venv)
    # the checkout's mmtst (editable install), not a copy
    assert osp.realpath(out['mmtst']).startswith(osp.realpath(REPO))
    assert out['absent'] == {name: True for name in FULL_PROFILE}
    assert out['dists']['mmcv-lite'] == '2.1.0'
    assert out['dists']['mmpretrain'] is not None
    assert out['dists']['mmcv'] is None
    assert out['dists']['mmdet'] is None
    assert out['dists']['mmsegmentation'] is None
    assert out['missing'] == ['mmdet', 'mmseg', 'mmcv with ops']
    assert out['imported'] == []


@needs_fashion_mnist
def test_lite_venv_trains_the_quickstart_tst_config(lite_venv, tmp_path):
    """tools/train.py, the Runner, the TST loop and the data pipeline: one
    augmenter pass and a 4-iteration student epoch on 64 images."""
    small = tiny_quickstart_options(tmp_path / 'fashion-mnist')
    proc = run_in(lite_venv, [
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, quickstart_tst_config()), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *small
    ])
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert 'Epoch(train) [1][4/4]' in output
    assert 'accuracy/top1' in output


def test_lite_venv_detection_config_fails_in_one_line(lite_venv, tmp_path):
    config = scenes_detection_config()
    proc = run_in(
        lite_venv, [
            osp.join(REPO, 'tools', 'train.py'),
            osp.join(REPO, config), '--work-dir',
            str(tmp_path)
        ],
        timeout=300)
    assert_full_profile_error(proc, config)
