"""ALRS: the augmenter's plateau learning-rate decay in TST."""
from typing import Optional

from torch.optim import Optimizer


class ALRS:
    """Decay the learning rate when an epoch's loss stops falling.

    TST (Shao et al., IJCAI 2023) steps the augmenter's SGD with the ALRS
    rule of "Bag of Tricks for Adversarial Training"-style training code the
    authors reuse: after each augmenter epoch, if the mean loss fell by less
    than ``min_drop`` (absolute) *and* less than ``min_rel_drop`` (relative
    to the previous epoch), every learning rate is multiplied by ``factor``.

    Args:
        optimizer: The augmenter's optimiser.
        min_drop: Absolute drop threshold. Defaults to 0.02.
        min_rel_drop: Relative drop threshold. Defaults to 0.02.
        factor: Decay factor. Defaults to 0.9.
    """

    def __init__(self, optimizer: Optimizer, min_drop: float = 0.02,
                 min_rel_drop: float = 0.02, factor: float = 0.9) -> None:
        self.optimizer = optimizer
        self.min_drop = min_drop
        self.min_rel_drop = min_rel_drop
        self.factor = factor
        self.last_loss: Optional[float] = None

    def step(self, loss: float) -> bool:
        """Record an epoch's mean loss; return whether the lr was decayed."""
        decayed = False
        if self.last_loss is not None:
            drop = self.last_loss - loss
            relative = drop / max(abs(self.last_loss), 1e-12)
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
