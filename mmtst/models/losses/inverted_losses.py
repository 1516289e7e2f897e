"""TST's inverted task losses: the student's losses turned around so that
minimising them makes the student wrong.

"Teaching What You Should Teach" (Shao et al., IJCAI 2023, Sec. 3.3): for
detection and segmentation the augmenter minimises the teacher's normal task
losses plus the student's task losses in inverted form:

* softmax cross-entropy -> ``-log(1 - p_gt + eps)`` (bounded, as the
  classification "anti-CE");
* sigmoid BCE / focal loss -> the same loss with the label roles swapped
  (target ``t`` -> ``1 - t`` for every class of every prior);
* L1 / smooth-L1 / IoU-type regression losses -> negated (unbounded, hence
  the augmenter's grad-norm clip of 20).

How each inverted loss is REDUCED is set by ``inverted_reduction``
(:data:`INVERTED_REDUCTIONS`):

* ``'authors'`` (default, paper-faithful): as the authors' mmdet/mmseg code
  (``SDAKD_FOR_DETECTION_AND_SEGMENTATION/mmrazor/SDAKD/OSDLoss.py`` and
  ``OSDSEGLoss.py``). The inverted focal loss is the focal loss of the
  negated logits with the ORIGINAL targets, ``FL(-x, t)`` (so alpha = 0.25
  weighs the ground-truth class, 0.75 the others), averaged over ALL
  prior x class elements: mmdet's label weights and its ``avg_factor``
  (the number of positives) are not used (their
  ``osd_py_sigmoid_focal_loss`` ends in ``loss.mean()``). mmseg's inverted
  pixel CE is averaged over the (N, C, H, W) one-hot elements, i.e. the
  per-pixel mean divided by the number of classes C. The softmax / sigmoid
  CE and the regression losses keep the task loss's own reduction
  (weights, ``avg_factor``), as in their code.
* ``'task'`` (mmtst's earlier form): every inverted loss is reduced exactly
  like the task loss it replaces; the focal loss swaps the targets
  (``FL(x, 1 - t)``, alpha following the swapped targets) and is summed and
  divided by the number of positives. On a dense detector that sum runs
  over every negative prior x class and makes the student's term ~10^2-
  10^3 x the teacher's (~800 vs 1.1 on the scenes RetinaNet), so the
  teacher's terms have next to no say in the objective.

Each wrapper takes the original mmdet loss module and calls it (or its
functional core) with the same arguments the heads pass, so the heads run
unchanged; attributes the heads read (``use_sigmoid``, ``loss_weight`` ...)
come from the wrapped loss. :func:`inverted_task_losses` swaps them into a
model for the augmenter step and puts the originals back.
"""
import contextlib
import math
from typing import Iterator, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .inverted_base import (INVERTED_REDUCTIONS, InvertedLoss,
                            check_inverted_reduction)
from .inverted_seg_losses import InvertedPixelCrossEntropy
from .utils import bounded_anti_ce

__all__ = [
    'InvertedLoss', 'InvertedSoftmaxCrossEntropy',
    'SwappedSigmoidCrossEntropy', 'SwappedFocalLoss', 'NegatedLogitFocalLoss',
    'NegatedLoss', 'invert_loss', 'inverted_task_losses', 'INVERTED_REDUCTIONS'
]

# mmdet's regression losses: negated in inverted form (the names that this
# mmdet version defines are resolved to classes in _loss_classes).
REGRESSION_LOSSES = ('L1Loss', 'SmoothL1Loss', 'BalancedL1Loss', 'IoULoss',
                     'BoundedIoULoss', 'GIoULoss', 'DIoULoss', 'CIoULoss',
                     'EIoULoss', 'SIoULoss', 'MSELoss')


def _swap_binary_targets(pred: Tensor, label: Tensor, weight,
                         ignore_index: int) -> Tuple[Tensor, Tensor]:
    """Binary targets of ``pred``'s shape with the label roles swapped, and
    their element weights. Class-index labels (``(N,)`` for ``(N, C)``
    logits, background = ``C``) become swapped one-hot rows; same-shape
    (e.g. centerness) targets ``t`` become ``1 - t``."""
    if pred.dim() != label.dim():
        channels = pred.size(-1)
        valid = (label >= 0) & (label != ignore_index)
        onehot = pred.new_zeros(label.size(0), channels)
        fg = valid & (label < channels)
        onehot[fg, label[fg].long()] = 1.0
        element_weight = valid.float().view(-1, 1).expand(-1, channels)
        if weight is not None:
            element_weight = element_weight * weight.float().view(-1, 1)
        return 1.0 - onehot, element_weight
    valid = ((label >= 0) & (label != ignore_index)).float()
    element_weight = valid if weight is None else weight.float() * valid
    return 1.0 - label.float(), element_weight


class InvertedSoftmaxCrossEntropy(InvertedLoss):
    """``-log(1 - p_gt + eps)`` for mmdet's softmax ``CrossEntropyLoss``
    (e.g. the R-CNN box classifier); low when the student gives the true
    class (background included) little probability.

    Args:
        original: The ``CrossEntropyLoss`` (``use_sigmoid=False``).
        eps: The paper's 1e-8. Defaults to 1e-8.
    """

    def __init__(self, original: nn.Module, eps: float = 1e-8) -> None:
        super().__init__(original)
        self.log_eps = math.log(eps)

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None,
                ignore_index=None,
                **kwargs) -> Tensor:
        from mmdet.models.losses.utils import weight_reduce_loss
        if ignore_index is None:
            ignore_index = getattr(self.original, 'ignore_index', None)
        ignore_index = -100 if ignore_index is None else ignore_index
        valid = (label >= 0) & (label != ignore_index)
        safe = torch.where(valid, label, torch.zeros_like(label))
        loss = bounded_anti_ce(cls_score.float(), safe, self.log_eps)
        element_weight = valid.float()
        if weight is not None:
            element_weight = element_weight * weight.float()
        loss = weight_reduce_loss(loss, element_weight,
                                  self._reduction(reduction_override),
                                  avg_factor)
        return self.original.loss_weight * loss


class SwappedSigmoidCrossEntropy(InvertedLoss):
    """mmdet's sigmoid ``CrossEntropyLoss`` (RPN objectness, FCOS
    centerness) with the label roles swapped (``t -> 1 - t``)."""

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None,
                ignore_index=None,
                **kwargs) -> Tensor:
        from mmdet.models.losses.utils import weight_reduce_loss
        if ignore_index is None:
            ignore_index = getattr(self.original, 'ignore_index', None)
        ignore_index = -100 if ignore_index is None else ignore_index
        target, element_weight = _swap_binary_targets(cls_score, label, weight,
                                                      ignore_index)
        loss = F.binary_cross_entropy_with_logits(
            cls_score.float(), target, reduction='none')
        loss = weight_reduce_loss(loss, element_weight,
                                  self._reduction(reduction_override),
                                  avg_factor)
        return self.original.loss_weight * loss


def _sigmoid_focal_on_logits(original: nn.Module) -> nn.Module:
    """``original`` if it is a sigmoid focal loss taking logits (the only
    kind with an inverted form), else NotImplementedError."""
    if not original.use_sigmoid or getattr(original, 'activated', False):
        raise NotImplementedError(
            'Only the sigmoid focal loss on logits can be inverted.')
    return original


class SwappedFocalLoss(InvertedLoss):
    """mmdet's sigmoid ``FocalLoss`` (RetinaNet, FCOS) with the label roles
    swapped: every class of every prior gets target ``1 - t``, so the loss
    is low when the student misses the objects and fires on background.
    The focal and alpha weights follow the swapped targets."""

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None) -> Tensor:
        from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
        original = _sigmoid_focal_on_logits(self.original)
        swapped, element_weight = _swap_binary_targets(pred, target, weight,
                                                       -100)
        return original.loss_weight * py_sigmoid_focal_loss(
            pred,
            swapped,
            element_weight,
            gamma=original.gamma,
            alpha=original.alpha,
            reduction=self._reduction(reduction_override),
            avg_factor=avg_factor)


class NegatedLogitFocalLoss(InvertedLoss):
    """The authors' inverted focal loss (``inverted_reduction='authors'``):
    mmdet's sigmoid focal loss of the NEGATED logits with the original
    targets, ``FL(-x, t)``, averaged over every prior x class element.

    Per element, with ``s = sigmoid(x)``: ``alpha * s**gamma * -log(1 - s)``
    for the ground-truth class of a positive prior and ``(1 - alpha) *
    (1 - s)**gamma * -log(s)`` for every other element (background priors
    included): low when the student misses the objects and fires on
    background. As in the authors' ``osd_py_sigmoid_focal_loss`` the label
    weights and ``avg_factor`` are not used (ignored priors count too) and
    the default reduction is the plain mean over all ``N x C`` elements;
    ``reduction_override`` ('none' / 'sum' / 'mean') is honoured.
    """

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None) -> Tensor:
        from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
        original = _sigmoid_focal_on_logits(self.original)
        if pred.dim() != target.dim():
            channels = pred.size(-1)
            onehot = pred.new_zeros(target.size(0), channels)
            fg = (target >= 0) & (target < channels)
            onehot[fg, target[fg].long()] = 1.0
            target = onehot
        return original.loss_weight * py_sigmoid_focal_loss(
            -pred.float(),
            target.float(),
            None,
            gamma=original.gamma,
            alpha=original.alpha,
            reduction=reduction_override or 'mean')


class NegatedLoss(InvertedLoss):
    """A regression loss (L1, smooth L1, IoU, GIoU, ...) times -1: the
    augmenter gains by making the student's boxes worse."""

    def forward(self, *args, **kwargs) -> Tensor:
        return -self.original(*args, **kwargs)


def _loss_classes() -> dict:
    """The task-loss classes with an inverted form, by kind. mmdet and
    mmseg are imported here, not at module level: classification needs
    neither."""
    from mmdet.models import losses as mmdet_losses
    try:
        from mmseg.models.losses import CrossEntropyLoss as PixelCE
    except ImportError:  # detection without mmseg installed
        PixelCE = ()
    return dict(
        pixel_ce=PixelCE,
        ce=mmdet_losses.CrossEntropyLoss,
        focal=mmdet_losses.FocalLoss,
        regression=tuple(
            getattr(mmdet_losses, name) for name in REGRESSION_LOSSES
            if hasattr(mmdet_losses, name)))


def invert_loss(loss: nn.Module, reduction: str = 'authors') -> nn.Module:
    """The inverted form of one mmdet / mmseg loss module (see the module
    doc); subclasses of the supported losses get their parent's form.

    Args:
        loss: The task loss module.
        reduction: ``'authors'`` (default) or ``'task'``, see the module
            doc.

    Raises:
        NotImplementedError: For a loss with no inverted form here; its
            name is in the message.
    """
    check_inverted_reduction(reduction)
    kinds = _loss_classes()
    if isinstance(loss, kinds['pixel_ce']):
        # per-pixel CE of a decode head: (N, C, H, W) logits, ignore index
        return InvertedPixelCrossEntropy(loss, reduction=reduction)
    if isinstance(loss, kinds['ce']):
        if getattr(loss, 'use_mask', False):
            raise NotImplementedError(
                'The mask loss has no inverted form in mmtst; distil a '
                'student without a mask head (e.g. Faster R-CNN).')
        if getattr(loss, 'use_sigmoid', False):
            return SwappedSigmoidCrossEntropy(loss)
        return InvertedSoftmaxCrossEntropy(loss)
    if isinstance(loss, kinds['focal']):
        if reduction == 'authors':
            return NegatedLogitFocalLoss(loss)
        return SwappedFocalLoss(loss)
    if isinstance(loss, kinds['regression']):
        return NegatedLoss(loss)
    raise NotImplementedError(
        f'No inverted form of {type(loss).__name__} for the TST augmenter; '
        'supported: CrossEntropyLoss (softmax or sigmoid), FocalLoss, ' +
        ', '.join(REGRESSION_LOSSES) + '.')


def _is_inverted_list(child: nn.Module) -> bool:
    return isinstance(child, nn.ModuleList) and len(child) > 0 and all(
        isinstance(loss, InvertedLoss) for loss in child)


def _task_losses(model: nn.Module) -> List[Tuple[nn.Module, str, nn.Module]]:
    """(owner, attribute, loss) for every ``loss_*`` module of the heads."""
    found = []
    for module in model.modules():
        if isinstance(module, InvertedLoss):
            continue
        for name, child in list(module.named_children()):
            wrapped = (
                isinstance(child, InvertedLoss) or _is_inverted_list(child))
            if name.startswith('loss_') and not wrapped:
                found.append((module, name, child))
    return found


def _invert_child(child: nn.Module, reduction: str) -> nn.Module:
    """The inverted form of a ``loss_*`` child: mmseg heads may hold a
    ``ModuleList`` of losses (``loss_decode=[...]``), inverted one by one."""
    if isinstance(child, nn.ModuleList):
        return nn.ModuleList(invert_loss(loss, reduction) for loss in child)
    return invert_loss(child, reduction)


@contextlib.contextmanager
def inverted_task_losses(model: nn.Module,
                         reduction: str = 'authors') -> Iterator[nn.Module]:
    """Swap every ``loss_*`` module of ``model``'s heads for its inverted
    form (:func:`invert_loss`, reduced as ``reduction`` says: ``'authors'``
    or ``'task'``) inside the ``with`` block, and restore the originals
    however the block ends. mmdet's heads are not edited: they call
    ``self.loss_cls(...)`` etc. and get the inverted loss."""
    check_inverted_reduction(reduction)
    swapped = [(owner, name, loss, _invert_child(loss, reduction))
               for owner, name, loss in _task_losses(model)]
    if not swapped:
        raise ValueError(f'{type(model).__name__} has no `loss_*` modules to '
                         'invert.')
    try:
        for owner, name, _, inverted in swapped:
            setattr(owner, name, inverted)
        yield model
    finally:
        for owner, name, original, _ in swapped:
            setattr(owner, name, original)
