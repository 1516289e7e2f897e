"""Numerics shared by the distillation losses."""
import torch
import torch.nn.functional as F
from torch import Tensor


def cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Batch-mean cross-entropy for hard (N,) or soft (N, K) targets."""
    if target.dim() == logits.dim():
        return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    return F.cross_entropy(logits, target.long())


def kl_divergence(student_logits: Tensor,
                  teacher_logits: Tensor,
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
    """log(1 - softmax(logits, dim=1)[target]), computed stably.

    1 - p_y is the probability mass of the other classes, so its log is
    logsumexp over the non-target logits minus logsumexp over all logits;
    this never forms 1 - p_y, which rounds to 0 for a confident model.

    Args:
        logits: ``(N, C)`` or ``(N, C, ...)`` (e.g. a segmentation map).
        target: Class indices, ``(N,)`` or ``(N, ...)``.

    Returns:
        ``(N,)`` or ``(N, ...)``.
    """
    index = target.long().reshape(logits.shape[0], 1, *logits.shape[2:])
    masked = logits.scatter(1, index, float('-inf'))
    return torch.logsumexp(masked, dim=1) - torch.logsumexp(logits, dim=1)


def bounded_anti_ce(logits: Tensor, target: Tensor, log_eps: float) -> Tensor:
    """TST's bounded "anti cross-entropy" ``-log(1 - p_y + eps)`` per
    element (Shao et al., IJCAI 2023, Sec. 3.3), low when the model gives
    the true class little probability; bounded by ``-log(eps)``.

    Computed as ``-logaddexp(log(1 - p_y), log(eps))`` without leaving log
    space. Shapes as in :func:`log_one_minus_softmax`; unreduced.
    """
    log_rest = log_one_minus_softmax(logits, target)
    return -log_rest.logaddexp(log_rest.new_tensor(log_eps))
