"""A distributed run that loses one of its ranks ends in bounded time with
one line that says so and how to go on.

When one rank of a distributed run dies (killed, out of memory, its node
lost) or stops answering (frozen, cut off), the others are left inside a
collective:

* a rank whose peer process is gone on the same host gets gloo's
  ``Connection reset by peer`` at once; one whose peer is frozen or
  unreachable waits for the process group's timeout, which torch sets to
  30 minutes. :func:`gloo_timeout` gives mmtst's CPU (gloo) runs
  :data:`DEFAULT_GLOO_TIMEOUT_S` instead, or the config's
  ``env_cfg.dist_cfg.timeout`` (seconds, mmengine's own key);
* the rank then fails with a raw backend error (gloo's ends in "GLHF");
  :func:`lost_peer_reason` recognises it and :func:`lost_peer_message`
  turns it into one line naming what happened, the last checkpoint and
  ``--resume auto`` (``tools/train.py`` prints it through
  :func:`mmtst.apis.run_friendly`);
* torchrun stops the other ranks and prints a page-long
  ``ChildFailedError`` traceback; :func:`launch_failure_message` is the
  one line mmtst's launcher (:mod:`mmtst.apis.dist_launch`, used by
  ``tools/dist_train.sh``) prints instead.

Checkpoints are only written by rank 0 and renamed into place
(:class:`mmtst.engine.AtomicCheckpointRunner`), so the newest one named is
complete whichever rank died when.
"""
import os
import os.path as osp
import re
import signal
from typing import Dict, Optional, Sequence, Union

#: the collective timeout (seconds) of mmtst's CPU (gloo) runs when the
#: config sets no ``env_cfg.dist_cfg.timeout``: how long a rank waits in
#: one collective for a peer that stopped answering before it gives up.
#: Well above any gap between two collectives of a healthy run (rank 0
#: writing a checkpoint, an uneven validation batch), a third of torch's
#: 30 minutes.
DEFAULT_GLOO_TIMEOUT_S = 600

# what torch's backends say when a peer is gone or stopped answering
_LOST_PEER_PATTERNS = (
    ('Connection reset by peer', 'connection reset by peer'),
    ('Connection closed by peer', 'connection closed by peer'),
    ('Broken pipe', 'broken pipe'),
    ('Connection refused', 'connection refused'),
    ('Timed out waiting', None),  # gloo's collective timeout
    ('Socket Timeout', None),  # the TCPStore's
    ('Watchdog caught collective operation timeout', None),  # NCCL's
    ('NCCL communicator was aborted', 'NCCL communicator aborted'),
)
_TIMEOUT_MS = re.compile(r'Timed out waiting (\d+)ms')


def gloo_timeout(dist_cfg: Optional[dict]) -> Union[int, float]:
    """The collective timeout in seconds for a gloo run: the config's
    ``dist_cfg.timeout``, else :data:`DEFAULT_GLOO_TIMEOUT_S`."""
    timeout = (dist_cfg or {}).get('timeout')
    if timeout is None:
        return DEFAULT_GLOO_TIMEOUT_S
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        timeout = -1.0
    if timeout <= 0:
        raise ValueError(
            'env_cfg.dist_cfg.timeout must be a positive number of seconds '
            f'(how long a rank waits for a silent peer), not '
            f'{dist_cfg["timeout"]!r}')
    return int(timeout) if timeout.is_integer() else timeout


def _world_size() -> int:
    try:
        return int(os.environ.get('WORLD_SIZE', '1'))
    except ValueError:
        return 1


def _from_torch_distributed(err: BaseException, message: str) -> bool:
    """Whether ``err`` comes from torch.distributed's backends or store
    (not, say, a download that found no server)."""
    try:
        from torch.distributed import DistError
    except ImportError:  # pragma: no cover - older torch
        DistError = ()
    return isinstance(err, DistError) or any(
        name in message for name in ('gloo', 'NCCL', 'c10d', 'TCPStore'))


def lost_peer_reason(err: BaseException) -> Optional[str]:
    """A short reason (``connection reset by peer``, ``no answer for
    600 s``) when ``err`` says that this rank of a distributed run lost
    contact with another; None for any other error (and in a
    single-process run)."""
    message = str(err)
    if _world_size() < 2 or not _from_torch_distributed(err, message):
        return None
    for pattern, reason in _LOST_PEER_PATTERNS:
        if pattern in message:
            if reason is not None:
                return reason
            timeout = _TIMEOUT_MS.search(message)
            if timeout:
                return f'no answer for {int(timeout.group(1)) / 1000:g} s'
            return 'no answer within the collective timeout'
    from torch.distributed import DistNetworkError
    if isinstance(err, DistNetworkError):
        return 'network error'
    return None


def last_checkpoint(work_dir: Optional[str]) -> Optional[str]:
    """The checkpoint ``--resume auto`` would pick up in ``work_dir``: the
    one ``last_checkpoint`` names, else the newest readable
    ``epoch_N.pth`` / ``iter_N.pth``; None when there is none (or the
    folder is not on this machine)."""
    if not work_dir or not osp.isdir(work_dir):
        return None
    from mmtst.engine.runner.resume_choice import (newest_readable,
                                                   unreadable_reason)
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            named = f.read().strip()
    except OSError:
        named = ''
    if named and unreadable_reason(named) is None:
        return named
    return newest_readable(work_dir)


def resume_hint(work_dir: Optional[str]) -> str:
    """How to go on: the checkpoint ``--resume auto`` resumes from, or
    that none was written yet."""
    checkpoint = last_checkpoint(work_dir)
    if checkpoint is not None:
        return (f'to continue from the last checkpoint ({checkpoint}), run '
                'the same command again with --resume auto')
    # none here: none written yet, or rank 0 writes them on another node
    where = f' in {work_dir}' if work_dir else ''
    return ('run the same command again with --resume auto: it continues '
            f'from the last checkpoint{where} if rank 0 wrote one, else it '
            'starts afresh')


def lost_peer_message(reason: str, work_dir: Optional[str]) -> str:
    """The one line a rank prints when it lost contact with another."""
    rank = os.environ.get('RANK', '?')
    return (f'rank {rank} of {_world_size()} lost contact with another rank '
            f'of the distributed run ({reason}): that rank died or stopped '
            f'answering, so this one stops too; {resume_hint(work_dir)}.')


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f'signal {number}'


def launch_failure_message(failures: Dict[int, object],
                           work_dir: Optional[str]) -> str:
    """The one line mmtst's launcher prints for torchrun's
    ``ChildFailedError``, from its ``failures`` (rank -> ``ProcessFailure``:
    ``exitcode``, negative for a signal; ``pid``; ``timestamp``).

    The rank to name is one that was killed by a signal other than the
    SIGTERM torchrun stops the others with, else one that exited with an
    error of its own (its message is printed above), else the first.
    """

    def first(ranks):
        return min(ranks, key=lambda r: (failures[r].timestamp, r))

    killed = [
        r for r, f in failures.items()
        if f.exitcode < 0 and -f.exitcode != signal.SIGTERM
    ]
    errored = [r for r, f in failures.items() if f.exitcode > 0]
    if killed:
        rank = first(killed)
        what = (f'was killed by {_signal_name(-failures[rank].exitcode)}, '
                'so the launcher stopped the other ranks')
    elif errored:
        rank = first(errored)
        what = (f'stopped with exit code {failures[rank].exitcode} (its '
                'error is printed above), so the launcher stopped the '
                'other ranks')
    else:
        rank = first(failures)
        code = failures[rank].exitcode
        what = (f'was stopped by {_signal_name(-code)}'
                if code < 0 else f'stopped with exit code {code}')
    return (f'distributed training failed: rank {rank} (pid '
            f'{failures[rank].pid}) {what}; {resume_hint(work_dir)}.')


def default_work_dir(config_path: str) -> str:
    """Where a run of ``config_path`` writes when neither the command line
    nor the config names a work dir: ``work_dirs/<config name>``, as
    mmpretrain's, mmdet's and mmseg's ``tools/train.py`` do."""
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def work_dir_of(train_args: Sequence[str]) -> Optional[str]:
    """The work dir of a ``tools/train.py`` command line: its
    ``--work-dir``, else :func:`default_work_dir` of its config (where a
    config that sets no ``work_dir`` writes)."""
    args = list(train_args)
    for i, arg in enumerate(args):
        for flag in ('--work-dir', '--work_dir'):
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(flag + '='):
                return arg[len(flag) + 1:]
    configs = [a for a in args if a.endswith('.py') and not a.startswith('-')]
    if len(configs) >= 2:  # the script, then its config
        return default_work_dir(configs[1])
    return None
