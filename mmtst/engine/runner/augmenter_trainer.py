"""TST stage II: training the augmenter between student epochs."""
from collections import defaultdict
from itertools import islice
from typing import Callable, Dict, Iterable, Optional

from mmengine.model import is_model_wrapper

from mmtst.engine.hooks.finite_loss_hook import check_finite_loss
from mmtst.engine.optimizers import ALRS
from mmtst.models.utils import AUGMENTER, optim_part
from mmtst.utils import to_float
from .phase_loader import PhaseLoader, phase_epoch


class AugmenterTrainer:
    """Runs the augmenter's updates for a TST train loop.

    A *phase* (Shao et al., IJCAI 2023, Sec. 3.4) is ``passes`` full passes
    over the training loader with only the augmenter updating. Its SGD is
    "re-created" at the start of each phase, as in the authors' code: the
    momentum buffers are cleared and the learning rate returns to its
    configured value. After each pass, ALRS may decay that rate.

    It decides nothing about the student and steps no optimiser itself:
    each step is the distiller's ``augmenter_step``, which picks the
    ``augmenter`` optimiser of the runner's ``OptimWrapperDict``; this
    class keeps what spans steps (the phase's passes, ALRS, the
    interleaved accumulators) and reports through the runner's
    ``call_hook``, at points of the augmenter's own (mmengine's
    ``*_train_iter`` points belong to the student: its parameter
    schedulers and iteration timer step there):

    * ``before_augmenter_training()``, once, before the run's first
      augmenter step;
    * ``before_augmenter_phase(where, steps, later_steps)`` and
      ``after_augmenter_phase(where, outputs)`` (the last pass's means);
      ``later_steps``: the steps of the phases still to come, for ETAs;
    * ``before_augmenter_pass(where)`` and
      ``after_augmenter_pass(where, outputs, decayed)`` around each pass of
      a phase (``decayed``: whether ALRS decayed the lr after it); the
      latter also closes a student epoch with interleaved steps;
    * ``before_augmenter_iter(batch_idx, data_batch)`` and
      ``after_augmenter_iter(batch_idx, data_batch, outputs)`` for every
      augmenter step, in a phase or interleaved.

    A hook implements the ones it needs (``call_hook`` skips hooks without
    the method); :class:`mmtst.engine.hooks.AugmenterLoggerHook` logs them.

    A phase draws from the training loader itself, or, with
    ``own_loader=True``, from a :class:`PhaseLoader` of its own over the
    same dataset: iteration-based loops need one, as their phases come in
    the middle of the student's stream. Each pass is one order of the
    sampler, its epoch given by :func:`phase_epoch`.

    Args:
        runner: The mmengine runner.
        dataloader: The training loader.
        passes: Passes per phase.
        alrs: ALRS keyword arguments (``min_drop``, ``min_rel_drop``,
            ``factor``). Defaults to the paper's values.
        reset_optimizer: Re-create the augmenter's optimiser state at each
            phase (paper). Defaults to True.
        own_loader: Phases draw from a :class:`PhaseLoader` built from
            ``dataloader`` instead of ``dataloader`` itself. Defaults to
            False.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 passes: int = 1,
                 alrs: Optional[dict] = None,
                 reset_optimizer: bool = True,
                 own_loader: bool = False) -> None:
        if passes < 1:
            raise ValueError(f'passes_per_phase must be >= 1, got {passes}')
        self.runner = runner
        self.dataloader = dataloader
        self.phase_loader = PhaseLoader(dataloader) if own_loader else None
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
            optimizer = optim_part(
                self.runner.optim_wrapper, AUGMENTER, required=True).optimizer
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
        # the distiller steps the augmenter's optimiser; refuse a plain
        # wrapper here, which would be the student's
        optim_wrapper = self.runner.optim_wrapper
        optim_part(optim_wrapper, AUGMENTER, required=True)
        log_vars = self.model.augmenter_step(data_batch, optim_wrapper)
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

    @property
    def pass_length(self) -> int:
        """Augmenter steps in one pass of a phase."""
        if self.phase_loader is not None:
            return len(self.phase_loader)
        return len(self.dataloader)

    def pass_batches(self, point: int, index: int) -> Iterable:
        """The batches of pass ``index`` of the phase at ``point``."""
        epoch = phase_epoch(point, index)
        if self.phase_loader is not None:
            return self.phase_loader.pass_batches(epoch)
        sampler = getattr(self.dataloader, 'sampler', None)
        if not hasattr(sampler, 'set_epoch'):
            # a batch sampler's (mmdet's AspectRatioBatchSampler): the
            # loader's own sampler is then torch's SequentialSampler, as
            # mmengine's DistSamplerSeedHook also finds
            sampler = getattr(
                getattr(self.dataloader, 'batch_sampler', None), 'sampler',
                None)
        if hasattr(sampler, 'set_epoch'):
            # a new order each pass, restored by the student's epoch (its
            # iterator is exhausted: phases of epoch-based loops come
            # between epochs)
            sampler.set_epoch(epoch)
        # at most one pass, should the loader be endless
        return islice(self.dataloader, len(self.dataloader))

    def run_phase(self, where: str, point: Optional[int] = None) -> None:
        """Run ``passes`` augmenter-only passes over the loader.

        Args:
            where: Names the phase in the logs and to hooks.
            point: Where the phase is: completed student epochs or, in an
                iteration-based loop, completed loader passes; picks the
                passes' orders (:func:`phase_epoch`). Defaults to the
                runner's epoch.
        """
        if self.model.augmenter is None:
            raise ValueError('augmenter phases are scheduled but the model '
                             'has no augmenter (model.augmenter=None).')
        # A phase usually follows validation, which left the model in eval
        # mode: the augmenter must sample (random ops, gates, signs) while it
        # learns, not replay its deterministic eval-mode policy. (The
        # distiller's train() keeps the teacher in eval mode.)
        self.runner.model.train()
        if self._alrs is None:  # no augmenter step yet in this run
            self.runner.call_hook('before_augmenter_training')
        if self.reset_optimizer:
            self._recreate_optimizer()
        if point is None:
            point = self.runner.epoch
        self.runner.call_hook(
            'before_augmenter_phase',
            where=where,
            steps=self.passes * self.pass_length,
            later_steps=self.later_phase_steps())
        means: Dict[str, float] = {}
        for index in range(self.passes):
            pass_where = f'{where}, pass {index + 1}/{self.passes}'
            self.runner.call_hook('before_augmenter_pass', where=pass_where)
            totals, steps = defaultdict(float), 0
            for batch_idx, data_batch in enumerate(
                    self.pass_batches(point, index)):
                for key, value in self.step(data_batch, batch_idx).items():
                    totals[key] += value
                steps += 1
            means = {k: v / max(steps, 1) for k, v in totals.items()}
            decayed = self.alrs.step(means.get('loss', 0.0))
            self.runner.call_hook(
                'after_augmenter_pass',
                where=pass_where,
                outputs=means,
                decayed=decayed)
        self.runner.call_hook(
            'after_augmenter_phase', where=where, outputs=means)

    def interleaved_step(self, data_batch: dict, batch_idx: int = 0) -> None:
        """An augmenter step between student iterations (beyond the paper);
        ``batch_idx`` is the student iteration's."""
        if self._alrs is None and not self._interleaved_steps:
            # the run's first augmenter step
            self.runner.call_hook('before_augmenter_training')
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
        self.runner.call_hook(
            'after_augmenter_pass',
            where=f'{where} (interleaved, {self._interleaved_steps} steps)',
            outputs=means,
            decayed=decayed)
        self._interleaved.clear()
        self._interleaved_steps = 0
