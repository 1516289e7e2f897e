"""Checkpoint loading that keeps torch's ``weights_only`` safety on.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine
0.10.7 never passes the flag, so its full Runner checkpoints (which hold
mmengine's ``HistoryBuffer`` and numpy values) stop loading. Rather than the
global escape hatch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, mmtst allow-lists
exactly the plain-data classes those checkpoints contain. Anything else
still needs arbitrary unpickling and is refused unless the user opts in.
"""
import os
import pickle
import pickletools
import tempfile
import zipfile
from typing import Any, Dict, Optional

import numpy as np
import torch

UNSAFE_OPT_IN = (
    'If you trust this file, opt in to arbitrary unpickling explicitly: '
    'pass --allow-unsafe-checkpoint to tools/train.py / tools/test.py '
    '(or allow_unsafe_load=True where the checkpoint is configured).')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs arbitrary unpickling, which mmtst refuses."""


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core
    found = [
        np.ndarray, np.dtype, core.multiarray._reconstruct,
        core.multiarray.scalar
    ]
    # numpy >= 1.25 pickles dtypes as instances of these classes
    found += [
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType')
    ]
    return found


def allow_mmengine_checkpoints() -> None:
    """Allow-list the plain-data classes of mmengine Runner checkpoints.

    Idempotent; affects only what ``weights_only`` loading accepts, never
    turns the check off.
    """
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([HistoryBuffer] + _numpy_globals())


# mmengine's HistoryBuffer pickles its statistics methods as
# getattr(HistoryBuffer, name); nothing else in its checkpoints needs getattr.
HISTORY_BUFFER = 'mmengine.logging.history_buffer HistoryBuffer'
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
GETATTR = ('__builtin__ getattr', 'builtins getattr')


def _pickle_tokens(data: bytes) -> list:
    """The pickle's opcodes as tokens, with memo lookups resolved to the
    global or string they stand for. Reads the opcodes, executes nothing."""
    memo, tokens, last = {}, [], None
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            memo[arg] = last
            continue
        if name == 'MEMOIZE':
            memo[len(memo)] = last
            continue
        if name == 'GLOBAL':
            last = ('global', arg)
        elif name in ('UNICODE', 'SHORT_BINUNICODE', 'BINUNICODE',
                      'BINUNICODE8'):
            last = ('str', arg)
        elif name in ('GET', 'BINGET', 'LONG_BINGET'):
            last = memo.get(arg, ('op', name))
        else:
            last = ('op', name)
        tokens.append(last)
    return tokens


def getattr_only_for_history_buffers(path: str) -> bool:
    """Whether every ``getattr`` in the checkpoint's pickle is
    ``getattr(HistoryBuffer, <statistics method>)`` (what mmengine writes),
    checked statically on the opcodes before anything is unpickled."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith('data.pkl')]
            if len(pickles) != 1:
                return False
            tokens = _pickle_tokens(archive.read(pickles[0]))
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    if any(t[0] == 'op' and t[1] == 'STACK_GLOBAL' for t in tokens):
        return False  # protocol >= 4 globals are not resolved here
    for i, token in enumerate(tokens):
        if token[0] == 'global' and token[1] in GETATTR:
            call = tokens[i + 1:i + 5]
            if (len(call) != 4 or call[0] != ('global', HISTORY_BUFFER)
                    or call[1][0] != 'str'
                    or call[1][1] not in HISTORY_BUFFER_METHODS
                    or call[2:] != [('op', 'TUPLE2'), ('op', 'REDUCE')]):
                return False
    return True


def load_checkpoint_file(path: str,
                         map_location: Any = 'cpu',
                         allow_unsafe: bool = False,
                         what: str = 'checkpoint') -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only`` loading.

    Args:
        path: Local file path.
        map_location: As in :func:`torch.load`. Defaults to ``'cpu'``.
        allow_unsafe: Fall back to full unpickling (only for trusted
            files). Defaults to False.
        what: Words naming the file in error messages.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: the file needs arbitrary unpickling and
            ``allow_unsafe`` is False.
    """
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path!r}')
    allow_mmengine_checkpoints()
    try:
        try:
            return torch.load(
                path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            if not ('getattr' in str(err)
                    and getattr_only_for_history_buffers(path)):
                raise
            # a plain mmengine checkpoint (e.g. a teacher trained with
            # mmpretrain): its only getattr calls were verified above, and
            # anything else in it is refused by this second load too
            with torch.serialization.safe_globals([getattr]):
                return torch.load(
                    path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not allow_unsafe:
            raise UnsafeCheckpointError(
                f'{what} {path!r} cannot be loaded as weights only: it '
                f'contains objects beyond tensors and plain data '
                f'({unpickler_reason(err)}). ' + UNSAFE_OPT_IN) from None
    return torch.load(path, map_location=map_location, weights_only=False)


def unpickler_reason(err: Exception) -> str:
    """The one informative line of torch's multi-line weights-only error
    (e.g. "Unsupported global: GLOBAL os.system was not an allowed global
    by default"), without its advice to turn the check off."""
    text = str(err)
    for line in text.splitlines():
        if 'WeightsUnpickler error:' in line:
            reason = line.split('WeightsUnpickler error:', 1)[1].strip()
            return reason.split('. Please use', 1)[0].rstrip('.')
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def extract_state_dict(checkpoint: Dict[str, Any],
                       prefix: Optional[str] = None) -> Dict[str, Any]:
    """The model weights of a checkpoint: its ``state_dict`` (mmengine and
    OpenMMLab files), ``model`` (some third-party files) or the file itself,
    keeping only the keys under ``prefix`` (with the prefix removed) when
    given, and dropping a DataParallel ``module.`` prefix."""
    state = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if prefix:
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def save_atomically(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename, so a
    crash mid-write never leaves a truncated file under ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix='.tmp-', suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private; give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
