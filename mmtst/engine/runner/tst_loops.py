"""Train loops that alternate the student with TST's augmenter."""
import logging
from typing import Dict, List, Optional, Sequence, Union

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmtst.registry import LOOPS
from .augmenter_trainer import AugmenterTrainer
from .interleaved_steps import InterleavedAugmenterSteps


def _renamed(value, old_value, name: str, old_name: str, default):
    """``value``, or, from a config written before the rename, the value of
    its old name ``old_name`` (with a warning; both at once are refused)."""
    if old_value is None:
        return default if value is None else value
    if value is not None:
        raise ValueError(f'train_cfg sets both {name} and {old_name}, its '
                         f'old name: keep {name} only.')
    print_log(
        f'train_cfg.{old_name} is now called {name}: rename it in the '
        'config (the old name is still read).',
        logger='current',
        level=logging.WARNING)
    return old_value


def _check_schedule(points: Sequence[int], interleave: Optional[int],
                    unit: str) -> List[int]:
    points = sorted(int(p) for p in points)
    if any(p < 0 for p in points):
        raise ValueError(f'augmenter {unit} must be >= 0, got {points}')
    if interleave is not None and interleave < 1:
        raise ValueError(f'interleave_interval must be >= 1, got {interleave}')
    return points


class TSTLoopState:
    """What a TST loop adds to mmengine's loop state, for an exact resume:
    the augmenter trainer's state (ALRS, the phase's base learning rates,
    the interleaved accumulators). mmengine saves the loop's counters in
    the checkpoint's ``meta``; :class:`mmtst.ExactResumeHook` saves this
    through ``runner.train_loop.state_dict()``."""

    augmenter_trainer: AugmenterTrainer

    def state_dict(self) -> dict:
        return dict(augmenter_trainer=self.augmenter_trainer.state_dict())

    def load_state_dict(self, state: dict) -> None:
        self.augmenter_trainer.load_state_dict(state['augmenter_trainer'])


def _interleave(loop, runner, interval: Optional[int]) -> None:
    loop.interleave_interval = interval
    if interval:
        runner.register_hook(
            InterleavedAugmenterSteps(loop),
            priority=InterleavedAugmenterSteps.priority)


@LOOPS.register_module()
class TSTEpochBasedTrainLoop(TSTLoopState, EpochBasedTrainLoop):
    """Epoch-based training with TST augmenter phases.

    Paper-faithful schedule (Shao et al., IJCAI 2023, Sec. 4.1): after the
    student has completed each number of epochs in ``phases_at_epochs``
    (e.g. ``[30, 90]`` on CIFAR-100), ``passes_per_phase`` full passes of
    augmenter-only training run, then student training resumes.
    ``interleave_interval=k`` (beyond the paper) instead makes one augmenter
    step after every k student iterations; both may be combined.

    Args:
        runner: The runner.
        dataloader: Training loader (or its config).
        max_epochs: Student epochs.
        phases_at_epochs: Completed-epoch counts before which a phase runs
            (0 = before any student training). Defaults to ().
        passes_per_phase: Loader passes per phase. Defaults to 1.
        interleave_interval: One augmenter step every this many student
            iterations. Defaults to None (off).
        alrs: ALRS settings. Defaults to the paper's.
        reset_augmenter_optimizer: Re-create the augmenter's SGD at each
            phase (paper). Defaults to True.
        augmenter_epochs, augmenter_passes: The old names of
            ``phases_at_epochs`` and ``passes_per_phase``, still read.
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 phases_at_epochs: Optional[Sequence[int]] = None,
                 passes_per_phase: Optional[int] = None,
                 interleave_interval: Optional[int] = None,
                 alrs: Optional[dict] = None,
                 reset_augmenter_optimizer: bool = True,
                 augmenter_epochs: Optional[Sequence[int]] = None,
                 augmenter_passes: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        phases_at_epochs = _renamed(phases_at_epochs, augmenter_epochs,
                                    'phases_at_epochs', 'augmenter_epochs', ())
        passes = _renamed(passes_per_phase, augmenter_passes,
                          'passes_per_phase', 'augmenter_passes', 1)
        self.phases_at_epochs = _check_schedule(phases_at_epochs,
                                                interleave_interval, 'epochs')
        self.augmenter_trainer = AugmenterTrainer(runner, self.dataloader,
                                                  passes, alrs,
                                                  reset_augmenter_optimizer)
        _interleave(self, runner, interleave_interval)
        self.augmenter_trainer.later_phase_steps = lambda: len(
            [e for e in self.phases_at_epochs
             if e > self._epoch]) * passes * self.augmenter_trainer.pass_length

    def run_epoch(self) -> None:
        if self._epoch in self.phases_at_epochs:
            self.runner.logger.info(
                f'TST: augmenter phase after {self._epoch} student epochs '
                f'({self.augmenter_trainer.passes} passes)')
            self.augmenter_trainer.run_phase(
                f'phase at epoch {self._epoch}', point=self._epoch)
            self.runner.model.train()
        super().run_epoch()

    def pass_ending_at(self, batch_idx: int) -> Optional[str]:
        """The pass (student epoch) that iteration ``batch_idx`` ends."""
        if batch_idx == len(self.dataloader) - 1:
            return f'epoch {self._epoch}'
        return None


@LOOPS.register_module()
class TSTIterBasedTrainLoop(TSTLoopState, IterBasedTrainLoop):
    """Iteration-based training (mmseg's schedules) with TST phases.

    Phases are placed in *passes over the training set* (one pass = the
    iterations in which each rank sees its share of the set once: the
    length of the phases' sharded loader, not of mmengine's
    ``InfiniteSampler``, whose length is the whole set's on every rank), as
    in the paper's Cityscapes runs (phases at passes 0, 6 and 12): a phase
    runs when the student has completed that many passes' worth of
    iterations.

    A phase then comes in the middle of the student's data stream, which
    must go on afterwards as if there had been no phase (each of its passes
    covering the training set once, the same in a run resumed after the
    phase). So the phases draw from a
    :class:`~mmtst.engine.runner.phase_loader.PhaseLoader` of their
    own (the training loader's dataset and collate function, its own
    sampler, no persistent workers), never from the student's loader: with
    persistent workers ``iter()`` of that loader resets the stream's
    iterator, and mmengine's ``InfiniteSampler`` (mmseg's configs) would
    hand the phase the stream's own indices and close its generator. The
    phase at pass ``p`` makes its passes in the orders of sampler epochs
    ``10000 + 1000 p + i`` (``i``: its pass), shuffled (for an
    ``InfiniteSampler``, as ``DefaultSampler`` does) with the sampler's
    seed. (An epoch-based loop's phases come between epochs, when the
    student's iterator is exhausted: they use the training loader itself.)

    Args:
        runner: The runner.
        dataloader: Training loader (or its config).
        max_iters: Student iterations.
        phases_at_passes: Points of the phases, in completed loader passes.
            Defaults to ().
        passes_per_phase: Loader passes per phase. Defaults to 1.
        interleave_interval: As in :class:`TSTEpochBasedTrainLoop`.
        alrs: ALRS settings. Defaults to the paper's.
        reset_augmenter_optimizer: Defaults to True.
        augmenter_at_passes, augmenter_passes: The old names of
            ``phases_at_passes`` and ``passes_per_phase``, still read.
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 phases_at_passes: Optional[Sequence[int]] = None,
                 passes_per_phase: Optional[int] = None,
                 interleave_interval: Optional[int] = None,
                 alrs: Optional[dict] = None,
                 reset_augmenter_optimizer: bool = True,
                 augmenter_at_passes: Optional[Sequence[int]] = None,
                 augmenter_passes: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_iters, **kwargs)
        phases_at_passes = _renamed(phases_at_passes, augmenter_at_passes,
                                    'phases_at_passes', 'augmenter_at_passes',
                                    ())
        passes = _renamed(passes_per_phase, augmenter_passes,
                          'passes_per_phase', 'augmenter_passes', 1)
        self.phases_at_passes = _check_schedule(phases_at_passes,
                                                interleave_interval, 'passes')
        self.augmenter_trainer = AugmenterTrainer(
            runner,
            self.dataloader,
            passes,
            alrs,
            reset_augmenter_optimizer,
            own_loader=True)
        # one pass = this rank's share of the training set: the phases'
        # finite sampler is sharded over the ranks, while the length of
        # mmengine's InfiniteSampler is the whole dataset's
        self.pass_length = self.augmenter_trainer.pass_length
        self.augmenter_iters = [
            p * self.pass_length for p in self.phases_at_passes
        ]
        _interleave(self, runner, interleave_interval)
        self.augmenter_trainer.later_phase_steps = lambda: len(
            [i for i in self.augmenter_iters
             if i > self._iter]) * passes * self.augmenter_trainer.pass_length

    def run_iter(self, data_batch) -> None:
        if self._iter in self.augmenter_iters:
            self.augmenter_trainer.run_phase(
                f'phase at iteration {self._iter}',
                point=self._iter // self.pass_length)
            self.runner.model.train()
        super().run_iter(data_batch)

    def pass_ending_at(self, batch_idx: int) -> Optional[str]:
        """The pass over the loader that iteration ``batch_idx`` ends."""
        done = batch_idx + 1
        if done % self.pass_length == 0:
            return f'pass {done // self.pass_length}'
        return None
