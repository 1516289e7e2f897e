"""Train loops that alternate the student with TST's augmenter."""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmtst.registry import LOOPS
from .augmenter_trainer import AugmenterTrainer


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


def _train_iter(loop, batch_idx: int, data_batch, pass_ends: bool,
                where: str) -> None:
    """mmengine's ``run_iter`` of a TST loop, with the interleaved augmenter
    step (and, at the end of a pass over the loader, its ALRS step) inside
    the iteration: before the ``after_train_iter`` / ``after_train_epoch``
    hooks, so the checkpoints they write hold the augmenter's state after
    this iteration."""
    runner = loop.runner
    runner.call_hook(
        'before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
    outputs = runner.model.train_step(
        data_batch, optim_wrapper=runner.optim_wrapper)
    if loop.interleave_interval:
        if (loop._iter + 1) % loop.interleave_interval == 0:
            loop.augmenter_trainer.interleaved_step(data_batch, batch_idx)
        if pass_ends:
            loop.augmenter_trainer.end_interleaved_epoch(where)
    runner.call_hook(
        'after_train_iter',
        batch_idx=batch_idx,
        data_batch=data_batch,
        outputs=outputs)
    loop._iter += 1


@LOOPS.register_module()
class TSTEpochBasedTrainLoop(TSTLoopState, EpochBasedTrainLoop):
    """Epoch-based training with TST augmenter phases.

    Paper-faithful schedule (Shao et al., IJCAI 2023, Sec. 4.1): after the
    student has completed each number of epochs in ``augmenter_epochs``
    (e.g. ``[30, 90]`` on CIFAR-100), ``augmenter_passes`` full passes of
    augmenter-only training run, then student training resumes.
    ``interleave_interval=k`` (beyond the paper) instead makes one augmenter
    step after every k student iterations; both may be combined.

    Args:
        runner: The runner.
        dataloader: Training loader (or its config).
        max_epochs: Student epochs.
        augmenter_epochs: Completed-epoch counts before which a phase runs
            (0 = before any student training). Defaults to ().
        augmenter_passes: Loader passes per phase. Defaults to 1.
        interleave_interval: One augmenter step every this many student
            iterations. Defaults to None (off).
        alrs: ALRS settings. Defaults to the paper's.
        reset_augmenter_optimizer: Re-create the augmenter's SGD at each
            phase (paper). Defaults to True.
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 augmenter_epochs: Sequence[int] = (),
                 augmenter_passes: int = 1,
                 interleave_interval: Optional[int] = None,
                 alrs: Optional[dict] = None,
                 reset_augmenter_optimizer: bool = True,
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        self.augmenter_epochs = _check_schedule(augmenter_epochs,
                                                interleave_interval, 'epochs')
        self.interleave_interval = interleave_interval
        self.augmenter_trainer = AugmenterTrainer(runner, self.dataloader,
                                                  augmenter_passes, alrs,
                                                  reset_augmenter_optimizer)
        self.augmenter_trainer.later_phase_steps = lambda: len([
            e for e in self.augmenter_epochs if e > self._epoch
        ]) * augmenter_passes * self.augmenter_trainer.pass_length

    def run_epoch(self) -> None:
        if self._epoch in self.augmenter_epochs:
            self.runner.logger.info(
                f'TST: augmenter phase after {self._epoch} student epochs '
                f'({self.augmenter_trainer.passes} passes)')
            self.augmenter_trainer.run_phase(
                f'phase at epoch {self._epoch}', point=self._epoch)
            self.runner.model.train()
        super().run_epoch()

    def run_iter(self, idx: int, data_batch) -> None:
        _train_iter(
            self,
            idx,
            data_batch,
            pass_ends=idx == len(self.dataloader) - 1,
            where=f'epoch {self._epoch}')


@LOOPS.register_module()
class TSTIterBasedTrainLoop(TSTLoopState, IterBasedTrainLoop):
    """Iteration-based training (mmseg's schedules) with TST phases.

    Phases are placed in *passes over the loader* (one pass = the loader's
    length in iterations), as in the paper's Cityscapes runs (phases at
    passes 0, 6 and 12): a phase runs when the student has completed that
    many passes' worth of iterations.

    A phase then comes in the middle of the student's data stream, which
    must go on afterwards as if there had been no phase (each of its passes
    covering the training set once, the same in a run resumed after the
    phase). So the phases draw from a
    :class:`~mmtst.engine.runner.augmenter_trainer.PhaseLoader` of their
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
        augmenter_at_passes: Points of the phases, in loader passes.
            Defaults to ().
        augmenter_passes: Loader passes per phase. Defaults to 1.
        interleave_interval: As in :class:`TSTEpochBasedTrainLoop`.
        alrs: ALRS settings. Defaults to the paper's.
        reset_augmenter_optimizer: Defaults to True.
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 augmenter_at_passes: Sequence[int] = (),
                 augmenter_passes: int = 1,
                 interleave_interval: Optional[int] = None,
                 alrs: Optional[dict] = None,
                 reset_augmenter_optimizer: bool = True,
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_iters, **kwargs)
        points = _check_schedule(augmenter_at_passes, interleave_interval,
                                 'passes')
        self.pass_length = len(self.dataloader)
        self.augmenter_iters = [p * self.pass_length for p in points]
        self.interleave_interval = interleave_interval
        self.augmenter_trainer = AugmenterTrainer(
            runner,
            self.dataloader,
            augmenter_passes,
            alrs,
            reset_augmenter_optimizer,
            own_loader=True)
        self.augmenter_trainer.later_phase_steps = lambda: len([
            i for i in self.augmenter_iters if i > self._iter
        ]) * augmenter_passes * self.augmenter_trainer.pass_length

    def run_iter(self, data_batch) -> None:
        if self._iter in self.augmenter_iters:
            self.augmenter_trainer.run_phase(
                f'phase at iteration {self._iter}',
                point=self._iter // self.pass_length)
            self.runner.model.train()
        done = self._iter + 1
        _train_iter(
            self,
            self._iter,
            data_batch,
            pass_ends=done % self.pass_length == 0,
            where=f'pass {done // self.pass_length}')
