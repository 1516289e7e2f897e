"""TST stage II: training the augmenter between student epochs."""
import copy
import sys
from collections import defaultdict
from itertools import islice
from typing import Callable, Dict, Iterable, Optional

import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from torch.utils.data import DataLoader, IterableDataset

from mmtst.engine.hooks.finite_loss_hook import check_finite_loss
from mmtst.engine.optimizers import ALRS
from mmtst.utils import to_float
from .phase_progress import PhaseProgress


def phase_epoch(point: int, index: int) -> int:
    """The sampler epoch of pass ``index`` of the phase at ``point``
    (completed student epochs, or loader passes of an iteration-based
    loop): a shuffled order (and seeded-pipeline key) of its own for every
    pass of every phase, far from the student's epochs."""
    return 10_000 + point * 1_000 + index


def _own_sampler(sampler):
    """A sampler for the phases, sharing nothing that iterates with the
    student's ``sampler``:

    * mmengine's ``InfiniteSampler`` (mmseg's iteration-based configs)
      keeps ONE index generator for its whole life and every ``iter`` of it
      resumes that generator (closing an ``iter`` closes it), so it cannot
      serve finite passes next to the student's stream: the phases get a
      ``DefaultSampler`` with its dataset, ``shuffle`` and ``seed`` (one
      shuffled pass per epoch, sharded over the ranks as the infinite one);
    * a :class:`mmtst.datasets.SeededSampler` is rebuilt around the phases'
      own copy of the sampler it wraps, with the same seed, so the phases'
      samples are still seeded per sample (by their pass's epoch);
    * any other sampler (``DefaultSampler`` ...) is copied: its orders are
      the student's sampler's for the same epoch, its epoch its own.
    """
    # a SeededSampler exists only if its module is loaded: no need to load
    # mmtst.datasets (mmpretrain's datasets) for a run without one
    seeded_loading = sys.modules.get('mmtst.datasets.seeded_loading')
    if seeded_loading is not None and isinstance(sampler,
                                                 seeded_loading.SeededSampler):
        return seeded_loading.SeededSampler(
            _own_sampler(sampler.sampler), seed=sampler.base_seed)
    if isinstance(sampler, InfiniteSampler):
        return DefaultSampler(
            sampler.dataset, shuffle=sampler.shuffle, seed=sampler.seed)
    return copy.copy(sampler)


class PhaseLoader:
    """The loader the augmenter phases of an iteration-based TST loop draw
    from: the training loader's dataset object, collate function, batch
    size and worker settings, with a sampler (and batch sampler) of its own
    and no persistent workers.

    Why: the paper's phases are full passes over the training data with
    only the augmenter learning (Shao et al., IJCAI 2023, Sec. 3.4); in an
    iteration-based loop they come in the middle of the student's infinite
    stream (mmengine's ``_InfiniteDataloaderIterator``), which must go on
    after the phase as if there had been none. Iterating the student's own
    loader does not allow that: with persistent workers ``iter(loader)``
    resets the multiprocessing iterator the stream holds (its current pass
    ends early, which a run resumed after the phase does not replay); with
    an ``InfiniteSampler`` a pass takes its indices from the student's
    stream and closes that stream's generator when it ends.

    Built once per loop (a ``DataLoader`` without persistent workers holds
    no processes between passes): each pass sets its sampler's epoch to
    :func:`phase_epoch` of (phase point, pass) and reseeds its own
    generator from (the training loader generator's seed, that epoch), so
    a pass's order, its seeded-pipeline keys and its workers' base seed
    are functions of (seed, phase, pass) alone, the same in a resumed run,
    and the student's sampler, generator and workers are never touched.
    Without a loader generator the workers' base seeds come, as before,
    from torch's default generator.

    Args:
        dataloader: The student's training loader.
    """

    def __init__(self, dataloader: DataLoader) -> None:
        if isinstance(dataloader.dataset, IterableDataset):
            raise TypeError(
                'TST phases are passes over the training set: an iterable '
                f'dataset ({type(dataloader.dataset).__name__}) has none.')
        if dataloader.batch_size is not None:  # torch's own BatchSampler
            self.sampler = _own_sampler(dataloader.sampler)
            batching = dict(
                sampler=self.sampler,
                batch_size=dataloader.batch_size,
                drop_last=dataloader.drop_last)
        else:  # a configured batch_sampler (mmdet's AspectRatioBatchSampler)
            student = dataloader.batch_sampler
            self.sampler = _own_sampler(student.sampler)
            batching = dict(
                batch_sampler=type(student)(
                    self.sampler,
                    batch_size=student.batch_size,
                    drop_last=student.drop_last))
        generator = dataloader.generator
        self.seed = None if generator is None else generator.initial_seed()
        workers = dataloader.num_workers
        extra = {}
        if hasattr(dataloader, 'in_order'):  # torch >= 2.6
            extra['in_order'] = dataloader.in_order
        self.loader = DataLoader(
            dataloader.dataset,
            collate_fn=dataloader.collate_fn,
            num_workers=workers,
            pin_memory=dataloader.pin_memory,
            timeout=dataloader.timeout,
            worker_init_fn=dataloader.worker_init_fn,
            multiprocessing_context=dataloader.multiprocessing_context,
            generator=None if self.seed is None else torch.Generator(),
            prefetch_factor=dataloader.prefetch_factor if workers else None,
            persistent_workers=False,
            pin_memory_device=dataloader.pin_memory_device,
            **batching,
            **extra)

    def __len__(self) -> int:
        return len(self.loader)

    def pass_batches(self, epoch: int) -> Iterable:
        """The batches of one pass, in the order of sampler epoch
        ``epoch``."""
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)
        if self.seed is not None:
            self.loader.generator.manual_seed((self.seed + epoch)
                                              & 0xffff_ffff_ffff_ffff)
        return self.loader


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
            raise ValueError(f'augmenter_passes must be >= 1, got {passes}')
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
            self.log_initial_policy()
        if self.reset_optimizer:
            self._recreate_optimizer()
        if point is None:
            point = self.runner.epoch
        steps_in_phase = self.passes * self.pass_length
        self.runner.call_hook(
            'before_augmenter_phase', where=where, steps=steps_in_phase)
        progress = PhaseProgress(self.runner, steps_in_phase,
                                 self.later_phase_steps())
        means: Dict[str, float] = {}
        for index in range(self.passes):
            totals, steps = defaultdict(float), 0
            batches = self.pass_batches(point, index)
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
