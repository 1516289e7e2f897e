from .atomic_runner import AtomicCheckpointRunner
from .augmenter_trainer import AugmenterTrainer
from .tst_loops import TSTEpochBasedTrainLoop, TSTIterBasedTrainLoop

__all__ = ['AtomicCheckpointRunner', 'AugmenterTrainer', 'TSTEpochBasedTrainLoop', 'TSTIterBasedTrainLoop']
