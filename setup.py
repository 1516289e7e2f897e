"""Install mmtst. The OpenMMLab stack is pinned in
requirements/constraints.txt; use tools/setup_env.sh (``make setup``) for
the tested environment."""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def get_version():
    scope = {}
    with open(osp.join(HERE, 'mmtst', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


# What mmtst/.mim holds: the layout mmengine (``mmtst::`` bases) and
# ``mim search`` read from an installed OpenMMLab package.
# benchmarks/: the sets and published numbers the benchmark tools read
MIM_ITEMS = ('configs', 'tools', 'benchmarks', 'model-index.yml')


def is_editable_build(argv):
    """Whether setup.py runs for an editable install: pip's PEP 660 build
    calls the ``editable_wheel`` command, older tools ``develop``."""
    return 'editable_wheel' in argv or 'develop' in argv


def _remove(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


def add_mim_extension(root=HERE, symlink=None):
    """Fill ``<root>/mmtst/.mim`` with configs/, tools/, benchmarks/ and
    model-index.yml,
    where an installed mmtst is expected to keep them.

    An editable build (``symlink=None`` decides from ``sys.argv``) links
    them, so that edits under configs/ show at once; any other build copies
    them, because a wheel holds no links. Two cases keep what is there:

    - a link that already points at the top-level item, in a non-editable
      build too: setuptools copies the files through it into the wheel,
      while replacing it by copies would leave an editable install of the
      same checkout serving stale configs;
    - an item whose top-level source is missing: a build from an sdist,
      which ships the copies inside mmtst/.mim only. Deleting them there
      gave installs from an sdist no .mim at all.
    """
    if symlink is None:
        symlink = is_editable_build(sys.argv)
    mim_dir = osp.join(root, 'mmtst', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_ITEMS:
        src = osp.join(root, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        link = osp.relpath(src, mim_dir)
        if osp.islink(dst) and os.readlink(dst) == link:
            continue
        _remove(dst)
        if symlink:
            os.symlink(link, dst)
        elif osp.isdir(src):
            shutil.copytree(
                src,
                dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmtst',
        version=get_version(),
        description='Data-based knowledge distillation (TST, FunMatch) '
        'for mmpretrain, mmdet and mmseg',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={
            'mmtst': [
                '.mim/configs/**/*', '.mim/tools/**/*', '.mim/benchmarks/**/*',
                '.mim/model-index.yml', 'models/augmenters/weights/*.pth'
            ]
        },
        python_requires='>=3.9',
        license='Apache License 2.0',
        install_requires=read_requirements('runtime'),
        extras_require={
            'all': read_requirements('optional') + read_requirements('tests'),
            'tests': read_requirements('tests'),
            'optional': read_requirements('optional'),
            'mim': read_requirements('mminstall'),
            # the classification profile: mmcv-lite, no compiled ops
            'classification': read_requirements('classification'),
        },
        zip_safe=False,
    )
