from .augmenter_logger_hook import AugmenterLoggerHook
from .exact_resume_hook import ExactResumeHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .safe_checkpoint_hook import CheckpointWriteError, SafeCheckpointHook
from .teacher_validation_hook import TeacherValidationHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'AugmenterLoggerHook', 'CheckpointWriteError', 'ExactResumeHook',
    'FiniteLossHook', 'NonFiniteLossError', 'SafeCheckpointHook',
    'TeacherValidationHook', 'WeightsOnlyCheckpointHook'
]
