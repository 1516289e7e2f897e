"""TST's inverted pixel cross-entropy for mmseg heads.

"Teaching What You Should Teach" (Shao et al., IJCAI 2023, Sec. 3.3): in
the augmenter step the student's softmax CE becomes ``-log(1 - p_gt +
eps)`` -- low when the student gives the true class of a pixel little
probability. :func:`~mmtst.models.losses.inverted_losses.invert_loss`
picks this wrapper for mmseg's ``CrossEntropyLoss``; mmseg's decode heads
call it exactly as they call the original.
"""
import math

import torch
from torch import Tensor, nn

from .inverted_base import INVERTED_REDUCTIONS, InvertedLoss
from .utils import bounded_anti_ce

__all__ = ['InvertedPixelCrossEntropy']


class InvertedPixelCrossEntropy(InvertedLoss):
    """mmseg's softmax ``CrossEntropyLoss`` turned into ``-log(1 - p_gt +
    eps)`` per pixel; pixels of ``ignore_index`` count zero.

    The 'mean' reduction (what mmseg's decode heads use) depends on
    ``reduction``:

    * ``'authors'`` (default, paper-faithful): as the authors'
      ``osd_cross_entropy`` (``SDAKD/OSDSEGLoss.py``), which reduces the
      one-hot masked ``(N, C, H, W)`` loss: the sum over valid pixels
      divided by ``N * C * H * W`` -- mmseg's pixel mean divided by the
      number of classes C (by ``C x`` the non-ignored pixels when the
      original has ``avg_non_ignore=True``).
    * ``'task'``: as mmseg's own CE, the mean over all pixels (or over the
      non-ignored ones with ``avg_non_ignore=True``).

    An explicit ``avg_factor`` divides the sum in both.

    Args:
        original: mmseg ``CrossEntropyLoss`` with ``use_sigmoid=False``.
        eps: The paper's 1e-8. Defaults to 1e-8.
        reduction: ``'authors'`` or ``'task'``. Defaults to ``'authors'``.
    """

    def __init__(self,
                 original: nn.Module,
                 eps: float = 1e-8,
                 reduction: str = 'authors') -> None:
        super().__init__(original)
        if getattr(original, 'use_sigmoid', False) or \
                getattr(original, 'use_mask', False):
            raise NotImplementedError(
                'Only mmseg\'s softmax CrossEntropyLoss has an inverted form.')
        if reduction not in INVERTED_REDUCTIONS:
            raise ValueError(f'reduction must be one of '
                             f'{list(INVERTED_REDUCTIONS)}, got {reduction!r}')
        self.log_eps = math.log(eps)
        self.inverted_reduction = reduction

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None,
                ignore_index=-100,
                **kwargs) -> Tensor:
        valid = (label >= 0) & (label != ignore_index) & (
            label < cls_score.size(1))
        safe = torch.where(valid, label, torch.zeros_like(label))
        loss = bounded_anti_ce(cls_score.float(), safe, self.log_eps)
        element_weight = valid.float()
        if weight is not None:
            element_weight = element_weight * weight.float()
        loss = loss * element_weight
        reduction = self._reduction(reduction_override)
        if reduction == 'sum':
            loss = loss.sum()
        elif reduction == 'mean':
            # the authors average the one-hot (N, C, H, W) map: C x the
            # pixels mmseg averages over
            classes = (
                cls_score.size(1)
                if self.inverted_reduction == 'authors' else 1)
            if avg_factor is None and getattr(self.original, 'avg_non_ignore',
                                              False):
                avg_factor = valid.sum() * classes
            if avg_factor is None:
                loss = loss.mean() / classes
            else:
                # as mmseg: a small eps keeps an all-ignored batch finite
                loss = loss.sum() / (
                    avg_factor + torch.finfo(torch.float32).eps)
        return self.original.loss_weight * loss
