"""Vanilla knowledge distillation loss (Hinton et al., 2015)."""
from typing import Dict

from torch import Tensor, nn

from mmtst.registry import MODELS
from .utils import cross_entropy, kl_divergence


@MODELS.register_module()
class KDLoss(nn.Module):
    """CE + alpha * tau^2 * KL(softmax(t / tau) || softmax(s / tau)).

    "Distilling the Knowledge in a Neural Network" (Hinton, Vinyals, Dean,
    2015). This is the per-half loss of TST's student step (Shao et al.,
    IJCAI 2023, Eq. 8): tau = 4 on CIFAR-100, 1 on ImageNet; alpha = 1
    (0.5 for the ResNet-110 pairs).

    Args:
        tau: Softmax temperature. Defaults to 4.0.
        alpha: Weight of the KL term. Defaults to 1.0.
        ce_weight: Weight of the ground-truth cross-entropy. Defaults to 1.0.
    """

    def __init__(self,
                 tau: float = 4.0,
                 alpha: float = 1.0,
                 ce_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'KDLoss: tau must be > 0, got {tau}')
        self.tau = tau
        self.alpha = alpha
        self.ce_weight = ce_weight

    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                target: Tensor) -> Dict[str, Tensor]:
        """Return ``loss_ce`` and ``loss_kd``, each a batch mean.

        Args:
            student_logits: (N, K) student logits.
            teacher_logits: (N, K) teacher logits (no gradient needed).
            target: (N,) class indices or (N, K) soft targets.
        """
        kl = kl_divergence(student_logits, teacher_logits, self.tau)
        return dict(
            loss_ce=self.ce_weight * cross_entropy(student_logits, target),
            loss_kd=self.alpha * self.tau**2 * kl)
