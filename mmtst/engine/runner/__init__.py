from .atomic_runner import AtomicCheckpointRunner
from .augmenter_trainer import AugmenterTrainer
from .distiller_ddp import DistillerDistributedDataParallel
from .tst_loops import TSTEpochBasedTrainLoop, TSTIterBasedTrainLoop

__all__ = [
    'AtomicCheckpointRunner', 'AugmenterTrainer',
    'DistillerDistributedDataParallel', 'TSTEpochBasedTrainLoop',
    'TSTIterBasedTrainLoop'
]
