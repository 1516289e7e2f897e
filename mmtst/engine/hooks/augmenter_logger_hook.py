"""Logging TST's augmenter steps the way mmengine logs the student's."""
from collections import defaultdict
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmtst.registry import HOOKS
from .phase_progress import PhaseProgress


def augmenter_lr(runner) -> float:
    """The augmenter optimiser's (first group's) learning rate, read as
    mmengine's RuntimeInfoHook reads the student's."""
    lrs = runner.optim_wrapper.get_lr()
    return float((lrs.get('augmenter.lr') or lrs['lr'])[0])


def augmenter_policy(runner) -> Dict[str, float]:
    """The augmenter's current probabilities and magnitudes per op."""
    model = runner.model
    model = model.module if is_model_wrapper(model) else model
    return model.augmenter.policy_dict()


@HOOKS.register_module()
class AugmenterLoggerHook(Hook):
    """Writes what TST's augmenter does to the log and the visualizer.

    The augmenter is trained in phases of whole passes with the student
    frozen (Shao et al., IJCAI 2023, Sec. 3.4), and optionally by steps
    interleaved with the student's. mmengine's LoggerHook sees neither (they
    are not ``*_train_iter``), so this hook listens to the augmenter's own
    hook points, which :class:`~mmtst.engine.runner.AugmenterTrainer`
    calls:

    * ``before_augmenter_training()``, before the run's first augmenter
      step: the policy as initialised, tagged ``augmenter.initial`` (the
      starting point of ``tools/analysis/plot_policy.py``);
    * in a phase, every ``interval`` steps: the pass's running loss terms,
      the lr, seconds per step and two ETAs, the phase's and the run's
      (:class:`PhaseProgress`);
    * ``after_augmenter_pass(where, outputs, decayed)``, at the end of a
      phase's pass or of a student epoch with interleaved steps: the
      pass's mean loss terms, the lr (and whether ALRS decayed it) and the
      policy, in the log and as scalars under ``augmenter.*`` tags (the
      augmenter's total loss must not land on the student's ``loss``
      curve).

    ``configs/_base_/mmtst_runtime.py`` lists it; ``tools/train.py`` adds it
    to a config that lacks it.

    Args:
        interval: Phase steps between progress lines. Defaults to None (the
            LoggerHook's interval, so phases log as often as the student).
    """
    priority = 'BELOW_NORMAL'  # as mmengine's LoggerHook

    def __init__(self, interval: Optional[int] = None) -> None:
        self.interval = interval
        self._progress: Optional[PhaseProgress] = None
        self._pass = ''
        self._totals: Dict[str, float] = defaultdict(float)
        self._steps = 0

    def before_augmenter_training(self, runner) -> None:
        scalars = {
            f'augmenter.{k}': v
            for k, v in augmenter_policy(runner).items()
        }
        scalars['augmenter.initial'] = 1
        runner.visualizer.add_scalars(scalars, step=runner.iter)

    def before_augmenter_phase(self,
                               runner,
                               where: str,
                               steps: int,
                               later_steps: int = 0) -> None:
        self._progress = PhaseProgress(runner, steps, later_steps,
                                       self.interval)

    def before_augmenter_pass(self, runner, where: str) -> None:
        self._pass = where
        self._totals.clear()
        self._steps = 0

    def after_augmenter_iter(self,
                             runner,
                             batch_idx: int,
                             data_batch=None,
                             outputs: Optional[dict] = None) -> None:
        if self._progress is None:  # an interleaved step
            return
        for key, value in (outputs or {}).items():
            self._totals[key] += value
        self._steps += 1
        self._progress.step(self._pass, {
            k: v / self._steps
            for k, v in self._totals.items()
        }, augmenter_lr(runner))

    def after_augmenter_pass(self,
                             runner,
                             where: str,
                             outputs: Dict[str, float],
                             decayed: bool = False) -> None:
        lr = augmenter_lr(runner)
        policy = augmenter_policy(runner)
        runner.logger.info(f'TST augmenter {where}: ' +
                           ', '.join(f'{k}: {v:.4f}'
                                     for k, v in sorted(outputs.items())) +
                           f', lr: {lr:.5f}' +
                           (' (ALRS decay)' if decayed else ''))
        runner.logger.info('TST policy: ' +
                           ', '.join(f'{k}={v:.3f}'
                                     for k, v in policy.items()))
        scalars = {
            (k if k.startswith('augmenter.') else f'augmenter.{k}'): v
            for k, v in outputs.items()
        }
        scalars['augmenter.lr'] = lr
        scalars.update({f'augmenter.{k}': v for k, v in policy.items()})
        runner.visualizer.add_scalars(scalars, step=runner.iter)

    def after_augmenter_phase(self, runner, where: str,
                              outputs: Dict[str, float]) -> None:
        self._progress = None
