"""mmengine's CheckpointHook, deleting old checkpoints only after the new
one is written."""
import os.path as osp
from typing import List

from mmengine.hooks import CheckpointHook

from mmtst.registry import HOOKS


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (disk full, I/O error, ...)."""


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` that never leaves a run with
    fewer good checkpoints than before a failed save.

    mmengine's hook deletes the oldest kept checkpoint *before* it writes
    the new one: with ``max_keep_ckpts=1`` a write that fails (a full disk,
    an I/O error) leaves no checkpoint at all, and ``last_checkpoint``
    pointing at the deleted file. This hook defers those deletions until
    the new checkpoint is complete, writes ``last_checkpoint`` atomically
    (temporary file + rename), and turns a failed write into one
    :class:`CheckpointWriteError` line naming the folder, the cause and the
    checkpoint that is still good. Same arguments as mmengine's hook.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        previous = self._last_good(runner)
        deferred: List[str] = []
        backend = self.file_backend
        # the parent removes through these two methods; collect instead
        backend.remove = deferred.append
        backend.rmtree = deferred.append
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        except OSError as err:
            kept = (f'{previous} is still good: free space (or fix the '
                    'folder) and resume with --resume'
                    if previous else 'no earlier checkpoint was written')
            raise CheckpointWriteError(
                f'could not write checkpoint '
                f'{self.filename_tmpl.format(step)} in {self.out_dir}: '
                f'{err.strerror or err}; {kept}.') from err
        finally:
            del backend.remove, backend.rmtree  # the class methods again
        for path in deferred:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):  # deepspeed checkpoints are folders
                backend.rmtree(path)

    @staticmethod
    def _last_good(runner) -> str:
        """The checkpoint ``last_checkpoint`` names before this save."""
        try:
            with open(osp.join(runner.work_dir, 'last_checkpoint')) as f:
                return f.read().strip()
        except OSError:
            return ''
