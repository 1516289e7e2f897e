"""Where TST's augmenter phases draw their batches from.

The paper's phases are full passes over the training data with only the
augmenter learning (Shao et al., IJCAI 2023, Sec. 3.4). Each pass is one
order of the sampler, its epoch given by :func:`phase_epoch`; an
iteration-based loop's phases draw from a :class:`PhaseLoader` of their
own.
"""
import copy
import sys
from typing import Iterable

import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from torch.utils.data import DataLoader, IterableDataset


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
