"""Top-1 agreement between student and teacher (FunMatch's diagnostic)."""
from typing import List, Sequence

from mmengine.evaluator import BaseMetric

from mmtst.registry import METRICS


@METRICS.register_module()
class TeacherStudentAgreement(BaseMetric):
    """Percentage of samples on which student and teacher predict the same
    class ("Knowledge distillation: A good teacher is patient and
    consistent", Beyer et al., CVPR 2022, reports it to show how closely
    function matching follows the teacher).

    Needs the distiller's ``record_teacher_predictions=True``.
    """

    default_prefix = 'agreement'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'teacher_pred_label' not in sample:
                raise ValueError(
                    'TeacherStudentAgreement needs the teacher\'s predictions:'
                    ' set model.record_teacher_predictions=True')
            self.results.append(
                int(sample['pred_label'].item() ==
                    sample['teacher_pred_label'].item()))

    def compute_metrics(self, results: List[int]) -> dict:
        return dict(top1=100.0 * sum(results) / max(len(results), 1))
