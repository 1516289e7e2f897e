"""Which optimiser steps which part of a distiller.

A TST run has two optimisers in one ``OptimWrapperDict`` (built by
:class:`mmtst.DistillerOptimWrapperConstructor`): ``architecture`` for the
student and ``augmenter`` for TST's augmenter (Shao et al., IJCAI 2023,
Sec. 3.4: the two are updated in alternation, each with its own SGD). The
distiller's ``train_step`` and ``augmenter_step``, its DDP wrapper and the
TST loop all pick their part here, so the choice and its error message
live in one place (mmrazor's algorithms pick ``optim_wrapper['generator']``
and ``['architecture']`` the same way).
"""
from typing import Union

from mmengine.optim import OptimWrapper, OptimWrapperDict

STUDENT = 'architecture'
AUGMENTER = 'augmenter'

_HOW_TO_CONFIGURE = (
    "set optim_wrapper = dict(constructor='mmtst."
    "DistillerOptimWrapperConstructor', architecture=dict(...), "
    "augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))")


def optim_part(optim_wrapper: Union[OptimWrapper, OptimWrapperDict],
               part: str,
               required: bool = False) -> OptimWrapper:
    """The wrapper that steps ``part`` (``'architecture'`` or
    ``'augmenter'``).

    A single ``OptimWrapper`` is returned as it is (a plain KD config has
    one optimiser, the student's; a test may step the augmenter with its
    own), unless ``required``: the TST loop must not mistake the student's
    optimiser for the augmenter's.
    """
    if isinstance(optim_wrapper, OptimWrapperDict):
        if part not in optim_wrapper:
            raise ValueError(f'the optim_wrapper has no {part!r} part '
                             f'(it has {sorted(optim_wrapper.keys())}): '
                             f'{_HOW_TO_CONFIGURE}.')
        return optim_wrapper[part]
    if required:
        raise ValueError(f'TST needs an {part} optimiser: '
                         f'{_HOW_TO_CONFIGURE}.')
    return optim_wrapper
