"""Recording what a model computes on the way to its loss, so a distiller
needs one student forward for both the task loss and the distillation."""
import contextlib
from typing import Iterator

from torch import nn


@contextlib.contextmanager
def record_output(owner: nn.Module, method: str) -> Iterator[list]:
    """Record what ``owner.<method>`` is called with and returns inside the
    block, as ``[(args, output), ...]``, without editing the toolbox's
    classes: an instance attribute shadows the method and is deleted
    afterwards."""
    calls: list = []
    bound = getattr(owner, method)

    def recording(*args, **kwargs):
        output = bound(*args, **kwargs)
        calls.append((args, output))
        return output

    setattr(owner, method, recording)
    try:
        yield calls
    finally:
        delattr(owner, method)
