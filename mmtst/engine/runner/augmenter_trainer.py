"""TST stage II: training the augmenter between student epochs."""
from collections import defaultdict
from itertools import islice
from typing import Callable, Dict, Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from mmtst.engine.hooks.finite_loss_hook import check_finite_loss
from mmtst.engine.optimizers import ALRS
from mmtst.utils import to_float
from .phase_progress import PhaseProgress


class AugmenterTrainer:
    """Runs the augmenter's updates for a TST train loop.

    A *phase* (Shao et al., IJCAI 2023, Sec. 3.4) is ``passes`` full passes
    over the training loader with only the augmenter updating. Its SGD is
    "re-created" at the start of each phase, as in the authors' code: the
    momentum buffers are cleared and the learning rate returns to its
    configured value. After each pass, ALRS may decay that rate.

    Hooks see the augmenter's work through the runner's ``call_hook``, at
    points of their own (mmengine's ``*_train_iter`` points belong to the
    student: its parameter schedulers and iteration timer step there):
    ``before_augmenter_phase(where, steps)``,
    ``after_augmenter_phase(where, outputs)`` (the last pass's means),
    ``before_augmenter_iter(batch_idx, data_batch)`` and
    ``after_augmenter_iter(batch_idx, data_batch, outputs)`` for every
    augmenter step, in a phase or interleaved. A hook implements the ones
    it needs (``call_hook`` skips hooks without the method).

    Args:
        runner: The mmengine runner.
        dataloader: The training loader.
        passes: Passes per phase.
        alrs: ALRS keyword arguments (``min_drop``, ``min_rel_drop``,
            ``factor``). Defaults to the paper's values.
        reset_optimizer: Re-create the augmenter's optimiser state at each
            phase (paper). Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 passes: int = 1,
                 alrs: Optional[dict] = None,
                 reset_optimizer: bool = True) -> None:
        if passes < 1:
            raise ValueError(f'augmenter_passes must be >= 1, got {passes}')
        self.runner = runner
        self.dataloader = dataloader
        self.passes = passes
        self.reset_optimizer = reset_optimizer
        self.alrs_cfg = dict(alrs or {})
        self._alrs: Optional[ALRS] = None
        self._base_lrs = None
        self._interleaved = defaultdict(float)
        self._interleaved_steps = 0
        # set by the loop: augmenter steps in the phases still to come
        self.later_phase_steps: Callable[[], int] = lambda: 0

    @property
    def model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    @property
    def optim_wrapper(self):
        wrapper = self.runner.optim_wrapper
        if not isinstance(wrapper,
                          OptimWrapperDict) or 'augmenter' not in wrapper:
            raise ValueError(
                'TST needs an augmenter optimiser: set optim_wrapper = dict('
                "constructor='mmtst.DistillerOptimWrapperConstructor', "
                'architecture=dict(...), augmenter=dict(optimizer=dict('
                "type='SGD', lr=0.01, momentum=0.9))).")
        return wrapper['augmenter']

    @property
    def alrs(self) -> ALRS:
        if self._alrs is None:
            schedulers = getattr(self.runner, 'param_schedulers', None)
            if isinstance(schedulers, dict) and schedulers.get('augmenter'):
                raise ValueError(
                    'param_scheduler also drives the augmenter\'s optimiser '
                    '(a list of schedulers applies to every part). TST resets '
                    'the augmenter\'s lr at each phase and decays it with '
                    'ALRS: key the schedulers by part, e.g. param_scheduler = '
                    'dict(_delete_=True, architecture=[...], augmenter=[]).')
            optimizer = self.optim_wrapper.optimizer
            self._alrs = ALRS(optimizer, **self.alrs_cfg)
            self._base_lrs = [g['lr'] for g in optimizer.param_groups]
        return self._alrs

    def state_dict(self) -> dict:
        """What a resumed run needs to go on exactly: ALRS's last loss, the
        configured learning rates a phase resets to (the optimiser in the
        checkpoint may hold an ALRS-decayed one), the interleaved
        accumulators. Saved by :class:`mmtst.engine.hooks.ExactResumeHook`.
        """
        if self._alrs is None:  # no augmenter step yet: nothing decayed
            return dict(alrs=None, base_lrs=None)
        return dict(
            alrs=self._alrs.state_dict(),
            base_lrs=list(self._base_lrs),
            interleaved=dict(self._interleaved),
            interleaved_steps=self._interleaved_steps)

    def load_state_dict(self, state: dict) -> None:
        if state.get('alrs') is None:
            return
        self.alrs.load_state_dict(state['alrs'])
        self._base_lrs = [float(lr) for lr in state['base_lrs']]
        self._interleaved = defaultdict(float, state.get('interleaved') or {})
        self._interleaved_steps = int(state.get('interleaved_steps', 0))

    def _recreate_optimizer(self) -> None:
        optimizer = self.alrs.optimizer
        optimizer.state.clear()
        for group, lr in zip(optimizer.param_groups, self._base_lrs):
            group['lr'] = lr
        self.alrs.reset()

    def step(self, data_batch: dict, batch_idx: int = 0) -> Dict[str, float]:
        """One augmenter update on ``data_batch``, between the
        ``before_augmenter_iter`` / ``after_augmenter_iter`` hook points; a
        NaN/inf loss stops the run before any checkpoint holds the broken
        augmenter."""
        self.runner.call_hook(
            'before_augmenter_iter',
            batch_idx=batch_idx,
            data_batch=data_batch)
        log_vars = self.model.augmenter_step(data_batch, self.optim_wrapper)
        check_finite_loss(
            self.runner, log_vars,
            f'an augmenter step (epoch {self.runner.epoch + 1}, '
            f'iteration {self.runner.iter})')
        outputs = {k: to_float(v) for k, v in log_vars.items()}
        self.runner.call_hook(
            'after_augmenter_iter',
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs)
        return outputs

    def run_phase(self, where: str) -> None:
        """Run ``passes`` augmenter-only passes over the loader."""
        if self.model.augmenter is None:
            raise ValueError('augmenter phases are scheduled but the model '
                             'has no augmenter (model.augmenter=None).')
        # A phase usually follows validation, which left the model in eval
        # mode: the augmenter must sample (random ops, gates, signs) while it
        # learns, not replay its deterministic eval-mode policy. (The
        # distiller's train() keeps the teacher in eval mode.)
        self.runner.model.train()
        if self._alrs is None:  # no augmenter step yet in this run
            self.log_initial_policy()
        if self.reset_optimizer:
            self._recreate_optimizer()
        steps_in_phase = self.passes * len(self.dataloader)
        self.runner.call_hook(
            'before_augmenter_phase', where=where, steps=steps_in_phase)
        progress = PhaseProgress(self.runner, steps_in_phase,
                                 self.later_phase_steps())
        means: Dict[str, float] = {}
        for index in range(self.passes):
            sampler = getattr(self.dataloader, 'sampler', None)
            if hasattr(sampler, 'set_epoch'):
                # a new order each pass, restored by the student's epoch
                sampler.set_epoch(10_000 + self.runner.epoch * 1_000 + index)
            totals, steps = defaultdict(float), 0
            # one pass = len(loader) batches: mmseg's iteration-based
            # configs use an InfiniteSampler, whose loader never ends
            batches = islice(self.dataloader, len(self.dataloader))
            for batch_idx, data_batch in enumerate(batches):
                for key, value in self.step(data_batch, batch_idx).items():
                    totals[key] += value
                steps += 1
                progress.step(f'{where}, pass {index + 1}/{self.passes}', {
                    k: v / steps
                    for k, v in totals.items()
                }, self.alrs.optimizer.param_groups[0]['lr'])
            means = {k: v / max(steps, 1) for k, v in totals.items()}
            decayed = self.alrs.step(means.get('loss', 0.0))
            self.log(f'{where}, pass {index + 1}/{self.passes}', means,
                     decayed)
        self.runner.call_hook(
            'after_augmenter_phase', where=where, outputs=means)

    def interleaved_step(self, data_batch: dict, batch_idx: int = 0) -> None:
        """An augmenter step between student iterations (beyond the paper);
        ``batch_idx`` is the student iteration's."""
        if self._alrs is None and not self._interleaved_steps:
            self.log_initial_policy()  # the run's first augmenter step
        for key, value in self.step(data_batch, batch_idx).items():
            self._interleaved[key] += value
        self._interleaved_steps += 1

    def end_interleaved_epoch(self, where: str) -> None:
        if not self._interleaved_steps:
            return
        means = {
            k: v / self._interleaved_steps
            for k, v in self._interleaved.items()
        }
        decayed = self.alrs.step(means.get('loss', 0.0))
        self.log(f'{where} (interleaved, {self._interleaved_steps} steps)',
                 means, decayed)
        self._interleaved.clear()
        self._interleaved_steps = 0

    def log_initial_policy(self) -> None:
        """Record the policy before its first update, marked
        ``augmenter.initial`` (the starting point of the policy plots)."""
        scalars = {
            f'augmenter.{k}': v
            for k, v in self.model.augmenter.policy_dict().items()
        }
        scalars['augmenter.initial'] = 1
        self.runner.visualizer.add_scalars(scalars, step=self.runner.iter)

    def log(self, where: str, means: Dict[str, float], decayed: bool) -> None:
        """Log the phase's losses, confidences, lr and the learned policy."""
        lr = self.alrs.optimizer.param_groups[0]['lr']
        policy = self.model.augmenter.policy_dict()
        self.runner.logger.info(f'TST augmenter {where}: ' +
                                ', '.join(f'{k}: {v:.4f}'
                                          for k, v in sorted(means.items())) +
                                f', lr: {lr:.5f}' +
                                (' (ALRS decay)' if decayed else ''))
        self.runner.logger.info('TST policy: ' +
                                ', '.join(f'{k}={v:.3f}'
                                          for k, v in policy.items()))
        # the augmenter's own tags: its total 'loss' must not land on the
        # student's 'loss' curve
        scalars = {
            (k if k.startswith('augmenter.') else f'augmenter.{k}'): v
            for k, v in means.items()
        }
        scalars['augmenter.lr'] = lr
        scalars.update({f'augmenter.{k}': v for k, v in policy.items()})
        self.runner.visualizer.add_scalars(scalars, step=self.runner.iter)
