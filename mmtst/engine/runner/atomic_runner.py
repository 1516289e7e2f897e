"""A Runner whose checkpoints never end up half-written."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.runner import Runner


class AtomicCheckpointRunner(Runner):
    """mmengine's Runner, saving each local checkpoint to a temporary file
    in the same folder and renaming it into place.

    mmengine writes checkpoints straight to their final path, so a process
    killed mid-write leaves a truncated ``epoch_N.pth`` that ``--resume``
    then picks up. A rename within one folder is atomic on POSIX file
    systems: the final path holds the previous file or the complete new
    one, never a partial one. Remote back-ends are written as mmengine
    does. ``tools/train.py`` uses this runner unless the config names
    another ``runner_type``.
    """

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
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
