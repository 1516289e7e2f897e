"""FunMatch's "fixed teacher": teacher logits computed once, kept on disk."""
import hashlib
import os
import os.path as osp
from typing import Callable, Dict

import numpy as np
import torch
from torch import Tensor


def teacher_fingerprint(state_dict: Dict[str, Tensor], view: str) -> str:
    """A digest of the teacher's weights and the fixed view's settings: the
    cache is invalidated by a different teacher or view."""
    digest = hashlib.sha1(view.encode())
    for key in sorted(state_dict):
        value = state_dict[key]
        digest.update(key.encode())
        if torch.is_tensor(value):
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class TeacherLogitCache:
    """Teacher logits memory-mapped on disk, keyed by dataset index.

    Files ``<cache_dir>/teacher-<fingerprint>.logits`` (float32, one row per
    sample) and ``.valid`` (one byte per sample) grow as larger indices
    arrive. A missing row is computed once, on the first batch that holds
    the sample, and read from disk ever after, also by later runs with the
    same teacher and view.

    Args:
        cache_dir: Folder of the cache files.
        fingerprint: :func:`teacher_fingerprint` of teacher and view.
        num_classes: Logits per sample.
    """

    def __init__(self, cache_dir: str, fingerprint: str,
                 num_classes: int) -> None:
        os.makedirs(cache_dir, exist_ok=True)
        self.prefix = osp.join(cache_dir, f'teacher-{fingerprint}')
        self.num_classes = num_classes
        self.hits = 0
        self.misses = 0
        self._logits = self._valid = None
        if osp.exists(self.prefix + '.valid'):
            self._open(osp.getsize(self.prefix + '.valid'))

    @property
    def capacity(self) -> int:
        return 0 if self._valid is None else self._valid.shape[0]

    def _open(self, capacity: int) -> None:
        mode = 'r+' if osp.exists(self.prefix + '.valid') else 'w+'
        self._valid = np.memmap(
            self.prefix + '.valid', np.uint8, mode, shape=(capacity, ))
        self._logits = np.memmap(
            self.prefix + '.logits',
            np.float32,
            mode,
            shape=(capacity, self.num_classes))

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * self.capacity, 1024)
        old_valid = None if self._valid is None else np.array(self._valid)
        old_logits = None if self._logits is None else np.array(self._logits)
        self._valid = self._logits = None
        for suffix in ('.valid', '.logits'):
            if osp.exists(self.prefix + suffix):
                os.remove(self.prefix + suffix)
        self._open(capacity)
        if old_valid is not None:
            self._valid[:len(old_valid)] = old_valid
            self._logits[:len(old_logits)] = old_logits

    def get_or_compute(self, indices: Tensor,
                       compute: Callable[[Tensor], Tensor]) -> Tensor:
        """Logits for ``indices``; ``compute(mask)`` must return the logits
        of the samples selected by the boolean ``mask`` (the misses)."""
        idx = indices.cpu().numpy().astype(np.int64)
        if idx.size and idx.max() >= self.capacity:
            self._grow(int(idx.max()) + 1)
        hit = torch.from_numpy(self._valid[idx].astype(bool))
        out = torch.from_numpy(np.array(self._logits[idx]))
        if not bool(hit.all()):
            miss = ~hit
            fresh = compute(miss.to(indices.device)).detach().float().cpu()
            out[miss] = fresh
            self._logits[idx[miss.numpy()]] = fresh.numpy()
            self._valid[idx[miss.numpy()]] = 1
            self._logits.flush()
            self._valid.flush()
        self.hits += int(hit.sum())
        self.misses += int((~hit).sum())
        return out
