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


def add_mim_extension():
    """Expose configs/ and tools/ as ``mmtst/.mim`` like other OpenMMLab
    packages, so an installed copy resolves ``mmtst::`` config paths.

    Editable installs get symlinks; regular installs get copies.
    """
    mode = 'symlink' if ('develop' in sys.argv
                         or 'editable_wheel' in sys.argv) else 'copy'
    mim_path = osp.join(HERE, 'mmtst', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if not osp.exists(src):
            continue
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
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
                '.mim/configs/**/*', '.mim/tools/**/*', '.mim/model-index.yml',
                'models/augmenters/weights/*.pth'
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
