"""A Runner whose checkpoints never end up half-written."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from mmtst.registry import RUNNERS
from mmtst.utils import allow_mmengine_checkpoints
from .resume_choice import choose_resume_checkpoint

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

    mmtst's ``_base_`` runtime configs name it
    (``runner_type = 'mmtst.AtomicCheckpointRunner'``), so mmengine's
    ``RUNNERS.build(cfg)`` picks it up; ``tools/train.py`` also uses it for
    configs that name no ``runner_type``.
    """

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
