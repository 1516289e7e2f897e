"""Decoupled knowledge distillation (Zhao et al., CVPR 2022)."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from torch import Tensor, nn

from mmtst.registry import MODELS
from .utils import cross_entropy, log_one_minus_softmax


@MODELS.register_module()
class DKDLoss(nn.Module):
    """CE + w(epoch) * (alpha * TCKD + beta * NCKD), both scaled by tau^2.

    "Decoupled Knowledge Distillation" (Zhao, Cui, Song, Qiu, Liang,
    CVPR 2022). TCKD is the KL between the binary (target vs. rest)
    distributions, NCKD the KL between the distributions over the
    non-target classes. w ramps linearly from 1 / warmup to 1 over the
    first ``warmup`` epochs, as in the authors' code (epoch counted from 1).

    Args:
        tau: Temperature. Defaults to 4.0 (the paper's CIFAR-100 value).
        alpha: TCKD weight. Defaults to 1.0.
        beta: NCKD weight, set per pair in the paper (8 for most CIFAR
            pairs, 0.5 on ImageNet). Defaults to 8.0.
        ce_weight: Ground-truth CE weight. Defaults to 1.0.
        warmup: Warm-up length in epochs; 0 disables it. Defaults to 20.
    """

    def __init__(self,
                 tau: float = 4.0,
                 alpha: float = 1.0,
                 beta: float = 8.0,
                 ce_weight: float = 1.0,
                 warmup: int = 20) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'DKDLoss: tau must be > 0, got {tau}')
        self.tau = tau
        self.alpha = alpha
        self.beta = beta
        self.ce_weight = ce_weight
        self.warmup = warmup

    def warmup_factor(self) -> float:
        """min((epoch + 1) / warmup, 1) from mmengine's runtime info."""
        if self.warmup <= 0:
            return 1.0
        epoch = MessageHub.get_current_instance().get_info('epoch', None)
        if epoch is None:  # outside a runner, e.g. in unit tests
            return 1.0
        return min((epoch + 1) / self.warmup, 1.0)

    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                target: Tensor) -> Dict[str, Tensor]:
        """Return ``loss_ce``, ``loss_tckd`` and ``loss_nckd`` (batch
        means)."""
        if target.dim() != 1:
            raise ValueError('DKDLoss needs hard labels (N,); soft targets '
                             '(e.g. from mixup) have no single target class.')
        tau = self.tau
        s = student_logits / tau
        t = teacher_logits.detach() / tau
        target = target.long()
        w = self.warmup_factor() * tau**2

        # binary distributions [p_target, 1 - p_target] in log space
        log_bs = torch.stack([
            s.log_softmax(1).gather(1, target[:, None]).squeeze(1),
            log_one_minus_softmax(s, target)
        ],
                             dim=1)
        log_bt = torch.stack([
            t.log_softmax(1).gather(1, target[:, None]).squeeze(1),
            log_one_minus_softmax(t, target)
        ],
                             dim=1)
        tckd = (log_bt.exp() * (log_bt - log_bs)).sum(1).mean()

        # distributions over the non-target classes only
        mask = F.one_hot(target, s.size(1)).bool()
        log_ps_nt = s.masked_fill(mask, float('-inf')).log_softmax(1)
        log_pt_nt = t.masked_fill(mask, float('-inf')).log_softmax(1)
        pt_nt = log_pt_nt.exp()
        nckd = (pt_nt *
                (log_pt_nt - log_ps_nt).masked_fill(mask, 0.)).sum(1).mean()

        return dict(
            loss_ce=self.ce_weight * cross_entropy(student_logits, target),
            loss_tckd=w * self.alpha * tckd,
            loss_nckd=w * self.beta * nckd)
