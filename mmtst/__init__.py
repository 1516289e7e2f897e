"""mmtst: data-based knowledge distillation for OpenMMLab (TST and
FunMatch)."""
from mmengine.config.utils import MODULE2PACKAGE

from .version import __version__

# mmengine resolves 'pkg::path' configs only for packages it lists; listing
# mmtst lets an installed copy serve `_base_ = ['mmtst::tst/...']` from its
# .mim/configs, as mmdet, mmseg and mmpretrain do.
MODULE2PACKAGE.setdefault('mmtst', 'mmtst')

__all__ = ['__version__']
