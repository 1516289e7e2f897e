"""KL between the dense or RoI classification logits of two detectors.

TST's detection student loss (Shao et al., IJCAI 2023, Sec. 3.4) is the
task loss plus a KL (tau = 1) on the classification logits of the heads.
"""
import torch.nn.functional as F
from torch import Tensor

__all__ = ['binary_kl', 'dense_kl']


def binary_kl(student_logits: Tensor,
              teacher_logits: Tensor,
              tau: float = 1.0) -> Tensor:
    """Element-wise KL(Bern(sigmoid(t / tau)) || Bern(sigmoid(s / tau))),
    from log-sigmoids on both sides (finite for confident teachers)."""
    s, t = student_logits / tau, teacher_logits.detach() / tau
    log_ps, log_qs = F.logsigmoid(s), F.logsigmoid(-s)
    log_pt, log_qt = F.logsigmoid(t), F.logsigmoid(-t)
    return log_pt.exp() * (log_pt - log_ps) + log_qt.exp() * (log_qt - log_qs)


def dense_kl(student: Tensor,
             teacher: Tensor,
             channels: int,
             sigmoid: bool,
             mode: str = 'binary',
             tau: float = 1.0) -> Tensor:
    """KL per prior between one FPN level's classification maps.

    Args:
        student: ``(N, A * C, H, W)`` logits of the student.
        teacher: Same shape, the teacher's.
        channels: ``C``, the head's ``cls_out_channels``.
        sigmoid: Whether the head scores classes with sigmoids.
        mode: For sigmoid heads, ``'binary'`` (KL of each class's
            Bernoulli, summed over classes: the distribution the head is
            trained and decoded with, background = all classes low) or
            ``'softmax'`` (KL of the softmax over classes; it is invariant
            to a shift of all logits, so it ignores how confident the prior
            is that there is an object at all). Softmax heads always use
            the softmax over their ``C`` channels (background included).
        tau: Temperature; the loss is multiplied by ``tau ** 2``.

    Returns:
        The level's KL summed over the priors' classes: a ``(P,)`` tensor of
        ``P = N * A * H * W`` priors (average it over all levels' priors).
    """
    if student.shape != teacher.shape:
        raise ValueError(
            'Teacher and student heads give classification maps of different '
            f'shapes ({tuple(teacher.shape)} vs {tuple(student.shape)}): '
            'dense-head KL needs the same head type, anchors, strides and '
            'num_classes.')
    n, ac, h, w = student.shape
    s = student.permute(0, 2, 3, 1).reshape(-1, channels)
    t = teacher.permute(0, 2, 3, 1).reshape(-1, channels)
    if sigmoid and mode == 'binary':
        kl = binary_kl(s, t, tau).sum(1)
    else:
        log_ps = F.log_softmax(s / tau, dim=1)
        log_pt = F.log_softmax(t.detach() / tau, dim=1)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(1)
    return kl * tau**2
