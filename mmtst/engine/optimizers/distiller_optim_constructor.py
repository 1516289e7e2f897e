"""One optimiser per trainable part of a distiller."""
import copy
from typing import Dict, Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmtst.registry import OPTIM_WRAPPER_CONSTRUCTORS

# Children of a distiller that no ``architecture`` optimiser may touch.
NOT_ARCHITECTURE = ('teacher', 'augmenter', 'data_preprocessor')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillerOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` keyed by part, the mmengine way of
    alternating two optimisers (as mmrazor's data-free distillation does).

    * ``architecture``: everything trainable except the teacher and the
      augmenter: the student, plus any adapters of the distillation losses.
    * ``augmenter``: the TST augmenter's probability and magnitude logits.

    Each value is an ordinary optim wrapper config (``type``, ``optimizer``,
    ``clip_grad``, ``paramwise_cfg`` ...). Example::

        optim_wrapper = dict(
            constructor='mmtst.DistillerOptimWrapperConstructor',
            architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
            augmenter=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)))
    """

    PARTS = ('architecture', 'augmenter')

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('Give paramwise_cfg inside optim_wrapper.'
                             'architecture / .augmenter, not at the top.')
        unknown = sorted(set(optim_wrapper_cfg) - set(self.PARTS))
        if unknown:
            raise ValueError(
                f'optim_wrapper has unknown part(s) {unknown}; a distiller '
                f'has {list(self.PARTS)}.')
        if 'architecture' not in optim_wrapper_cfg:
            raise ValueError('optim_wrapper needs an `architecture` entry '
                             '(the student\'s optimiser).')
        self.optim_wrapper_cfg = copy.deepcopy(dict(optim_wrapper_cfg))

    @staticmethod
    def part(model: nn.Module, name: str) -> nn.Module:
        if name == 'augmenter':
            augmenter = getattr(model, 'augmenter', None)
            if augmenter is None:
                raise ValueError(
                    'optim_wrapper.augmenter is set but the model has no '
                    'augmenter: add model.augmenter (TST) or remove it.')
            return augmenter
        return nn.ModuleDict({
            child_name: child
            for child_name, child in model.named_children()
            if child_name not in NOT_ARCHITECTURE
        })

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers: Dict[str, object] = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            cfg = copy.deepcopy(dict(cfg))
            paramwise = cfg.pop('paramwise_cfg', None)
            constructor = DefaultOptimWrapperConstructor(cfg, paramwise)
            wrappers[name] = constructor(self.part(model, name))
        return OptimWrapperDict(**wrappers)
