"""Pixel-wise KL between two segmenters' logits.

TST's segmentation student loss (Shao et al., IJCAI 2023, Sec. 3.4) is the
task loss plus a KL (tau = 1) between the teacher's and the student's
class distributions at every pixel of the decode (weight 1.5) and auxiliary
(weight 0.5) heads.
"""
from torch import Tensor, nn

from mmtst.registry import MODELS
from .utils import kl_divergence

__all__ = ['PixelWiseKL', 'check_logit_shapes']


def check_logit_shapes(student: Tensor, teacher: Tensor, what: str) -> None:
    """Raise a clear error when two logit maps cannot be compared."""
    if student.dim() != 4 or teacher.dim() != 4:
        raise ValueError(f'{what}: expected (N, C, H, W) logits, got '
                         f'{tuple(student.shape)} and {tuple(teacher.shape)}')
    if student.shape[:3] != teacher.shape[:3] or \
            student.shape[3] != teacher.shape[3]:
        raise ValueError(
            f'{what}: teacher logits {tuple(teacher.shape)} vs student '
            f'{tuple(student.shape)}. Both heads must predict the same '
            'classes (num_classes) on the same batch; resize spatial sizes '
            'first.')


@MODELS.register_module()
class PixelWiseKL(nn.Module):
    """KL(softmax(t / tau) || softmax(s / tau)) over classes, averaged over
    pixels and images, times ``tau ** 2``.

    Args:
        tau: Temperature (paper: 1). Defaults to 1.0.
        loss_weight: Weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        check_logit_shapes(student, teacher, 'PixelWiseKL')
        # one class distribution per pixel: rows of (N * H * W, C)
        c = student.size(1)
        kl = kl_divergence(student.float().movedim(1, -1).reshape(-1, c),
                           teacher.float().movedim(1, -1).reshape(-1, c),
                           self.tau)
        return self.loss_weight * kl * self.tau**2
