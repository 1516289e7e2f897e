"""Pure temperature-scaled KL: FunMatch's function-matching loss."""
from typing import Dict, Optional

from torch import Tensor, nn

from mmtst.registry import MODELS
from .utils import kl_divergence


@MODELS.register_module()
class KLDivergence(nn.Module):
    """tau^2 * KL(softmax(t / tau) || softmax(s / tau)), no label term.

    "Knowledge distillation: A good teacher is patient and consistent"
    (Beyer et al., CVPR 2022): the student matches the teacher's function,
    with t = 1 on ImageNet and no ground-truth cross-entropy.

    Args:
        tau: Softmax temperature. Defaults to 1.0.
        loss_weight: Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'KLDivergence: tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self,
                student_logits: Tensor,
                teacher_logits: Tensor,
                target: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Return ``loss_kl``; ``target`` is accepted and ignored."""
        kl = kl_divergence(student_logits, teacher_logits, self.tau)
        return dict(loss_kl=self.loss_weight * self.tau**2 * kl)
