"""DDP for distillers trained with one optimiser per part."""
from mmengine.model import MMDistributedDataParallel
from torch.nn.parallel import DistributedDataParallel

from mmtst.models.utils import STUDENT, optim_part
from mmtst.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DistillerDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper, stepping the ``architecture`` optimiser of an
    ``OptimWrapperDict`` in ``train_step``.

    mmengine's wrapper runs the forward itself (it does not call the
    module's ``train_step``), so it cannot pick the student's optimiser out
    of TST's two. The augmenter's steps go through the distiller's
    ``augmenter_step``, which averages their gradients over the ranks.
    mmtst's distiller configs name it in ``model_wrapper_cfg`` (mmengine
    uses that only in distributed runs; ``tools/train.py`` adds it to
    distiller configs without one). The augmenter's parameters are kept
    out of DDP's reducer: they are unused by the student step and trained
    outside DDP's forward.
    """

    def __init__(self, module, **kwargs) -> None:
        augmenter = getattr(module, 'augmenter', None)
        if augmenter is not None:
            ignore = DistributedDataParallel
            ignore._set_params_and_buffers_to_ignore_for_model(
                module, [
                    f'augmenter.{name}'
                    for name, _ in augmenter.named_parameters()
                ])
        super().__init__(module=module, **kwargs)

    def train_step(self, data, optim_wrapper):
        return super().train_step(data, optim_part(optim_wrapper, STUDENT))
