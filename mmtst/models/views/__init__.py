from .batch_transforms import (BatchMixup, CentreResize, RandomResizedCropFlip,
                               crop_resize)
from .distillation_views import DistillationViews
from .teacher_logit_cache import TeacherLogitCache, teacher_fingerprint

__all__ = [
    'BatchMixup', 'CentreResize', 'RandomResizedCropFlip', 'crop_resize',
    'DistillationViews', 'TeacherLogitCache', 'teacher_fingerprint'
]
