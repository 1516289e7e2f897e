from .dkd_loss import DKDLoss
from .kd_loss import KDLoss
from .kl_divergence import KLDivergence
from .tst_augment_loss import TSTAugmentLoss

__all__ = ['KDLoss', 'DKDLoss', 'KLDivergence', 'TSTAugmentLoss']
