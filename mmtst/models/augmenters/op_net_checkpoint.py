"""Reading and checking the checkpoints of TST's neural op nets.

The op nets ("priori bias" of TST, Shao et al., "Teaching What You Should
Teach: A Data-Based Distillation Method", IJCAI 2023, Sec. 3.2) are fitted
once (stage I) and loaded frozen by :class:`~.neural_ops.NeuralOpBank`. A
checkpoint is either a plain state dict of mmtst's nets (written by
``tools/fit_op_nets.py``) or ``{'state_dict': ..., 'meta': {'arch': ...,
...}}`` (written by ``tools/model_converters/tst_opnets_to_mmtst.py`` from
the authors' published nets, ``arch`` ``'authors'``). Every error names the
file and says how to make a valid one.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .authors_op_nets import DATASET_STATS
from .op_specs import OP_SPECS

# The checkpoint shipped with mmtst, fitted on tinted Fashion-MNIST (see the
# .md file next to it for the command and the imitation errors).
SHIPPED_OP_NETS = osp.join(
    osp.dirname(osp.abspath(__file__)), 'weights', 'op_nets_fashion_mnist.pth')

FIT_HINT = ('Fit one with: python tools/fit_op_nets.py --data fashion-mnist '
            '--out {path}   (or --data folder:IMAGE_DIR for your own images; '
            'see python tools/fit_op_nets.py --help), or convert the TST '
            'authors\' published nets with '
            'tools/model_converters/tst_opnets_to_mmtst.py.')

# the net designs a checkpoint can hold (see NeuralOpBank)
ARCHS = ('mmtst', 'authors')

__all__ = [
    'SHIPPED_OP_NETS', 'FIT_HINT', 'ARCHS', 'read_checkpoint', 'check_state'
]


def _shape(value) -> Union[Tuple[int, ...], str]:
    """Shape of a checkpoint entry, or its type name if not a tensor."""
    if isinstance(value, Tensor):
        return tuple(value.shape)
    return type(value).__name__


def read_checkpoint(
        path: str,
        default_dataset_type: str) -> Tuple[dict, str, Optional[str]]:
    """Read a fitted op-net checkpoint.

    Args:
        path: The checkpoint file.
        default_dataset_type: Dataset statistics of an ``'authors'``
            checkpoint whose ``meta`` does not name them.

    Returns:
        ``(state_dict, arch, dataset_type)``; a plain state dict is arch
        ``'mmtst'`` with dataset type None.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The file is unreadable, not a dict, or has a bad
            ``meta``.
    """
    hint = FIT_HINT.format(path=path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Neural op checkpoint {path} does not exist. {hint}')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # corrupt file, not a torch checkpoint
        raise ValueError(f'Cannot read neural op checkpoint {path} '
                         f'({type(err).__name__}: {err}). {hint}') from err
    if not isinstance(state, dict):
        raise ValueError(f'Neural op checkpoint {path} holds a '
                         f'{type(state).__name__}, not a state dict of '
                         f'NeuralOpBank. {hint}')
    if 'meta' not in state:
        return state, 'mmtst', None
    meta = state['meta']
    state = state.get('state_dict')
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise ValueError(
            f'Neural op checkpoint {path} has a "meta" entry, so it '
            'should be {"state_dict": dict, "meta": dict}; got '
            f'state_dict: {type(state).__name__}, meta: '
            f'{type(meta).__name__}. {hint}')
    arch = meta.get('arch', 'mmtst')
    if arch not in ARCHS:
        raise ValueError(f'Neural op checkpoint {path}: unknown meta["arch"] '
                         f'{arch!r}; known: {list(ARCHS)}. {hint}')
    dataset_type = meta.get('dataset_type', default_dataset_type)
    if arch == 'authors' and dataset_type not in DATASET_STATS:
        raise ValueError(
            f'Neural op checkpoint {path}: meta["dataset_type"] must be '
            f'one of {list(DATASET_STATS)} for the authors\' nets, got '
            f'{dataset_type!r}. Re-run tools/model_converters/'
            'tst_opnets_to_mmtst.py --dataset-type CIFAR|ImageNet.')
    return state, arch, dataset_type


def check_state(path: str, state: dict, own: Dict[str, Tensor],
                ops: Sequence[str], arch: str) -> None:
    """Raise a ValueError listing what in ``state`` does not match ``own``.

    Entries of ops the bank does not hold are not unexpected, so a bank of
    a subset of the ops loads from a full checkpoint.

    Args:
        path: The checkpoint file (for the message).
        state: The checkpoint's state dict.
        own: The bank's own state dict.
        ops: The ops the bank holds.
        arch: The bank's arch (for the message).
    """
    problems: List[str] = []
    missing = [key for key in own if key not in state]
    if missing:
        problems.append(f'missing keys {missing}')
    unexpected = [
        key for key in state
        if key not in own and not (key.startswith('nets.') and key.split(
            '.')[1] in OP_SPECS and key.split('.')[1] not in ops)
    ]
    if unexpected:
        problems.append(f'unexpected keys {unexpected}')
    shapes = [
        f'{key}: {_shape(state[key])} vs {tuple(value.shape)}'
        for key, value in own.items()
        if key in state and _shape(state[key]) != tuple(value.shape)
    ]
    if shapes:
        problems.append(f'wrong shapes ({"; ".join(shapes)})')
    if problems:
        raise ValueError(
            f'Neural op checkpoint {path} does not match NeuralOpBank'
            f'({", ".join(ops)}; arch {arch!r}): '
            f'{"; ".join(problems)}. It may come from another version of '
            f'mmtst. {FIT_HINT.format(path=path)}')
