"""Losses. Those of detection / segmentation distillation (inverted task
losses, pixel-wise KL, channel-wise divergence) are imported on first
access: plain torch, but a classification run has no use for them."""
from mmtst.utils.profiles import lazy_getattr
from .dkd_loss import DKDLoss
from .kd_loss import KDLoss
from .kl_divergence import KLDivergence
from .tst_augment_loss import TSTAugmentLoss

# attribute -> module defining it, imported on first access
LAZY = dict(
    {
        name: '.inverted_losses'
        for name in ('InvertedSoftmaxCrossEntropy',
                     'SwappedSigmoidCrossEntropy', 'SwappedFocalLoss',
                     'NegatedLoss', 'invert_loss', 'inverted_task_losses')
    },
    ChannelWiseDivergence='.channel_wise_divergence',
    PixelWiseKL='.pixel_kl')
__getattr__ = lazy_getattr(__name__, LAZY)

# eager names only: `from .losses import *` must not import the lazy ones
__all__ = ['KDLoss', 'DKDLoss', 'KLDivergence', 'TSTAugmentLoss']
