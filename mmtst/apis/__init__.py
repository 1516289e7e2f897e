from mmtst.utils.profiles import load_config
from .train_setup import (accepted_arguments, check_arguments, prepare_config,
                          run_friendly)

__all__ = [
    'accepted_arguments', 'load_config', 'check_arguments', 'prepare_config',
    'run_friendly'
]
