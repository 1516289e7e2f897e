"""Engine pieces: atomic checkpoints, weights-only resume data, ALRS."""
import os

import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmtst.engine import ALRS, WeightsOnlyCheckpointHook
from mmtst.engine.runner.atomic_runner import AtomicCheckpointRunner


def _writer(crash):
    """Stands in for Runner.save_checkpoint's write: some bytes, then a
    crash (as a SIGKILL mid-save would leave them)."""

    def save_checkpoint(runner_self, out_dir, filename, *args, **kwargs):
        with open(os.path.join(out_dir, filename), 'wb') as f:
            f.write(b'partial bytes')
            if crash:
                raise KeyboardInterrupt('killed during save')
            f.write(b' and the rest')

    return save_checkpoint


def test_a_crash_during_save_keeps_the_previous_checkpoint(
        tmp_path, monkeypatch):
    final = tmp_path / 'epoch_1.pth'
    final.write_bytes(b'previous complete checkpoint')
    runner = AtomicCheckpointRunner.__new__(AtomicCheckpointRunner)
    monkeypatch.setattr('mmengine.runner.Runner.save_checkpoint',
                        _writer(crash=True))
    with pytest.raises(KeyboardInterrupt):
        runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    assert final.read_bytes() == b'previous complete checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth'], 'partial file left behind'
    monkeypatch.setattr('mmengine.runner.Runner.save_checkpoint',
                        _writer(crash=False))
    runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    assert final.read_bytes() == b'partial bytes and the rest'


def test_history_buffers_round_trip_through_weights_only_load(tmp_path):
    hook = WeightsOnlyCheckpointHook()
    buffer = HistoryBuffer()
    for value in (1.0, 2.0, 4.0):
        buffer.update(value)
    checkpoint = dict(message_hub=dict(log_scalars={'train/loss': buffer}))
    hook.before_save_checkpoint(None, checkpoint)
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)  # no allow-list needed
    hook.after_load_checkpoint(None, loaded)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.mean() == pytest.approx(buffer.mean())
    assert restored.current() == 4.0


def test_alrs_decays_only_on_a_plateau():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.01)
    alrs = ALRS(optimizer)
    assert not alrs.step(1.0)  # first epoch: nothing to compare
    assert not alrs.step(0.9)  # fell by 0.1: keep the lr
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.01)
    assert alrs.step(0.895)  # fell by 0.005 (< 0.02 and < 2%)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.009)
    assert alrs.step(0.9)  # rose by 0.005: settled, decay
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.0081)


def test_non_finite_loss_stops_with_the_last_good_checkpoint(tmp_path):
    from types import SimpleNamespace

    from mmtst.engine import FiniteLossHook, NonFiniteLossError
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    runner = SimpleNamespace(work_dir=str(tmp_path), iter=41, epoch=3)
    hook = FiniteLossHook()
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.5)))
    with pytest.raises(NonFiniteLossError, match='epoch_3.pth') as info:
        hook.after_train_iter(
            runner,
            0,
            outputs=dict(
                loss=torch.tensor(float('nan')),
                **{'distill.loss_kd': torch.tensor(float('inf'))}))
    assert 'iteration 42' in str(info.value) and 'distill.loss_kd=inf' in str(
        info.value)


def _trainer_with_fake_runner(**trainer_kwargs):
    """An AugmenterTrainer over a stand-in runner whose model records the
    augmenter's train/eval mode at each step and reports loss 1.0."""
    import logging
    from types import SimpleNamespace

    from mmengine.optim import OptimWrapper, OptimWrapperDict

    from mmtst.engine.hooks import AugmenterLoggerHook
    from mmtst.engine.runner.augmenter_trainer import AugmenterTrainer

    class Model(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.augmenter = torch.nn.Linear(1, 1)
            self.seen = []

        def augmenter_step(self, data, optim_wrapper):
            self.seen.append(self.augmenter.training)
            return dict(loss=torch.tensor(1.0))

    model = Model()
    model.augmenter.policy_dict = lambda: {}
    wrapper = OptimWrapperDict(
        augmenter=OptimWrapper(
            torch.optim.SGD(model.augmenter.parameters(), lr=0.01)))
    runner = SimpleNamespace(
        model=model,
        optim_wrapper=wrapper,
        param_schedulers=None,
        epoch=2,
        iter=0,
        logger=logging.getLogger('phase-test'),
        visualizer=SimpleNamespace(add_scalars=lambda *args, **kwargs: None),
        hook_calls=[])
    # mmengine's call_hook, recording the calls, with mmtst's augmenter
    # logger as the only hook
    logger_hook = AugmenterLoggerHook()

    def call_hook(name, **kwargs):
        runner.hook_calls.append((name, kwargs))
        if hasattr(logger_hook, name):
            getattr(logger_hook, name)(runner, **kwargs)

    runner.call_hook = call_hook
    return AugmenterTrainer(runner, [dict(x=1), dict(x=2)], **trainer_kwargs)


def test_hooks_see_every_augmenter_step_and_phase():
    """Phase and interleaved augmenter steps go through the runner's
    call_hook at the augmenter's own points (not the student's
    *_train_iter, where its schedulers step), with the step's outputs."""
    trainer = _trainer_with_fake_runner(passes=2)
    trainer.run_phase('phase at epoch 2')
    trainer.interleaved_step(dict(x=3), batch_idx=7)
    calls = [(name, kwargs.get('batch_idx'))
             for name, kwargs in trainer.runner.hook_calls]
    one_pass = [('before_augmenter_pass', None), ('before_augmenter_iter', 0),
                ('after_augmenter_iter', 0), ('before_augmenter_iter', 1),
                ('after_augmenter_iter', 1), ('after_augmenter_pass', None)]
    assert calls == [('before_augmenter_training', None),
                     ('before_augmenter_phase', None), *one_pass, *one_pass,
                     ('after_augmenter_phase', None),
                     ('before_augmenter_iter', 7), ('after_augmenter_iter', 7)]
    hook_calls = trainer.runner.hook_calls
    assert hook_calls[1][1] == dict(
        where='phase at epoch 2', steps=4, later_steps=0)
    assert hook_calls[2][1] == dict(where='phase at epoch 2, pass 1/2')
    assert hook_calls[7][1] == dict(
        where='phase at epoch 2, pass 1/2',
        outputs=dict(loss=1.0),
        decayed=False)
    *_, phase_end, _, last = hook_calls
    assert phase_end[1] == dict(
        where='phase at epoch 2', outputs=dict(loss=1.0))
    assert last[1]['outputs'] == dict(loss=1.0)
    assert last[1]['data_batch'] == dict(x=3)


def test_a_phase_logs_its_progress_with_etas():
    """A phase logs like student iterations: running loss terms, lr,
    seconds per step, the phase's ETA and the run's (student iterations
    left at their logged speed plus the later phases' steps)."""
    from types import SimpleNamespace

    from mmengine.logging import HistoryBuffer
    trainer = _trainer_with_fake_runner(passes=2)
    lines = []
    trainer.runner.logger = SimpleNamespace(info=lines.append)
    trainer.runner.hooks = [type('LoggerHook', (), {'interval': 1})()]
    timed = HistoryBuffer()
    timed.update(2.0)  # the student's logged seconds per iteration
    trainer.runner.message_hub = SimpleNamespace(get_scalar=lambda key: timed)
    trainer.runner.train_loop = SimpleNamespace(max_iters=10)
    trainer.later_phase_steps = lambda: 4
    trainer.run_phase('phase at epoch 2')
    progress = [line for line in lines if ' [' in line and 'eta' in line]
    assert [line.split(' [')[1].split(']')[0]
            for line in progress] == ['1/4', '2/4', '3/4', '4/4']
    assert 'pass 2/2 [4/4] loss: 1.0000, lr: 0.01000' in progress[-1]
    assert 'phase eta: 0:00:00' in progress[-1]
    # 10 student iterations x 2 s left, the later phases' steps are fast
    assert progress[-1].endswith('run eta: 0:00:20')


def test_a_non_finite_augmenter_loss_stops_the_phase(tmp_path):
    """NaN in an augmenter step stops the run like a student step's NaN,
    naming the last good checkpoint, before the phase goes on."""
    from mmtst.engine import NonFiniteLossError
    trainer = _trainer_with_fake_runner(passes=1)
    trainer.runner.work_dir = str(tmp_path)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    model = trainer.runner.model
    model.augmenter_step = lambda data, wrapper: dict(
        loss=torch.tensor(float('nan')),
        **{'augmenter.loss_teacher_ce': torch.tensor(2.0)})
    with pytest.raises(NonFiniteLossError, match='augmenter step') as info:
        trainer.run_phase('phase at epoch 2')
    assert 'epoch_2.pth' in str(info.value)
    assert 'augmenter.loss_teacher_ce=2' in str(info.value)


def test_phase_scalars_have_the_augmenters_own_tags():
    """The augmenter's total loss is logged as augmenter.loss, never under
    the student's 'loss' tag."""
    trainer = _trainer_with_fake_runner(passes=1)
    logged = []
    trainer.runner.visualizer.add_scalars = \
        lambda scalars, step: logged.append(scalars)
    trainer.run_phase('phase at epoch 2')
    # first the policy before its first update, then the pass's record
    initial, after_pass = logged
    assert initial['augmenter.initial'] == 1
    assert 'augmenter.loss' not in initial
    assert all(k.startswith('augmenter.') for k in after_pass)
    assert after_pass['augmenter.loss'] == 1.0


def test_augmenter_phase_trains_in_train_mode_after_validation():
    """Validation leaves the model in eval mode, where the augmenter replays
    its deterministic policy; a phase that follows must sample again."""
    trainer = _trainer_with_fake_runner(passes=1)
    model = trainer.runner.model
    model.eval()  # as the validation loop leaves it
    trainer.run_phase('phase at epoch 2')
    assert model.seen == [True, True]


def test_trainer_state_keeps_the_interleaved_accumulators():
    """A resume in the middle of an interleaved epoch must go on with the
    epoch's running loss sums, the ALRS memory and the phase's base lr."""
    trainer = _trainer_with_fake_runner(passes=1)
    trainer.run_phase('phase at epoch 0')  # ALRS remembers 1.0
    trainer.interleaved_step(dict(x=1))
    trainer.interleaved_step(dict(x=2))
    state = trainer.state_dict()
    assert state['interleaved'] == {'loss': 2.0}
    assert state['interleaved_steps'] == 2
    assert state['alrs'] == {'last_loss': 1.0}

    restored = _trainer_with_fake_runner(passes=1)
    restored.load_state_dict(state)
    assert restored.state_dict() == state


def test_alrs_decays_on_a_settled_loss_not_on_a_rise():
    """The authors' rule: |relative change| < 2% and drop < 0.02."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.01)
    alrs = ALRS(optimizer)
    alrs.step(1.0)
    assert not alrs.step(1.5)  # rose by 50%: not a plateau
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.01)
    assert alrs.step(1.505)  # rose by 0.3%: settled, decay
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.009)

    signed = ALRS(torch.optim.SGD([param], lr=0.01), relative_change='signed')
    signed.step(1.0)
    assert signed.step(1.5)  # mmtst's earlier rule: any rise


def test_alrs_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="relative_change must be one of"):
        ALRS(
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1),
            relative_change='abs')


def test_finite_loss_check_does_not_warn_on_a_graph_tensor(tmp_path):
    """Losses still carrying their graph are read without torch's
    'requires_grad=True to a scalar' warning."""
    import warnings
    from types import SimpleNamespace

    from mmtst.engine import FiniteLossHook
    runner = SimpleNamespace(work_dir=str(tmp_path), iter=0, epoch=0)
    loss = (torch.ones(2, requires_grad=True) * 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        FiniteLossHook().after_train_iter(runner, 0, outputs=dict(loss=loss))


class _Payload:
    """Unpickling this runs code (here a harmless print)."""

    def __reduce__(self):
        return (print, ('payload ran', ))


@pytest.mark.parametrize('beside_history_buffers', [False, True])
def test_refused_checkpoint_is_one_line_naming_file_key_and_opt_in(
        tmp_path, beside_history_buffers):
    """Both refusal paths: a payload alone, and one placed beside the
    allow-listed getattr(HistoryBuffer, ...) calls of an mmengine
    checkpoint (refused by the second, getattr-allowing load)."""
    from mmtst.utils import UnsafeCheckpointError, load_checkpoint_file
    content = {'payload': _Payload()}
    if beside_history_buffers:
        buffer = HistoryBuffer()
        buffer.update(1.0)
        content = {'message_hub': {'loss': buffer}, **content}
    path = tmp_path / 'teacher.pth'
    torch.save(content, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(str(path), what='teacher_ckpt')
    message = str(info.value)
    assert '\n' not in message
    assert str(path) in message and 'teacher_ckpt' in message
    assert '--allow-unsafe-checkpoint' in message
    assert 'GLOBAL print' in message  # what was refused


def test_exact_resume_saves_the_loops_own_state_through_train_loop():
    """ExactResumeHook stores the TST loop's state_dict() (read through the
    runner's public train_loop) and gives it back on resume; checkpoints
    written before the loops had one (key 'augmenter_trainer') still
    resume."""
    from types import SimpleNamespace

    from mmtst.engine import ExactResumeHook

    class Loop:

        def __init__(self):
            self.loaded = []

        def state_dict(self):
            return dict(augmenter_trainer=dict(alrs=dict(last_loss=0.5)))

        def load_state_dict(self, state):
            self.loaded.append(state)

    runner = SimpleNamespace(train_loop=Loop(), _resume=True)
    hook = ExactResumeHook()
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    saved = checkpoint['mmtst_resume_state']
    assert saved['train_loop'] == runner.train_loop.state_dict()

    for state in (saved,
                  dict(rng=saved['rng'], augmenter_trainer=dict(alrs=None))):
        hook.after_load_checkpoint(runner, dict(mmtst_resume_state=state))
        hook.before_train(runner)
    assert runner.train_loop.loaded == [
        runner.train_loop.state_dict(),
        dict(augmenter_trainer=dict(alrs=None))
    ]

    # loops without a state (mmengine's own) are left alone
    plain = SimpleNamespace(train_loop=object(), _resume=True)
    hook.before_save_checkpoint(plain, checkpoint)
    assert 'train_loop' not in checkpoint['mmtst_resume_state']


def test_phase_passes_reorder_a_batch_samplers_sampler():
    """With a batch sampler (mmdet's AspectRatioBatchSampler) the loader's
    own sampler is torch's SequentialSampler; each phase pass must still
    set a new epoch, on the batch sampler's sampler, or it would replay the
    student's last epoch order."""
    from types import SimpleNamespace

    from mmtst.engine.runner.phase_loader import phase_epoch

    class EpochRecorder:

        def __init__(self):
            self.epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

    class Loader(list):
        sampler = object()  # no set_epoch, as torch's SequentialSampler
        batch_sampler = SimpleNamespace(sampler=EpochRecorder())

    trainer = _trainer_with_fake_runner(passes=2)
    trainer.dataloader = Loader([dict(x=1), dict(x=2)])
    trainer.run_phase('phase at epoch 2')
    assert Loader.batch_sampler.sampler.epochs == [
        phase_epoch(2, 0), phase_epoch(2, 1)
    ]


def test_tst_loops_keep_mmengines_student_iteration():
    """The TST loops decide only when a phase runs: a student iteration is
    mmengine's own run_iter (no copy of it), and interleaved augmenter
    steps come from a hook registered by the loop."""
    from mmengine.runner import EpochBasedTrainLoop

    from mmtst.engine.runner import TSTEpochBasedTrainLoop
    assert TSTEpochBasedTrainLoop.run_iter is EpochBasedTrainLoop.run_iter


def test_interleaved_steps_come_every_k_iterations_and_close_each_pass():
    """InterleavedAugmenterSteps: an augmenter step after every k-th
    student iteration (counted over the run), ALRS's step at each pass's
    end, before any other after_train_iter hook (checkpoints hold the
    augmenter as the step left it)."""
    from types import SimpleNamespace

    from mmengine.hooks import Hook

    from mmtst.engine.runner.interleaved_steps import InterleavedAugmenterSteps
    calls = []
    trainer = SimpleNamespace(
        interleaved_step=lambda batch, idx: calls.append(('step', idx)),
        end_interleaved_epoch=lambda where: calls.append(('end', where)))
    loop = SimpleNamespace(
        interleave_interval=2,
        augmenter_trainer=trainer,
        pass_ending_at=lambda idx: 'epoch 0' if idx == 2 else None)
    hook = InterleavedAugmenterSteps(loop)
    runner = SimpleNamespace(iter=0)
    for iteration in range(4):  # a 3-iteration pass, then one more
        runner.iter = iteration
        hook.after_train_iter(runner, batch_idx=iteration % 3, data_batch={})
    assert calls == [('step', 1), ('end', 'epoch 0'), ('step', 0)]
    from mmengine.runner.priority import get_priority
    assert get_priority(hook.priority) < min(
        get_priority(p) for p in ('VERY_HIGH', 'NORMAL', 'VERY_LOW'))
    assert isinstance(hook, Hook)


def test_loop_keys_old_names_still_read():
    """phases_at_epochs / phases_at_passes / passes_per_phase replaced
    augmenter_epochs / augmenter_at_passes / augmenter_passes: the old
    names are still read, with a warning; both at once are refused."""
    from mmtst.engine.runner.tst_loops import _renamed
    assert _renamed(None, None, 'passes_per_phase', 'augmenter_passes', 1) == 1
    assert _renamed(3, None, 'passes_per_phase', 'augmenter_passes', 1) == 3
    assert _renamed(None, [30], 'phases_at_epochs', 'augmenter_epochs',
                    ()) == [30]
    with pytest.raises(ValueError, match='keep phases_at_epochs only'):
        _renamed([30], [30], 'phases_at_epochs', 'augmenter_epochs', ())


def test_a_pass_is_each_ranks_share_under_an_infinite_sampler(monkeypatch):
    """With mmengine's InfiniteSampler (mmseg's iteration-based configs) on
    2 ranks, the student loader's length is the whole set's; a pass of the
    iteration-based TST loop (where its phases are placed) is the phases'
    sharded loader's length: each rank's half of the set."""
    import mmengine.dataset.sampler as samplers
    from mmengine.dataset import InfiniteSampler
    from torch.utils.data import DataLoader

    from mmtst.engine.runner.phase_loader import PhaseLoader
    monkeypatch.setattr(samplers, 'get_dist_info', lambda: (0, 2))
    dataset = list(range(12))
    student = DataLoader(
        dataset, batch_size=3, sampler=InfiniteSampler(dataset, seed=0))
    assert len(student) == 4  # 12 samples / 3 on every rank
    assert len(PhaseLoader(student)) == 2  # 6 samples per rank / 3
