"""Resume a run exactly: RNG states and TST loop state in the checkpoint."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmtst.registry import HOOKS

STATE_KEY = 'mmtst_resume_state'


def capture_rng() -> dict:
    """Python, NumPy, torch (and CUDA) RNG states as plain data: tensors,
    ints, floats and strings only, so the checkpoint still loads with
    torch's ``weights_only=True``."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=dict(
            version=version,
            mt=torch.tensor(mt, dtype=torch.int64),
            gauss=gauss),
        numpy=dict(
            name=name,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached=float(cached)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    """Inverse of :func:`capture_rng`."""
    py = state['python']
    random.setstate(
        (py['version'], tuple(int(v) for v in py['mt'].tolist()), py['gauss']))
    npy = state['numpy']
    np.random.set_state((npy['name'], npy['keys'].numpy().astype(np.uint32),
                         npy['pos'], npy['has_gauss'], npy['cached']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def stateful_train_loop(runner):
    """The runner's train loop when it has a ``state_dict`` (the TST loops),
    else None (other loops; a runner without a train loop)."""
    loop = runner.train_loop
    return loop if hasattr(loop, 'state_dict') else None


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make ``--resume`` continue a run where its checkpoint left it.

    mmengine's checkpoints hold weights, optimisers, schedulers and the
    loop's counters, but not the random number generators, and mmengine
    re-seeds on resume: a resumed TST run would draw other augmenter ops,
    gates, signs and crops than the uninterrupted run from then on. This
    hook (in every mmtst config, from ``configs/_base_/mmtst_runtime.py``;
    ``tools/train.py`` adds it to configs without it):

    * writes into every checkpoint the Python / NumPy / torch (/ CUDA) RNG
      states and the TST loop's own ``state_dict()`` (its augmenter
      trainer's ALRS, configured learning rates, interleaved-step
      accumulators);
    * restores them when training starts after ``--resume`` (last among the
      ``before_train`` hooks, so nothing draws between restore and the first
      batch);
    * makes validation RNG-neutral (states saved before, restored after), as
      in an uninterrupted run validation sits between the checkpoint and the
      next epoch while a resumed run goes straight to training.

    An augmenter phase is not split by checkpoints (they are written between
    student epochs), so a run killed inside a phase re-runs that phase from
    its start with the same random draws.

    The data pipeline's random transforms do not draw from these states:
    mmtst's runner (:class:`mmtst.engine.AtomicCheckpointRunner`) seeds each
    training sample's pipeline from (run seed, epoch, sample index)
    (:mod:`mmtst.datasets.seeded_loading`), so a resume is bit-exact with
    loader workers (``num_workers=2, persistent_workers=True``, as mmtst's
    configs ship) and with mmengine's ``IterBasedTrainLoop``, which re-reads
    the batches it skips after ``before_train``. With
    ``seeded_data_pipeline = False`` the earlier limits return (worker draws
    outside the checkpoint; iteration-based loops not bit-exact).
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._val_rng: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(rng=capture_rng())
        loop = stateful_train_loop(runner)
        if loop is not None:
            state['train_loop'] = loop.state_dict()
        checkpoint[STATE_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Runner.load_checkpoint (load_from, weights only) calls this hook
        # too: only a resume restores the run's state.
        if getattr(runner, '_resume', False):
            self._pending = checkpoint.get(STATE_KEY)
            if self._pending is None:
                runner.logger.warning(
                    'the checkpoint has no RNG state (written without '
                    'mmtst.ExactResumeHook): training resumes with fresh '
                    'random draws, not exactly where it stopped.')

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        loop = stateful_train_loop(runner)
        loop_state = self._pending.get('train_loop')
        if loop_state is None and 'augmenter_trainer' in self._pending:
            # written before the loops had a state_dict of their own
            loop_state = dict(
                augmenter_trainer=self._pending['augmenter_trainer'])
        if loop is not None and loop_state is not None:
            loop.load_state_dict(loop_state)
        restore_rng(self._pending['rng'])
        self._pending = None

    def before_val(self, runner) -> None:
        self._val_rng = capture_rng()

    def after_val(self, runner) -> None:
        if self._val_rng is not None:
            restore_rng(self._val_rng)
            self._val_rng = None
