"""ALRS: the augmenter's plateau learning-rate decay in TST."""
from typing import Optional

from torch.optim import Optimizer


class ALRS:
    """Decay the learning rate when an epoch's loss stops falling.

    TST (Shao et al., IJCAI 2023) steps the augmenter's SGD with the ALRS
    rule of "Bag of Tricks for Adversarial Training"-style training code the
    authors reuse (``ALRS`` in their ``datas/SDAGAN.py``): after each
    augmenter epoch, with ``drop = last - loss``, every learning rate is
    multiplied by ``factor`` when ``drop < min_drop`` *and* the relative
    change ``|drop / last| < min_rel_drop``: the loss has settled. A loss
    that rises by more than ``min_rel_drop`` is not a plateau and keeps the
    rate.

    ``relative_change='signed'`` (mmtst's earlier rule) tests ``drop / last
    < min_rel_drop`` without the absolute value, so every rise decays.

    Args:
        optimizer: The augmenter's optimiser.
        min_drop: Absolute drop threshold. Defaults to 0.02.
        min_rel_drop: Relative change threshold. Defaults to 0.02.
        factor: Decay factor. Defaults to 0.9.
        relative_change: ``'absolute'`` (the authors') or ``'signed'``.
            Defaults to ``'absolute'``.
    """

    RELATIVE_CHANGES = ('absolute', 'signed')

    def __init__(self,
                 optimizer: Optimizer,
                 min_drop: float = 0.02,
                 min_rel_drop: float = 0.02,
                 factor: float = 0.9,
                 relative_change: str = 'absolute') -> None:
        if relative_change not in self.RELATIVE_CHANGES:
            raise ValueError(
                f'ALRS relative_change must be one of '
                f'{list(self.RELATIVE_CHANGES)}, got {relative_change!r}')
        self.optimizer = optimizer
        self.min_drop = min_drop
        self.min_rel_drop = min_rel_drop
        self.factor = factor
        self.relative_change = relative_change
        self.last_loss: Optional[float] = None

    def step(self, loss: float) -> bool:
        """Record an epoch's mean loss; return whether the lr was decayed."""
        decayed = False
        if self.last_loss is not None:
            drop = self.last_loss - loss
            relative = drop / max(abs(self.last_loss), 1e-12)
            if self.relative_change == 'absolute':
                relative = abs(relative)
            if drop < self.min_drop and relative < self.min_rel_drop:
                for group in self.optimizer.param_groups:
                    group['lr'] *= self.factor
                decayed = True
        self.last_loss = loss
        return decayed

    def reset(self) -> None:
        self.last_loss = None

    def state_dict(self) -> dict:
        return dict(last_loss=self.last_loss)

    def load_state_dict(self, state: dict) -> None:
        self.last_loss = state.get('last_loss')
