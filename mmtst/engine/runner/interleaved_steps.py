"""Augmenter steps between the student's iterations (beyond the paper)."""
from mmengine.hooks import Hook


class InterleavedAugmenterSteps(Hook):
    """One augmenter step after every ``interleave_interval``-th student
    iteration of a TST loop, and ALRS's step (over the steps' mean loss) at
    the end of each pass over the training loader.

    The paper trains the augmenter only in phases between epochs (Shao et
    al., IJCAI 2023, Sec. 3.4); interleaving is mmtst's option
    (``train_cfg.interleave_interval``). The loop registers this hook when
    that is set. It runs first among the ``after_train_iter`` hooks
    (priority ``HIGHEST``), so that the iteration's checkpoint, written by
    the later ones, holds the augmenter as the step left it; mmengine's
    ``run_iter`` itself stays as it is.

    Args:
        loop: The TST loop: its ``interleave_interval``, its
            ``augmenter_trainer`` and ``pass_ending_at(batch_idx)`` (the
            name of the pass an iteration ends, else None).
    """
    priority = 'HIGHEST'

    def __init__(self, loop) -> None:
        self.loop = loop

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        trainer = self.loop.augmenter_trainer
        # runner.iter: this iteration's index (the loop counts it after
        # the hooks)
        if (runner.iter + 1) % self.loop.interleave_interval == 0:
            trainer.interleaved_step(data_batch, batch_idx)
        where = self.loop.pass_ending_at(batch_idx)
        if where is not None:
            trainer.end_interleaved_epoch(where)
