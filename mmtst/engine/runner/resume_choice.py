"""Which checkpoint ``--resume`` loads when the newest one is damaged.

A checkpoint can be unreadable although the atomic writes of
:class:`~mmtst.engine.AtomicCheckpointRunner` never leave a partial file:
it may come from an older run, a copy cut short, a disk error; and
``last_checkpoint`` itself is written by mmengine in place. mmengine would
fail deep inside ``torch.load``. Here the choice is checked first: with
``--resume`` (auto) an unreadable newest checkpoint is skipped for the
newest readable one, with a warning; a checkpoint named explicitly is
refused in one line that names it and the one to use instead.
"""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple


class CheckpointReadError(RuntimeError):
    """The checkpoint to resume from cannot be read."""


def unreadable_reason(path: str) -> Optional[str]:
    """Why ``path`` cannot be a complete checkpoint, or None if it looks
    complete. torch writes zip archives whose directory sits at the end of
    the file, so a truncated file has none: opening it is a cheap check
    that reads no tensor. (Files in torch's legacy format pass unchecked.)
    """
    if not path:
        return 'last_checkpoint is empty'
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'the file is empty'
    try:
        with open(path, 'rb') as f:
            legacy = f.read(4) != b'PK\x03\x04'
        if legacy:
            return None
        with zipfile.ZipFile(path) as archive:
            if not any(
                    name.endswith('data.pkl') for name in archive.namelist()):
                return 'not a torch checkpoint (no data.pkl)'
    except (zipfile.BadZipFile, OSError) as err:
        return f'truncated or corrupt ({err})'
    return None


def checkpoints_newest_first(work_dir: str) -> List[str]:
    """The training checkpoints of ``work_dir`` (mmengine's
    ``epoch_N.pth`` / ``iter_N.pth``; not exported weights such as a
    ``teacher.pth``), the newest first."""
    paths = [
        p for p in glob.glob(osp.join(work_dir, '*.pth'))
        if re.fullmatch(r'(epoch|iter)_\d+\.pth', osp.basename(p))
    ]
    return sorted(paths, key=os.path.getmtime, reverse=True)


def newest_readable(work_dir: str, skip: str = '') -> Optional[str]:
    """The newest checkpoint in ``work_dir`` that looks complete."""
    for path in checkpoints_newest_first(work_dir):
        if osp.abspath(path) != osp.abspath(skip or '') and \
                unreadable_reason(path) is None:
            return path
    return None


def choose_resume_checkpoint(
        work_dir: str, requested: Optional[str],
        latest: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint to resume from and a warning to log (or None).

    Args:
        work_dir: The run's folder.
        requested: The checkpoint the user named, or None for "auto".
        latest: What ``last_checkpoint`` names (auto), or None when the
            file does not exist.
    """
    if requested is not None:
        reason = unreadable_reason(requested)
        if reason is None:
            return requested, None
        good = newest_readable(osp.dirname(requested) or '.', skip=requested)
        instead = (f'resume from the newest readable one with --resume {good}'
                   if good else 'no other checkpoint beside it is readable')
        raise CheckpointReadError(
            f'cannot resume from {requested}: {reason}; {instead}.')
    if latest is None:
        # no last_checkpoint: mmengine starts afresh, unless checkpoints
        # exist without it (it was lost)
        fallback = newest_readable(work_dir)
        if fallback is None:
            return None, None
        return fallback, (f'{work_dir} has no last_checkpoint; resuming '
                          f'from its newest readable checkpoint {fallback}.')
    reason = unreadable_reason(latest)
    if reason is None:
        return latest, None
    fallback = newest_readable(work_dir, skip=latest)
    if fallback is None:
        raise CheckpointReadError(
            f'cannot resume: the newest checkpoint {latest or "(none)"} is '
            f'unreadable ({reason}) and no other checkpoint in {work_dir} '
            'is readable; start the run again without --resume.')
    return fallback, (f'the newest checkpoint {latest or "(none)"} is '
                      f'unreadable ({reason}); resuming from the newest '
                      f'readable one, {fallback}.')
