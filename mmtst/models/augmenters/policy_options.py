"""The options of TST's learnable augmenter: their choices and checks.

:class:`~.learnable_policy.LearnableAugmentPolicy` (Shao et al., "Teaching
What You Should Teach: A Data-Based Distillation Method", IJCAI 2023, Sec.
3.2) takes the paper's settings as defaults and names every departure as an
option; its docstring says what each choice means. This module holds the
valid choices, the defaults that come from the authors' published code, and
:func:`check_policy_options`, which turns a bad setting into a one-line
``ValueError``.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from .op_specs import check_op_names

BACKENDS = ('neural', 'analytic')
COMPOSITIONS = ('residual', 'sequential')
GATE_INPUTS = ('probability', 'logit')
GATE_GRANULARITIES = ('batch', 'sample')
MAGNITUDE_SIGNS = ('positive', 'random')
FILLS = ('mean', 'black')
CUTOUT_CENTRES = ('batch', 'sample')

# The share of samples the authors' published op nets transform: their
# learned apply logits are 3.3-5.7 (sigmoid 0.964-0.997, mean over the 11
# nets ~0.98; see tools/model_converters/tst_opnets_to_mmtst.py, which prints
# them for a checkpoint folder).
AUTHORS_APPLY_PROB = 0.98

# Grey level of a fill when the input is neither normalised nor given a
# dataset mean (set_dataset_mean): the middle of [0, 1].
NEUTRAL_GREY = 0.5

__all__ = [
    'BACKENDS', 'COMPOSITIONS', 'GATE_INPUTS', 'GATE_GRANULARITIES',
    'MAGNITUDE_SIGNS', 'FILLS', 'CUTOUT_CENTRES', 'AUTHORS_APPLY_PROB',
    'NEUTRAL_GREY', 'check_policy_options', 'channel_tensor'
]


def check_policy_options(
        ops: Sequence[str],
        backend: str,
        solve_number: int,
        temperature: float,
        gate_input: str,
        composition: str,
        gate_granularity: str,
        magnitude_sign: str,
        cutout_size: int,
        cutout_centre: str,
        fill: str,
        neural_apply_prob: float,
        mean: Optional[Sequence[float]],
        std: Optional[Sequence[float]],
        probability_logit_bound: Optional[float] = None) -> Tuple[str, ...]:
    """Check the augmenter's options (arguments as in
    :class:`~.learnable_policy.LearnableAugmentPolicy`) and return ``ops``
    as a tuple.

    Raises:
        ValueError: For the first bad option, naming it, its valid values
            and the value given.
    """
    ops = check_op_names(ops)
    _check_choice('backend', backend, BACKENDS)
    _check_choice('composition', composition, COMPOSITIONS)
    _check_choice('gate_input', gate_input, GATE_INPUTS)
    _check_choice('gate_granularity', gate_granularity, GATE_GRANULARITIES)
    _check_choice('magnitude_sign', magnitude_sign, MAGNITUDE_SIGNS)
    _check_choice('cutout_centre', cutout_centre, CUTOUT_CENTRES)
    _check_choice('fill', fill, FILLS)
    if not 0.0 <= neural_apply_prob <= 1.0:
        raise ValueError('neural_apply_prob must be in [0, 1], got '
                         f'{neural_apply_prob}')
    if not 1 <= solve_number <= len(ops):
        raise ValueError(f'solve_number must be in [1, {len(ops)}] '
                         f'(the number of ops), got {solve_number}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if cutout_size < 1:
        raise ValueError(f'cutout_size must be >= 1, got {cutout_size}')
    if probability_logit_bound is not None and not probability_logit_bound > 0:
        raise ValueError('probability_logit_bound must be None or > 0, got '
                         f'{probability_logit_bound}')
    if (mean is None) != (std is None):
        raise ValueError('give both mean and std, or neither')
    return ops


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(
            f'{name} must be one of {list(choices)}, got {value!r}')


def channel_tensor(values: Sequence[float]) -> Tensor:
    """Per-channel values as a ``(1, C, 1, 1)`` float32 tensor."""
    return torch.tensor(list(values), dtype=torch.float32).view(1, -1, 1, 1)
