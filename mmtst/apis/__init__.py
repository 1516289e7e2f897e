from .train_setup import (accepted_arguments, check_arguments, prepare_config,
                          run_friendly)

__all__ = ['accepted_arguments', 'check_arguments', 'prepare_config', 'run_friendly']
