"""Numerics shared by the distillation losses."""
import torch
import torch.nn.functional as F
from torch import Tensor


def cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Batch-mean cross-entropy for hard (N,) or soft (N, K) targets."""
    if target.dim() == logits.dim():
        return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    return F.cross_entropy(logits, target.long())


def kl_divergence(student_logits: Tensor, teacher_logits: Tensor,
                  tau: float = 1.0) -> Tensor:
    """Batch-mean KL(softmax(t / tau) || softmax(s / tau)).

    Computed from log-probabilities on both sides, so confident teachers
    (probabilities underflowing to 0) give finite values.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            'Teacher and student logits differ in shape: teacher '
            f'{tuple(teacher_logits.shape)} vs student '
            f'{tuple(student_logits.shape)}. Do both heads predict the same '
            'classes (num_classes)?')
    log_p_s = F.log_softmax(student_logits / tau, dim=1)
    log_p_t = F.log_softmax(teacher_logits.detach() / tau, dim=1)
    return (log_p_t.exp() * (log_p_t - log_p_s)).sum(1).mean()


def log_one_minus_softmax(logits: Tensor, target: Tensor) -> Tensor:
    """log(1 - softmax(logits)[target]) per sample, computed stably.

    1 - p_y is the probability mass of the other classes, so its log is
    logsumexp over the non-target logits minus logsumexp over all logits;
    this never forms 1 - p_y, which rounds to 0 for a confident model.
    """
    target = target.long().view(-1, 1)
    masked = logits.scatter(1, target, float('-inf'))
    return torch.logsumexp(masked, dim=1) - torch.logsumexp(logits, dim=1)
