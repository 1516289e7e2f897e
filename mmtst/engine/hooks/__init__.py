from .exact_resume_hook import ExactResumeHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['ExactResumeHook', 'FiniteLossHook', 'NonFiniteLossError',
           'WeightsOnlyCheckpointHook']
