from .dkd_loss import DKDLoss
from .kd_loss import KDLoss
from .kl_divergence import KLDivergence
from .tst_augment_loss import TSTAugmentLoss

__all__ = ['KDLoss', 'DKDLoss', 'KLDivergence', 'TSTAugmentLoss']
from .inverted_losses import (InvertedSoftmaxCrossEntropy, NegatedLoss,
                              SwappedFocalLoss, SwappedSigmoidCrossEntropy,
                              invert_loss, inverted_task_losses)

__all__ += ['InvertedSoftmaxCrossEntropy', 'SwappedSigmoidCrossEntropy',
            'SwappedFocalLoss', 'NegatedLoss', 'invert_loss',
            'inverted_task_losses']
