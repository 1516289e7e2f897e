"""Per-sample seeded data pipelines (mmtst/datasets/seeded_loading.py): a
sample's random transforms depend on (seed, epoch, index) only - not on
the process that runs them, what it drew before, or the loader's workers -
and fetching a sample leaves the process's generators as they were."""
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.dataset import BaseDataset, DefaultSampler, InfiniteSampler
from mmengine.runner import Runner

from mmtst.datasets import (SeededDataset, SeededIndex, SeededSampler,
                            seeded_dataloader_cfg)

TESTS = os.path.dirname(os.path.abspath(__file__))


def draw_torch(results):
    results['torch'] = torch.rand(2).tolist()
    return results


def draw_python(results):
    results['python'] = random.random()
    return results


class Images(BaseDataset):
    """12 distinct 8x8 images in two classes; the pipeline crops and
    flips them (mmpretrain / mmcv, NumPy's generator) and draws from torch
    and Python's ``random`` too, as other transforms do."""
    METAINFO = dict(classes=('a', 'b'))

    def __init__(self, **kwargs):
        pipeline = [
            dict(type='mmpretrain.RandomCrop', crop_size=6),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            draw_torch,
            draw_python,
        ]
        super().__init__(pipeline=pipeline, serialize_data=False, **kwargs)

    def load_data_list(self):
        return [
            dict(
                img=np.arange(64, dtype=np.int32).reshape(8, 8) + 100 * i,
                gt_label=i % 2) for i in range(12)
        ]


def as_list(samples: list) -> list:
    """Collate to the list of samples (pseudo_collate would transpose
    them into a dict of lists)."""
    return samples


def summary(sample) -> list:
    """What the random transforms decided, as plain data."""
    return [
        int(sample['sample_idx']), sample['img'].tolist(),
        bool(sample['flip']), sample['torch'], sample['python']
    ]


def loader_cfg(**kwargs) -> dict:
    cfg = dict(
        batch_size=4,
        num_workers=0,
        dataset=dict(type=Images),
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type=as_list))
    cfg.update(kwargs)
    return cfg


def epoch_draws(epoch: int, **kwargs) -> list:
    """Every sample of ``epoch`` through a seeded loader built by mmengine's
    ``Runner.build_dataloader`` (run seed 0)."""
    loader = Runner.build_dataloader(
        seeded_dataloader_cfg(loader_cfg(**kwargs), seed=0), seed=0)
    loader.sampler.set_epoch(epoch)
    return [summary(s) for batch in loader for s in batch]


def test_same_epoch_same_draws_after_other_draws_and_in_workers():
    first = epoch_draws(1)
    random.random(), np.random.rand(3), torch.rand(3)  # others draw between
    assert epoch_draws(1) == first
    # the same in two loader workers (the order of the batches is the
    # sampler's, whichever worker transforms them)
    assert epoch_draws(1, num_workers=2) == first
    # a new epoch shuffles and draws again
    again = epoch_draws(2)
    assert sorted(d[0] for d in again) == sorted(d[0] for d in first)
    by_index = {d[0]: d for d in first}
    assert all(d != by_index[d[0]] for d in again)


def test_persistent_workers_follow_the_epoch():
    loader = Runner.build_dataloader(
        seeded_dataloader_cfg(
            loader_cfg(num_workers=2, persistent_workers=True), seed=0),
        seed=0)
    seen = []
    for epoch in (0, 1, 2):
        loader.sampler.set_epoch(epoch)
        seen.append([summary(s) for batch in loader for s in batch])
    assert seen[2] == epoch_draws(2)  # workers that served two epochs
    assert seen[0] != seen[1]


def test_same_draws_in_a_fresh_process():
    code = ('import json, sys; sys.path[:0] = sys.argv[1:3]; '
            'import test_datasets_seeded_loading as t; '
            'print("DRAWS", json.dumps(t.epoch_draws(3)))')
    proc = subprocess.run([sys.executable, '-c', code, REPO, TESTS],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    [line] = [x for x in proc.stdout.splitlines() if x.startswith('DRAWS ')]
    assert json.loads(line[len('DRAWS '):]) == json.loads(
        json.dumps(epoch_draws(3)))


def reseed(seed=5):
    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)


def test_fetching_leaves_the_process_generators_as_they_were():
    dataset = SeededDataset(dict(type=Images))
    reseed()
    python, numpy, cpu = (random.getstate(), np.random.get_state(),
                          torch.get_rng_state())
    sample = summary(dataset[SeededIndex(4, (0, 0, 1, 4))])
    assert random.getstate() == python
    assert all(
        np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy))
    assert torch.equal(torch.get_rng_state(), cpu)
    # the key decides, not the process's state
    reseed(6)
    assert summary(dataset[SeededIndex(4, (0, 0, 1, 4))]) == sample
    assert summary(dataset[SeededIndex(4, (0, 0, 2, 4))]) != sample


def test_a_plain_index_is_fetched_as_without_the_wrapper():
    """Val / test loaders and tools that index the dataset get what they
    got before: the process's own draws."""
    dataset, plain = SeededDataset(dict(type=Images)), Images()
    reseed()
    expected = summary(plain[4])
    reseed()
    assert summary(dataset[4]) == expected


def test_the_wrappers_pass_the_dataset_and_sampler_through():
    dataset = SeededDataset(dict(type=Images))
    assert len(dataset) == 12
    assert dataset.metainfo['classes'] == ('a', 'b')
    assert dataset.get_data_info(3)['gt_label'] == 1
    pipeline = dataset.pipeline
    dataset.pipeline = 'switched'  # as mmdet's PipelineSwitchHook does
    assert dataset.dataset.pipeline == 'switched'
    dataset.pipeline = pipeline
    sample = dataset[SeededIndex(3, (0, 0, 0, 3))]
    assert type(sample['sample_idx']) is int  # what FunMatch's cache reads

    inner = DefaultSampler(dataset, shuffle=True, seed=7)
    sampler = SeededSampler(inner)
    assert sampler.base_seed == 7 and len(sampler) == 12
    assert sampler.dataset is dataset and sampler.shuffle
    sampler.set_epoch(4)
    assert inner.epoch == 4
    indices = list(sampler)
    assert indices == list(inner)  # the wrapped sampler's order
    assert all(i.key == (7, 0, 4, int(i)) for i in indices)


def test_ranks_shard_as_the_wrapped_sampler_and_key_by_index(monkeypatch):
    dataset = Images()
    per_rank = {}
    for rank in (0, 1):
        monkeypatch.setattr(
            'mmengine.dataset.sampler.get_dist_info',
            lambda rank=rank: (rank, 2))
        inner = DefaultSampler(dataset, shuffle=True, seed=0)
        inner.set_epoch(1)
        seeded = SeededSampler(DefaultSampler(dataset, shuffle=True, seed=0))
        seeded.set_epoch(1)
        per_rank[rank] = list(seeded)
        assert per_rank[rank] == list(inner)
    assert sorted(per_rank[0] + per_rank[1]) == list(range(12))
    # a sample's key is the same whichever rank fetches it
    assert {i.key
            for i in per_rank[0] + per_rank[1]} == {(0, 0, 1, i)
                                                    for i in range(12)}


def test_an_infinite_sampler_is_keyed_by_stream_position():
    """mmengine's InfiniteSampler continues its stream across ``iter``
    calls (the iteration-based loop re-reads skipped batches from a new
    iterator): the keys follow the stream position, not the call."""
    dataset = Images()
    whole = SeededSampler(InfiniteSampler(dataset, seed=0))
    stream = iter(whole)
    expected = [next(stream) for _ in range(30)]
    assert [i.key for i in expected] == [(0, 1, p) for p in range(30)]
    pieces = SeededSampler(InfiniteSampler(dataset, seed=0))
    got, iterators = [], []
    for size in (4, 10, 16):
        # kept alive: a dropped InfiniteSampler iterator closes the stream
        # it delegates to (mmengine's, with or without the wrapper)
        iterators.append(iter(pieces))
        got += [next(iterators[-1]) for _ in range(size)]
    assert got == expected and [i.key
                                for i in got] == [i.key for i in expected]


def test_seeded_index_pickles_with_its_key():
    import pickle
    index = SeededIndex(9, (1, 0, 2, 9))
    copy = pickle.loads(pickle.dumps(index))
    assert copy == 9 and copy.key == (1, 0, 2, 9)
    assert isinstance(copy, SeededIndex)


def test_the_loader_config_is_wrapped_once():
    cfg = loader_cfg()
    seeded = seeded_dataloader_cfg(cfg, seed=3)
    assert cfg == loader_cfg()  # the original is not edited
    assert seeded['dataset'] == dict(
        type=SeededDataset, dataset=cfg['dataset'])
    assert seeded['sampler'] == dict(
        type=SeededSampler, sampler=cfg['sampler'])
    assert isinstance(seeded['generator'], torch.Generator)
    assert seeded_dataloader_cfg(seeded, seed=3) is seeded


@pytest.mark.parametrize('flag', [None, False])
def test_the_runner_seeds_only_the_training_loader(tmp_path, flag):
    """On by default; ``seeded_data_pipeline = False`` in the config turns
    it off. Validation is never wrapped."""
    from mmengine.config import Config
    from mmengine.model import BaseModel

    from mmtst.engine import AtomicCheckpointRunner

    class Model(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return dict(loss=self.linear.weight.sum())

    cfg = Config(dict(seeded_data_pipeline=flag) if flag is not None else {})
    runner = AtomicCheckpointRunner(
        model=Model(),
        work_dir=str(tmp_path),
        train_dataloader=loader_cfg(),
        val_dataloader=loader_cfg(),
        val_cfg=dict(),
        val_evaluator=dict(type='mmpretrain.Accuracy'),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        randomness=dict(seed=0),
        cfg=cfg)
    train_set = runner.train_dataloader.dataset
    assert isinstance(train_set, SeededDataset) == (flag is None)
    assert not isinstance(runner.val_dataloader.dataset, SeededDataset)
    assert isinstance(train_set, SeededDataset) == isinstance(
        runner.train_dataloader.sampler, SeededSampler)
