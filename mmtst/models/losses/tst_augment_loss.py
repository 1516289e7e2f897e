"""TST's augmenter objective for classification (stage II)."""
import math
from typing import Dict

import torch.nn.functional as F
from torch import Tensor, nn

from mmtst.registry import MODELS
from .utils import bounded_anti_ce


@MODELS.register_module()
class TSTAugmentLoss(nn.Module):
    """a * CE(teacher) + b * mean(-log(1 - p_S(y | x_aug) + eps)).

    "Teaching What You Should Teach: A Data-Based Distillation Method"
    (Shao et al., IJCAI 2023, Sec. 3.3): the augmenter looks for samples the
    teacher still classifies correctly (low teacher CE) while the student
    does not (the bounded "anti-CE" of the student is low when p_S(y) -> 0).

    The authors' code takes -log of the softmax directly, which overflows to
    inf for a confident teacher and turns the augmenter into NaN; here both
    terms are formed in log space (log-softmax and log-sum-exp), giving the
    same values wherever the authors' form is finite.

    Args:
        teacher_weight: a. Defaults to 1.0.
        student_weight: b. Defaults to 1.0.
        eps: The paper's 1e-8 inside the student term. Defaults to 1e-8.
    """

    def __init__(self,
                 teacher_weight: float = 1.0,
                 student_weight: float = 1.0,
                 eps: float = 1e-8) -> None:
        super().__init__()
        self.teacher_weight = teacher_weight
        self.student_weight = student_weight
        self.log_eps = math.log(eps)

    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                target: Tensor) -> Dict[str, Tensor]:
        """Return ``loss_teacher_ce`` and ``loss_student_anti_ce``."""
        target = target.long()
        teacher_ce = F.cross_entropy(teacher_logits.float(), target)
        anti_ce = bounded_anti_ce(student_logits.float(), target,
                                  self.log_eps).mean()
        return dict(
            loss_teacher_ce=self.teacher_weight * teacher_ce,
            loss_student_anti_ce=self.student_weight * anti_ce)
