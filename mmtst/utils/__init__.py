from .checkpoint import (UNSAFE_OPT_IN, UnsafeCheckpointError,
                         allow_mmengine_checkpoints, extract_state_dict,
                         load_checkpoint_file, save_atomically)
from .scalars import to_float

__all__ = [
    'UNSAFE_OPT_IN', 'UnsafeCheckpointError', 'allow_mmengine_checkpoints',
    'extract_state_dict', 'load_checkpoint_file', 'save_atomically', 'to_float'
]
