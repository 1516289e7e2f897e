"""A Runner whose checkpoints never end up half-written and whose training
data pipeline draws the same random numbers in a resumed run."""
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from mmtst.registry import RUNNERS
from mmtst.utils import allow_mmengine_checkpoints
from .resume_choice import choose_resume_checkpoint
from .worker_lifetime import tie_workers_to_process

#: the checkpoint hook configs name, and the one this runner builds instead
_PLAIN_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook')


@RUNNERS.register_module()
class AtomicCheckpointRunner(Runner):
    """mmengine's Runner, saving each local checkpoint to a temporary file
    in the same folder and renaming it into place.

    mmengine writes checkpoints straight to their final path, so a process
    killed mid-write leaves a truncated ``epoch_N.pth`` that ``--resume``
    then picks up. A rename within one folder is atomic on POSIX file
    systems: the final path holds the previous file or the complete new
    one, never a partial one. Remote back-ends are written as mmengine
    does.

    It also allow-lists the plain-data classes of mmengine's checkpoints
    (:func:`mmtst.utils.allow_mmengine_checkpoints`) before loading or
    resuming, so that torch's ``weights_only`` loading accepts checkpoints
    written by plain mmengine runs as well.

    It builds the training loader with per-sample seeded pipeline draws
    (:mod:`mmtst.datasets.seeded_loading`): each sample's random
    transforms draw from generators seeded by (run seed, epoch, sample
    index), or (run seed, stream position) for samplers without epochs,
    instead of from whichever process fetches it. With the checkpointed
    RNG states of :class:`mmtst.ExactResumeHook`, a run killed and resumed
    then ends bit-identical to an uninterrupted one with loader workers
    (``num_workers=2, persistent_workers=True``, as mmtst's configs ship)
    and with mmengine's ``IterBasedTrainLoop``, which re-reads the batches
    it skips on resume. It changes which random numbers the pipeline
    draws, not the method. ``seeded_data_pipeline = False`` in a config (or
    ``seeded_data_pipeline=False`` to the constructor) builds mmengine's
    plain loader instead; validation and test loaders are always plain.

    Every loader it builds (training, validation, test, and the TST
    phases' loaders, which copy the training loader's ``worker_init_fn``)
    has workers that die with the process
    (:mod:`mmtst.engine.runner.worker_lifetime`): a killed run leaves no
    orphaned worker behind.

    mmtst's ``_base_`` runtime configs name it
    (``runner_type = 'mmtst.AtomicCheckpointRunner'``), so mmengine's
    ``RUNNERS.build(cfg)`` picks it up; ``tools/train.py`` also uses it for
    configs that name no ``runner_type``.

    Args:
        seeded_data_pipeline: Seed the training pipeline per sample. None
            (default): the config's ``seeded_data_pipeline``, True if it
            has none.
        *args, **kwargs: As mmengine's ``Runner``.
    """

    def __init__(self,
                 *args,
                 seeded_data_pipeline: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if seeded_data_pipeline is None:
            seeded_data_pipeline = self.cfg.get('seeded_data_pipeline', True)
        self.seeded_data_pipeline = bool(seeded_data_pipeline)

    def build_train_loop(self, loop):
        """mmengine's, with the training loader config rewritten by
        :func:`mmtst.datasets.seeded_loading.seeded_dataloader_cfg` first.

        The train loop is the only builder of ``self._train_dataloader``
        (mmengine's loops build their loader from the config the runner
        hands them), so this leaves ``Runner.build_dataloader`` (a
        staticmethod that tools call for any loader) and the val / test
        loaders as they are. A loader passed already built stays as it is.
        """
        if (isinstance(loop, dict)
                and getattr(self, 'seeded_data_pipeline', True)
                and isinstance(self._train_dataloader, dict)):
            # imported here: mmtst.datasets imports mmpretrain's datasets,
            # which a run with a toolbox's own datasets need not load
            from mmtst.datasets.seeded_loading import seeded_dataloader_cfg
            self._train_dataloader = seeded_dataloader_cfg(
                self._train_dataloader, self.seed)
        return super().build_train_loop(loop)

    @staticmethod
    def build_dataloader(dataloader, *args, **kwargs):
        """mmengine's, with workers tied to this process
        (:func:`~.worker_lifetime.tie_workers_to_process`)."""
        return tie_workers_to_process(
            Runner.build_dataloader(dataloader, *args, **kwargs))

    def register_hook(self, hook, priority=None) -> None:
        """Build mmengine's ``CheckpointHook`` as
        :class:`mmtst.engine.SafeCheckpointHook` (same arguments), which
        deletes old checkpoints only once the new one is written."""
        if isinstance(hook,
                      dict) and hook.get('type') in _PLAIN_CHECKPOINT_HOOKS:
            hook = dict(hook, type='mmtst.SafeCheckpointHook')
        super().register_hook(hook, priority)

    def load_or_resume(self) -> None:
        # process-wide and idempotent; here rather than in tools/train.py
        # so that a runner built by mmengine's RUNNERS.build(cfg) has it too
        allow_mmengine_checkpoints()
        if self._resume:
            self._choose_resume_checkpoint()
        super().load_or_resume()

    def _choose_resume_checkpoint(self) -> None:
        """Check the checkpoint ``--resume`` would load before mmengine
        loads it: skip an unreadable newest one (auto) or refuse a named
        one in one line (:mod:`mmtst.engine.runner.resume_choice`)."""
        latest = None
        if self._load_from is None and osp.exists(
                osp.join(self.work_dir, 'last_checkpoint')):
            latest = find_latest_checkpoint(self.work_dir) or ''
        chosen, warning = choose_resume_checkpoint(self.work_dir,
                                                   self._load_from, latest)
        if warning:
            self.logger.warning(warning)
        if chosen is not None:
            self._load_from = chosen

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        if not is_main_process() or not osp.isdir(out_dir):
            # other ranks write nothing (mmengine's method is master-only);
            # remote back-ends are written mmengine's way
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        partial = f'.{filename}.partial'
        try:
            super().save_checkpoint(out_dir, partial, *args, **kwargs)
            os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
        finally:
            if osp.exists(osp.join(out_dir, partial)):
                os.remove(osp.join(out_dir, partial))
