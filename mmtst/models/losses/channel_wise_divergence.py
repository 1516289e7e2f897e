"""Channel-wise distillation (CWD) for dense prediction.

Shu et al., "Channel-wise Knowledge Distillation for Dense Prediction",
ICCV 2021: each channel of a ``(N, C, H, W)`` map is turned into a
distribution over its ``H * W`` positions (softmax with temperature
``tau``, typically 4), and the student matches the teacher's per-channel
distribution with a KL. mmtst offers it as an alternative to TST's
pixel-wise KL (Shao et al., IJCAI 2023) for segmentation logits.
"""
from torch import Tensor, nn

from mmtst.registry import MODELS
from .pixel_kl import check_logit_shapes
from .utils import kl_divergence

__all__ = ['ChannelWiseDivergence']


@MODELS.register_module()
class ChannelWiseDivergence(nn.Module):
    """Channel-wise distillation (Shu et al., ICCV 2021)::

        tau^2 / (N * C) * sum_{n,c} KL(softmax_hw(t / tau)
                                       || softmax_hw(s / tau))

    Args:
        tau: Temperature. Defaults to 4.0 (Shu et al.).
        loss_weight: Weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 4.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        check_logit_shapes(student, teacher, 'ChannelWiseDivergence')
        # one distribution over the H * W positions per channel
        n, c = student.shape[:2]
        kl = kl_divergence(student.float().reshape(n * c, -1),
                           teacher.float().reshape(n * c, -1), self.tau)
        return self.loss_weight * kl * self.tau**2
