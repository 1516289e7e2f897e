"""Data-loader workers that end with the process that started them.

When a training process is killed (SIGKILL, the out-of-memory killer, a
scheduler's hard stop), torch's loader workers are meant to notice that
their parent is gone and exit. Seen here: after ``kill -9`` of
``tools/train.py`` two persistent validation workers stayed alive, asleep
on a lock, for as long as anyone waited (each holding a copy of the
process's memory). Linux can tie a child's life to its parent instead:
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks the kernel to kill the worker
as soon as the process that forked it dies. Elsewhere this does nothing
and torch's own watchdog is all there is. (The kernel sends the signal
when the forking *thread* ends: loaders are iterated from the main thread
in mmengine's loops and mmtst's TST phases.)
"""
import ctypes
import functools
import os
import signal
import sys
from typing import Callable, Optional

from torch.utils.data import DataLoader

#: linux/prctl.h
PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int) -> None:
    """Make the calling process die (SIGKILL) when its parent does.

    ``parent_pid`` is the parent as the caller knew it before forking: a
    parent that died before the ``prctl`` call would never send the signal,
    so a child that finds itself already orphaned exits at once.
    """
    if not sys.platform.startswith('linux'):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def _init_worker(worker_id: int, parent_pid: int,
                 inner: Optional[Callable[[int], None]]) -> None:
    end_with_parent(parent_pid)
    if inner is not None:
        inner(worker_id)


def tie_workers_to_process(loader: DataLoader) -> DataLoader:
    """Give ``loader``'s workers :func:`end_with_parent` before the
    ``worker_init_fn`` it already has (mmengine's seeding), in place.

    A module-level function in a ``functools.partial``, so that it also
    pickles for the ``spawn`` start method. Loaders without workers are
    left as they are.
    """
    if isinstance(loader, DataLoader) and loader.num_workers > 0:
        loader.worker_init_fn = functools.partial(
            _init_worker, parent_pid=os.getpid(), inner=loader.worker_init_fn)
    return loader
