"""What every inverted task loss of TST shares (see
:mod:`.inverted_losses`)."""
from torch import nn

__all__ = ['InvertedLoss', 'INVERTED_REDUCTIONS', 'check_inverted_reduction']

# how the inverted losses are reduced (see mmtst.models.losses.inverted_losses)
INVERTED_REDUCTIONS = ('authors', 'task')


def check_inverted_reduction(reduction: str) -> None:
    """Raise a ValueError naming the choices for an unknown reduction."""
    if reduction not in INVERTED_REDUCTIONS:
        raise ValueError(f'inverted_reduction must be one of '
                         f'{list(INVERTED_REDUCTIONS)}, got {reduction!r}')


class InvertedLoss(nn.Module):
    """Base of the wrappers: holds the original loss and reads its
    attributes through, so a head sees the loss it was built with."""

    def __init__(self, original: nn.Module) -> None:
        super().__init__()
        self.original = original

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules['original'], name)

    def _reduction(self, reduction_override) -> str:
        return reduction_override or getattr(self.original, 'reduction',
                                             'mean')
