"""Make an editable install of mmtst findable where OpenMMLab's tools look.

``pip install -e .`` (PEP 660, as tools/setup_env.sh installs mmtst) puts
an import hook and mmtst's dist-info into site-packages, but no ``mmtst``
folder. mmengine (``_base_ = 'mmtst::...'``) and mim (``mim search
mmtst``) both look for the package in ``<the folder of its
dist-info>/mmtst`` and so fail in that install, with ``FileNotFoundError:
.../site-packages/mmtst/.mim/model-index.yml``. The old ``setup.py
develop`` mode, which OpenMMLab's repositories relied on, is gone from
setuptools. This links ``<site-packages>/mmtst`` to the checkout's
``mmtst/`` package (whose ``.mim`` links to configs/, tools/ and
model-index.yml), which is what both look up.

Usage::

    python tools/link_editable_install.py [SITE_PACKAGES]

SITE_PACKAGES defaults to the running interpreter's. A real (non-editable)
install there is left alone.
"""
import os
import os.path as osp
import sys
import sysconfig

PACKAGE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmtst')


def link_package(site_packages: str) -> str:
    """Link ``site_packages/mmtst`` to this checkout's package; return what
    was done, in words."""
    link = osp.join(site_packages, 'mmtst')
    if osp.isdir(link) and not osp.islink(link):
        return f'kept the installed package {link}'
    if osp.islink(link):
        os.remove(link)  # an earlier link, maybe to another checkout
    os.symlink(PACKAGE, link, target_is_directory=True)
    return f'linked {link} -> {PACKAGE}'


if __name__ == '__main__':
    site = sys.argv[1] if len(
        sys.argv) > 1 else sysconfig.get_paths()['purelib']
    print(link_package(site))
