"""Validate the teacher once, before distillation starts."""
import random
from typing import Dict

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmtst.registry import HOOKS


@HOOKS.register_module()
class TeacherValidationHook(Hook):
    """Log the teacher's own score on the validation set before training.

    A student can only be judged against its teacher: a teacher loaded from
    the wrong file, with another class order or another normalisation
    scores near chance here, before hours are spent distilling from it.
    mmrazor validates the teacher in its distillation val loop; this hook
    does it once, at the start of a fresh run (not on resume), with the
    run's own val loader and evaluator, and logs the metrics under
    ``teacher/`` (e.g. ``teacher/accuracy/top1``).

    The pass saves and restores the Python, NumPy and torch random states:
    creating a loader iterator draws from torch's generator, and the run
    must train exactly as it would without this hook.

    Args:
        enabled: Set False to skip the pass (e.g. on a very large val set).
    """

    priority = 'LOW'

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def before_train(self, runner) -> None:
        if not self.enabled or runner.iter > 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        teacher = getattr(model, 'teacher', None)
        loop = runner.val_loop
        if teacher is None or loop is None:
            return
        with _preserved_random_state():
            metrics = _evaluate(teacher, loop.dataloader, loop.evaluator)
        runner.logger.info(
            'Teacher on the validation set (before training): ' +
            '  '.join(f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}'
                      for k, v in metrics.items()))
        runner.visualizer.add_scalars(
            {
                f'teacher/{k}': v
                for k, v in metrics.items() if isinstance(v, (int, float))
            },
            step=0)


def _evaluate(teacher, dataloader, evaluator) -> Dict[str, float]:
    """The evaluator's metrics for ``teacher`` over ``dataloader``."""
    was_training = teacher.training
    teacher.eval()
    with torch.no_grad():
        for data_batch in dataloader:
            outputs = teacher.val_step(data_batch)
            evaluator.process(data_samples=outputs, data_batch=data_batch)
    teacher.train(was_training)
    return {
        k: float(v) if isinstance(v, (int, float)) else v
        for k, v in evaluator.evaluate(len(dataloader.dataset)).items()
    }


class _preserved_random_state:
    """Restore the Python, NumPy and torch (and CUDA) generators on exit."""

    def __enter__(self):
        self.states = (random.getstate(), np.random.get_state(),
                       torch.get_rng_state(), torch.cuda.get_rng_state_all()
                       if torch.cuda.is_available() else None)

    def __exit__(self, *exc) -> None:
        python, numpy, cpu, cuda = self.states
        random.setstate(python)
        np.random.set_state(numpy)
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
