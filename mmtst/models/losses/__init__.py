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
from .channel_wise_divergence import ChannelWiseDivergence  # noqa: E402
from .pixel_kl import PixelWiseKL  # noqa: E402

__all__ += ['ChannelWiseDivergence', 'PixelWiseKL']
