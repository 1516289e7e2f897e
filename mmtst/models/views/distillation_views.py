"""The four teacher/student set-ups of FunMatch, as one config choice."""
from typing import List, Optional, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor

from mmtst.registry import MODELS
from .batch_transforms import BatchMixup

MODES = ('consistent', 'independent', 'fixed_teacher')


def _build(cfg):
    if cfg is None or not isinstance(cfg, dict):
        return cfg
    return MODELS.build(dict(cfg, _scope_='mmtst'))


@MODELS.register_module()
class DistillationViews:
    """Which views of a batch the teacher and the student see.

    "Knowledge distillation: A good teacher is patient and consistent"
    (Beyer et al., CVPR 2022, Sec. 3.2) compares:

    * ``'fixed_teacher'``: the teacher's predictions on a fixed view
      (``fixed_view``, default a resize of the whole image) are computed
      once and cached on disk (:class:`TeacherLogitCache`); the student sees
      random views;
    * ``'independent'``: teacher and student get independently drawn views;
    * ``'consistent'``: both get the same random view;
    * function matching: ``'consistent'`` with ``mixup`` (FunMatch's recipe).

    The batch's images should come from the loader without random
    augmentation: ``transform`` draws the views here, per batch.

    Args:
        mode: One of ``'consistent'``, ``'independent'``,
            ``'fixed_teacher'``. Defaults to ``'consistent'``.
        transform: The random view, e.g.
            ``dict(type='RandomResizedCropFlip', size=224)``.
        fixed_view: The fixed teacher's view. Defaults to
            ``CentreResize(transform.size)``.
        mixup: ``dict(type='BatchMixup', alpha=1.0)`` or None. Defaults to
            None.
        cache_dir: Folder of the fixed teacher's cache. Defaults to
            ``'work_dirs/teacher_logit_cache'``.
    """

    def __init__(self,
                 mode: str = 'consistent',
                 transform: Optional[dict] = None,
                 fixed_view: Optional[dict] = None,
                 mixup: Optional[dict] = None,
                 cache_dir: str = 'work_dirs/teacher_logit_cache') -> None:
        if mode not in MODES:
            raise ValueError(
                f'views mode must be one of {list(MODES)}, got {mode!r}')
        if transform is None:
            raise ValueError('views need a random `transform`, e.g. '
                             "dict(type='RandomResizedCropFlip', size=224)")
        self.mode = mode
        self.transform = _build(transform)
        if fixed_view is None and mode == 'fixed_teacher':
            fixed_view = dict(type='CentreResize', size=self.transform.size)
        self.fixed_view = _build(fixed_view)
        self.mixup: Optional[BatchMixup] = _build(mixup)
        if self.mixup is not None and mode == 'fixed_teacher':
            raise ValueError('mixup needs teacher and student to see the '
                             'same mixed images; the fixed teacher cannot')
        self.cache_dir = cache_dir
        self.cache = None  # set by the distiller, which knows the teacher

    @property
    def consistent(self) -> bool:
        return self.mode == 'consistent'

    def make(self, pixels: Tensor) -> Tuple[Tensor, Tensor]:
        """(student view, teacher view) of a raw batch."""
        student = self.transform(pixels)
        if self.mode == 'consistent':
            return student, student
        if self.mode == 'independent':
            return student, self.transform(pixels)
        return student, self.fixed_view(pixels)

    def mix(self, views: Sequence[Tensor], targets: Sequence[Tensor],
            num_classes: int) -> Tuple[List[Tensor], List[Tensor]]:
        """Mix every view and target with one coefficient and pairing; hard
        targets become soft. Without mixup, returns them unchanged."""
        if self.mixup is None:
            return list(views), list(targets)
        a = self.mixup.coefficient()
        soft = [
            F.one_hot(t.long(), num_classes).float() if t.dim() == 1 else t
            for t in targets
        ]
        return ([BatchMixup.mix(v, a)
                 for v in views], [BatchMixup.mix(t, a) for t in soft])

    def description(self) -> str:
        fixed = vars(self.fixed_view) if self.fixed_view else None
        return f'{self.mode}|{fixed}'
