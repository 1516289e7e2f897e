"""Data-pipeline random draws as a function of (run seed, epoch or stream
position, sample index) instead of the state of the process that runs them.

Why: mmengine seeds each loader worker once when it starts
(``mmengine.dataset.worker_init_fn``: ``seed + worker_id + ...``) and the
random transforms of a pipeline (``RandomCrop``, ``RandomFlip``...) then
draw from the process's Python / NumPy / torch generators. What a sample
gets therefore depends on how many samples that process has transformed
before it, which a resumed run does not reproduce:

* with workers, their generators are not in the checkpoint (and persistent
  workers carry their state across epochs), so a resumed run restarts them
  from their seeds;
* without workers, the pipeline draws from the main process's generators,
  which also drive the model; mmengine's ``IterBasedTrainLoop`` re-reads the
  batches it skips on resume *after* :class:`mmtst.ExactResumeHook` has
  restored those generators, so every later draw is shifted.

Here each sample is transformed under generators seeded from a key that
the sampler attaches to its index: ``(seed, epoch, index)`` for epoch-based
samplers (mmengine's ``DefaultSampler``, whose ``set_epoch`` the loops call)
and ``(seed, position in the stream)`` for samplers without epochs
(mmengine's ``InfiniteSampler``). The same sample of the same epoch thus
gets the same crop and flip in any process, whatever ran before, and the
main process's generators are restored after each sample.

:class:`SeededSampler` wraps the sampler and yields :class:`SeededIndex`
(an ``int`` carrying the key, so batch samplers such as mmdet's
``AspectRatioBatchSampler`` and ``dataset.get_data_info(idx)`` still work);
:class:`SeededDataset` wraps the dataset and seeds around ``__getitem__``.
:func:`seeded_dataloader_cfg` rewrites a loader config to use both;
:class:`mmtst.engine.AtomicCheckpointRunner` applies it to the training
loader (``seeded_data_pipeline = False`` in a config turns it off).

Covered: Python's ``random``, NumPy's global (legacy) generator and torch's
CPU default generator, which mmcv / mmpretrain / mmdet / mmseg transforms
and torchvision use. Not covered: generators a transform creates itself
without a seed (``np.random.default_rng()``), which are not reproducible
with or without this.
"""
import contextlib
import copy
import random
from typing import Iterator, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from torch.utils.data import IterableDataset, Sampler, get_worker_info

from mmtst.registry import DATASETS

#: first entry of a key: which kind of position follows
EPOCH_KEY, STREAM_KEY = 0, 1
_UINT64 = (1 << 64) - 1


class SeededIndex(int):
    """A dataset index that carries the key of its sample's random draws.

    An ``int`` subclass: code between the sampler and the dataset (batch
    samplers, ``get_data_info``, mmengine's ``_SlicedDataset``) uses it as
    the plain index; :class:`SeededDataset` reads :attr:`key`. It pickles
    with its key, so it reaches loader workers intact.
    """

    def __new__(cls, index: int, key: Tuple[int, ...]) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.key = tuple(int(k) for k in key)
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.key)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, key={self.key})'


def seed_words(key: Tuple[int, ...]) -> np.ndarray:
    """128 well-mixed bits (4 ``uint32``) from ``key``, by NumPy's
    ``SeedSequence`` (made for deriving independent seeds from tuples such
    as (seed, epoch, index): nearby keys give unrelated streams)."""
    entropy = [int(k) & _UINT64 for k in key]
    return np.random.SeedSequence(entropy).generate_state(4, dtype=np.uint32)


def seed_generators(key: Tuple[int, ...]) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch's CPU
    generator from ``key``. torch through ``torch.default_generator``:
    ``torch.manual_seed`` would also reseed the CUDA generators, which CPU
    data pipelines do not use and :func:`seeded_random` does not restore."""
    words = seed_words(key)
    random.seed(int.from_bytes(words.tobytes(), 'little'))
    np.random.seed(words)
    torch.default_generator.manual_seed(int(words[0]) | int(words[1]) << 32)


@contextlib.contextmanager
def seeded_random(key: Tuple[int, ...], restore: bool = True):
    """The body runs with the generators seeded from ``key``
    (:func:`seed_generators`); then, if ``restore``, they get back the
    states they had.

    Restoring matters in the main process (``num_workers=0``), whose
    generators also drive the model: fetching a sample leaves them as they
    were. In a loader worker the generators serve only the samples, each
    seeded afresh, and :class:`SeededDataset` skips the restore (NumPy's
    state alone takes about a third of a Fashion-MNIST image's pipeline
    to save and put back).
    """
    if not restore:
        seed_generators(key)
        yield
        return
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    try:
        seed_generators(key)
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)


@DATASETS.register_module()
class SeededDataset:
    """Wraps a map-style dataset: an index from :class:`SeededSampler` is
    fetched under :func:`seeded_random` of its key (restoring the
    generators in the main process only); a plain ``int`` (val / test
    loaders, tools that index the dataset) is fetched as before.

    Attributes and methods it does not define (``metainfo``,
    ``get_data_info``, ``pipeline``, ...) are the wrapped dataset's, as
    mmengine's ``_SlicedDataset`` passes them through, and setting one sets
    it there (mmdet's ``PipelineSwitchHook`` assigns ``dataset.pipeline``).

    Args:
        dataset: The dataset or its config (built as mmengine's
            ``Runner.build_dataloader`` builds one).
    """

    def __init__(self, dataset) -> None:
        if isinstance(dataset, dict):
            dataset = MMENGINE_DATASETS.build(dataset)
        if isinstance(dataset, IterableDataset):
            raise TypeError(
                f'{type(dataset).__name__} is an iterable dataset: it has '
                'no indices to seed. Set `seeded_data_pipeline = False` in '
                'the config.')
        object.__setattr__(self, 'dataset', dataset)

    def __getattr__(self, name: str):
        # dunders (pickle's, copy's, torch's __getitems__ fast path) stay
        # ours: forwarding __getitems__ would fetch without the seeds
        if name == 'dataset' or (name.startswith('__')
                                 and name.endswith('__')):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __setattr__(self, name: str, value) -> None:
        if name == 'dataset':
            object.__setattr__(self, name, value)
        else:
            setattr(self.dataset, name, value)

    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx):
        key = getattr(idx, 'key', None)
        if key is None:
            return self.dataset[idx]
        in_main_process = get_worker_info() is None
        with seeded_random(key, restore=in_main_process):
            return self.dataset[int(idx)]

    def __repr__(self) -> str:
        return f'SeededDataset({self.dataset!r})'


class SeededSampler(Sampler):
    """Wraps a sampler: yields its indices as :class:`SeededIndex`, keyed

    * ``(seed, EPOCH_KEY, epoch, index)`` when the sampler has an ``epoch``
      (mmengine's ``DefaultSampler``; the epoch is read when iteration
      starts, as ``DefaultSampler`` reads it for its order), so a sample's
      draws depend on the epoch and not on which rank or worker fetches it
      or how the data are sharded;
    * ``(seed, STREAM_KEY, position)`` otherwise (mmengine's
      ``InfiniteSampler``, whose stream continues across ``iter`` calls):
      the position in the stream of all ranks (``rank + k * world_size``
      for this rank's ``k``-th index), counted across ``iter`` calls.

    Which indices come, and in which order, is the wrapped sampler's
    (sharding included). ``set_epoch`` and other attributes (``dataset``,
    ``seed``, ``epoch``...) are the wrapped sampler's.

    Args:
        sampler: The sampler or its config (built as mmengine's
            ``Runner.build_dataloader`` builds one, with ``dataset`` and
            ``seed``).
        dataset: Passed to a sampler config.
        seed: Passed to a sampler config; the key's seed is the sampler's
            own ``seed`` (the same on all ranks), else this, else a seed
            shared by the ranks (as ``DefaultSampler`` draws one).
    """

    def __init__(self,
                 sampler,
                 dataset=None,
                 seed: Optional[int] = None) -> None:
        if isinstance(sampler, dict):
            sampler = DATA_SAMPLERS.build(
                sampler, default_args=dict(dataset=dataset, seed=seed))
        self.sampler = sampler
        base = getattr(sampler, 'seed', None)
        if not isinstance(base, int):
            base = seed if seed is not None else sync_random_seed()
        self.base_seed = int(base)
        self._position = 0  # stream mode: indices yielded by this rank

    def __getattr__(self, name: str):
        if name == 'sampler' or (name.startswith('__')
                                 and name.endswith('__')):
            raise AttributeError(name)
        return getattr(self.sampler, name)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[SeededIndex]:
        epoch = getattr(self.sampler, 'epoch', None)
        if isinstance(epoch, int):
            prefix = (self.base_seed, EPOCH_KEY, epoch)
            return (SeededIndex(i, prefix + (i, )) for i in self.sampler)
        return self._stream()

    def _stream(self) -> Iterator[SeededIndex]:
        rank = int(getattr(self.sampler, 'rank', 0))
        world_size = int(getattr(self.sampler, 'world_size', 1))
        for index in self.sampler:
            position = rank + self._position * world_size
            self._position += 1
            yield SeededIndex(index, (self.base_seed, STREAM_KEY, position))


def is_seeded(dataloader_cfg: dict) -> bool:
    """Whether :func:`seeded_dataloader_cfg` has rewritten this config."""
    dataset = dataloader_cfg.get('dataset')
    if not isinstance(dataset, dict):
        return False
    return dataset.get('type') in (SeededDataset, 'mmtst.SeededDataset')


def seeded_dataloader_cfg(dataloader_cfg: dict, seed: int) -> dict:
    """A copy of a loader config (mmengine's ``train_dataloader`` form) that
    builds, through mmengine's own ``Runner.build_dataloader``, a loader
    whose pipeline draws are seeded per sample.

    * ``dataset`` becomes a :class:`SeededDataset` of it;
    * ``sampler`` becomes a :class:`SeededSampler` of it (a
      ``batch_sampler`` then batches the seeded indices);
    * the loader gets a ``torch.Generator`` seeded with ``seed``, unless
      the config names one: torch's DataLoader draws a base seed each time
      an iterator is made (every epoch without persistent workers), from
      the main process's torch generator when it has none of its own. A
      resumed run makes its iterators at other points of that stream than
      the uninterrupted run (persistent workers' one iterator after the
      restore; mmengine's iteration-based loop one per end of the data it
      crosses while skipping), which moved every later draw of the model.

    A config already rewritten comes back unchanged.
    """
    incomplete = any(
        part not in dataloader_cfg for part in ('dataset', 'sampler'))
    if incomplete or is_seeded(dataloader_cfg):
        return dataloader_cfg  # (mmengine reports a missing part itself)
    cfg = copy.deepcopy(dataloader_cfg)
    cfg['dataset'] = dict(type=SeededDataset, dataset=cfg['dataset'])
    cfg['sampler'] = dict(type=SeededSampler, sampler=cfg['sampler'])
    if cfg.get('generator') is None:
        cfg['generator'] = torch.Generator().manual_seed(int(seed))
    return cfg
