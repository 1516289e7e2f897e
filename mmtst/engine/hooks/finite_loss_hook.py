"""Stop a run at its first non-finite loss, with a message that helps."""
import math
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook

from mmtst.registry import HOOKS
from mmtst.utils import to_float


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise at the first NaN/inf loss instead of training on garbage.

    Continuing after a non-finite loss corrupts the weights, and the next
    checkpoint would overwrite a good one with them; stopping at once keeps
    the last good checkpoint as the latest. Every mmtst config has this
    hook (``configs/_base_/mmtst_runtime.py``); ``tools/train.py`` adds it
    to configs without it.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        check_finite_loss(
            runner, outputs, 'iteration '
            f'{runner.iter + 1} (epoch {runner.epoch + 1})')


def check_finite_loss(runner, outputs: Optional[dict], where: str) -> None:
    """Raise :class:`NonFiniteLossError` if ``outputs['loss']`` is NaN or
    infinite, naming ``where`` it happened, every logged term and the last
    good checkpoint. Used after student iterations (:class:`FiniteLossHook`)
    and after augmenter steps (the TST loops), so that no checkpoint is
    written from broken student or augmenter weights."""
    if not outputs or 'loss' not in outputs:
        return
    if math.isfinite(to_float(outputs['loss'])):
        return
    parts = ', '.join(f'{k}={to_float(v):.4g}' for k, v in outputs.items())
    last = None
    if runner.work_dir:
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(pointer):
            with open(pointer) as f:
                last = f.read().strip()
    raise NonFiniteLossError(
        f'non-finite loss at {where}: {parts}. Training stopped so that no '
        'checkpoint is written from these weights; ' +
        (f'the last good checkpoint is {last} (resume with --resume). '
         if last else 'no checkpoint was written yet. ') +
        'Lower the learning rate, enable gradient clipping '
        '(optim_wrapper.clip_grad) or check the data.')
