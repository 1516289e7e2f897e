from .augmenter_trainer import AugmenterTrainer
from .tst_loops import TSTEpochBasedTrainLoop, TSTIterBasedTrainLoop

__all__ = ['AugmenterTrainer', 'TSTEpochBasedTrainLoop', 'TSTIterBasedTrainLoop']
