"""An augmenter phase of mmtst's iteration-based TST loop (passes over the
training data with only the augmenter learning: Shao et al., IJCAI 2023)
comes in the middle of the student's data stream and must leave it as it
was: each of the student's passes covers the training set once, with the
loader workers mmtst's configs ship (``num_workers=2,
persistent_workers=True``) and with mmengine's ``InfiniteSampler`` (mmseg's
iteration-based configs), and a run killed after a phase and resumed ends
bit-identical to the uninterrupted run.

Runs tools/train.py on the scenes in segmentation form (12 scenes of 64 px
in batches of 4: one pass = 3 iterations), with a hook that records the
scenes of every student and augmenter batch."""
import json
import os
import os.path as osp
import signal

import pytest
from conftest import REPO, needs_fashion_mnist
from helpers import run_train
from test_exact_resume import (FIXTURES, SEG_CONFIG, assert_same, final_state,
                               scenes, seg_options, write_config)

pytestmark = needs_fashion_mnist
__all__ = ['scenes']  # test_exact_resume's fixture: the generated scenes

SCENES, PASS = 12, 3  # training scenes; iterations per loader pass
PROBE = '''
import json
import os
import os.path as osp

from mmengine.hooks import Hook

from mmtst.registry import HOOKS


def _scenes(data_batch):
    return [osp.basename(sample.metainfo['img_path'])
            for sample in data_batch['data_samples']]


@HOOKS.register_module()
class StreamProbeHook(Hook):
    """Appends the scenes of every student and augmenter batch to the
    JSON-lines file $MMTST_STREAM_PROBE."""

    def _record(self, who, runner, data_batch):
        with open(os.environ['MMTST_STREAM_PROBE'], 'a') as f:
            f.write(json.dumps(dict(who=who, iter=runner.iter,
                                    scenes=_scenes(data_batch))) + '\\n')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._record('student', runner, data_batch)

    def before_augmenter_iter(self, runner, batch_idx, data_batch=None):
        self._record('augmenter', runner, data_batch)
'''


def train(config, work_dir, options, *extra, kill_at=None, timeout=300):
    """tools/train.py, recording the batches in ``work_dir``/stream.jsonl;
    a run that hangs fails the test after ``timeout`` seconds."""
    os.makedirs(work_dir, exist_ok=True)
    return run_train(
        config,
        work_dir,
        *extra,
        options=options,
        env=dict(
            PYTHONPATH=os.pathsep.join([REPO, FIXTURES,
                                        osp.dirname(config)]),
            MMTST_STREAM_PROBE=osp.join(work_dir, 'stream.jsonl'),
            MMTST_KILL_AT=kill_at or None),
        timeout=timeout)


def stream(work_dir):
    """(student batches by iteration, augmenter batches in order)."""
    with open(osp.join(work_dir, 'stream.jsonl')) as f:
        records = [json.loads(line) for line in f]
    student = {
        r['iter']: r['scenes']
        for r in records if r['who'] == 'student'
    }
    augmenter = [r['scenes'] for r in records if r['who'] == 'augmenter']
    return student, augmenter


def assert_full_passes(batches, where):
    """Every ``PASS`` consecutive batches hold each scene once."""
    assert len(batches) % PASS == 0, where
    for start in range(0, len(batches), PASS):
        seen = sum(batches[start:start + PASS], [])
        assert len(seen) == SCENES == len(
            set(seen)), (f'{where}, pass {start // PASS}: {seen}')


def make_config(root, **train_cfg):
    """The TST segmentation config, 3 student passes with phases at passes
    0 and 2 (each in the middle of the stream: the student's first batch
    of the pass is already drawn), the kill switch and the probe."""
    config = write_config(
        root,
        SEG_CONFIG,
        None,
        max_iters=3 * PASS,
        val_interval=1000,
        phases_at_passes=[0, 2],
        **train_cfg)
    (root / 'stream_probe.py').write_text(PROBE)
    with open(config, 'a') as f:
        f.write("custom_imports = dict(imports=['kill_switch', "
                "'stream_probe'], allow_failed_imports=False)\n"
                "custom_hooks = [dict(type='mmtst.KillSwitchHook'), "
                "dict(type='mmtst.StreamProbeHook')]\n")
    return config


def loader_options(data_root, num_workers, persistent, *extra):
    """seg_options with the training loader's workers set."""
    replace = {
        'train_dataloader.num_workers=0':
        f'train_dataloader.num_workers={num_workers}',
        'train_dataloader.persistent_workers=False':
        f'train_dataloader.persistent_workers={persistent}'
    }
    return [replace.get(o, o) for o in seg_options(data_root)] + list(extra)


def assert_phases_left_the_stream_alone(work_dir):
    student, augmenter = stream(work_dir)
    assert sorted(student) == list(range(3 * PASS))
    assert_full_passes([student[i] for i in sorted(student)], 'student')
    # two phases of one pass each, each a full pass in an order of its own
    assert len(augmenter) == 2 * PASS
    assert_full_passes(augmenter, 'augmenter')
    assert augmenter[:PASS] != augmenter[PASS:]


@pytest.fixture(scope='module')
def persistent_run(scenes):
    """The uninterrupted run with persistent loader workers."""
    root = scenes / 'persistent'
    root.mkdir()
    config = make_config(root)
    options = loader_options(scenes / 'scenes', 2, True)
    code, out = train(config, root / 'reference', options)
    assert code == 0, out[-4000:]
    return dict(root=root, config=config, options=options)


def test_phases_leave_the_persistent_workers_stream_whole(persistent_run):
    """``iter()`` of a loader with persistent workers resets the iterator
    the student's stream holds: a phase drawing from it ended the student's
    pass after its first batch."""
    assert_phases_left_the_stream_alone(persistent_run['root'] / 'reference')


@pytest.mark.parametrize('num_workers,persistent', [(0, False), (2, True)])
def test_phases_leave_an_infinite_sampler_stream_whole(scenes, num_workers,
                                                       persistent):
    """mmengine's InfiniteSampler has one index generator for its life: a
    phase drawing from the student's loader took the stream's indices and,
    when its iterator was dropped, closed the generator; the student's next
    batch then ended the run with StopIteration (persistent workers: the
    phase itself got no batch)."""
    root = scenes / f'infinite_{num_workers}'
    root.mkdir()
    config = make_config(root)
    options = loader_options(scenes / 'scenes', num_workers, persistent,
                             'train_dataloader.sampler.type=InfiniteSampler')
    code, out = train(config, root / 'run', options)
    assert code == 0, out[-4000:]
    assert_phases_left_the_stream_alone(root / 'run')


def test_killed_and_resumed_run_with_persistent_workers_matches(
        persistent_run):
    """test_exact_resume's iteration-based case with persistent workers:
    killed after iteration 7, resumed from iter_4.pth (after the phase at
    pass 0, before the one at pass 2), mmengine re-reads four batches with
    fresh workers. The uninterrupted run's stream must not depend on its
    phases for the resumed run to see the same batches."""
    root, config = persistent_run['root'], persistent_run['config']
    options = persistent_run['options']
    code, out = train(
        config, root / 'killed', options, kill_at='student_iter:7')
    assert code == -signal.SIGKILL, out[-4000:]
    with open(root / 'killed' / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_4.pth')

    code, out = train(config, root / 'killed', options, '--resume')
    assert code == 0, out[-4000:]
    assert 'Advance dataloader 4 steps' in out
    # the killed run's batches, then the resumed run's (iterations 4-8 and
    # the phase at pass 2)
    reference, reference_phases = stream(root / 'reference')
    resumed, resumed_phases = stream(root / 'killed')
    assert resumed == reference
    assert resumed_phases[-PASS:] == reference_phases[-PASS:]
    assert_same(
        final_state(root / 'reference', 'iter_9.pth'),
        final_state(root / 'killed', 'iter_9.pth'))
