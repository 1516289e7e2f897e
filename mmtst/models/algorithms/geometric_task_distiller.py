"""What the detection and segmentation distillers share: annotations that
move with the image's geometry."""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from mmtst.models.losses.inverted_base import check_inverted_reduction
from mmtst.models.losses.inverted_losses import inverted_task_losses
from mmtst.models.utils import flips_channels, normalise_raw_pixels
from .base_distiller import BaseDistiller, build_with_scope, resolve_model_cfg


class GeometricTaskDistiller(BaseDistiller):
    """A distiller for tasks whose annotations follow the image's geometry
    (boxes, masks, label maps), after TST (Shao et al., IJCAI 2023, Sec.
    3.4): detection and segmentation.

    The batch stays in raw pixels (the data preprocessor pads and stacks
    without normalising); each model normalises its own input. The
    augmenter's geometric ops are combined into one warp per image
    (``augment_with_geometry``) that :meth:`warp_samples` applies to the
    annotations. The augmenter step (stage II) optimises the teacher's task
    losses plus the student's task losses in inverted form.

    Subclasses implement :meth:`loss` and :meth:`warp_samples` and name
    their toolbox's data preprocessor in ``RAW_PREPROCESSOR``.

    Args:
        student: Student model config or config path.
        teacher: Teacher model config or config path.
        teacher_ckpt: Teacher weights.
        augmenter: A ``LearnableAugmentPolicy`` config. Defaults to None.
        teacher_loss_weight: Weight of the teacher's losses in the augmenter
            objective. Defaults to 1.0.
        student_loss_weight: Weight of the student's inverted losses in the
            augmenter objective. Defaults to 1.0.
        inverted_reduction: How the student's inverted losses are reduced
            (:mod:`mmtst.models.losses.inverted_losses`): ``'authors'``
            (default, paper-faithful: the authors' mmdet/mmseg code
            averages the inverted focal loss over all prior x class
            elements and the inverted pixel CE over the (N, C, H, W)
            one-hot map) or ``'task'`` (mmtst's earlier form: each inverted
            loss reduced like its task loss, e.g. the focal sum over the
            number of positives, which outweighs the teacher's losses by
            ~10^3 on dense detectors).
        predict_model: ``'student'`` or ``'teacher'``. Defaults to
            ``'student'``.
        model_scope: Registry scope of teacher and student.
        data_preprocessor: Defaults to the student's preprocessor with
            normalisation and channel conversion off.
        **kwargs: Passed to :class:`BaseDistiller`.
    """

    RAW_PREPROCESSOR = 'BaseDataPreprocessor'

    def __init__(self,
                 student: Union[dict, str],
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 augmenter: Optional[dict] = None,
                 teacher_loss_weight: float = 1.0,
                 student_loss_weight: float = 1.0,
                 inverted_reduction: str = 'authors',
                 predict_model: str = 'student',
                 model_scope: str = 'mmdet',
                 data_preprocessor: Optional[dict] = None,
                 **kwargs) -> None:
        student_cfg = resolve_model_cfg(student, 'student')
        teacher = resolve_model_cfg(teacher, 'teacher')
        if data_preprocessor is None:
            data_preprocessor = self.raw_pixel_preprocessor(student_cfg)
        if isinstance(data_preprocessor, dict):
            data_preprocessor = build_with_scope(data_preprocessor,
                                                 model_scope,
                                                 'data_preprocessor')
        super().__init__(
            student=student_cfg,
            teacher=teacher,
            teacher_ckpt=teacher_ckpt,
            augmenter=augmenter,
            predict_model=predict_model,
            model_scope=model_scope,
            data_preprocessor=data_preprocessor,
            **kwargs)
        self.teacher_loss_weight = teacher_loss_weight
        self.student_loss_weight = student_loss_weight
        check_inverted_reduction(inverted_reduction)
        self.inverted_reduction = inverted_reduction

    @classmethod
    def raw_pixel_preprocessor(cls, student_cfg: dict) -> dict:
        """The student's data preprocessor with normalisation and channel
        conversion off: the distiller keeps raw pixels (the augmenter works
        on them) and normalises per model later. Padding stays."""
        cfg = copy.deepcopy(
            dict(
                student_cfg.get('data_preprocessor')
                or dict(type=cls.RAW_PREPROCESSOR)))
        cfg.update(mean=None, std=None, bgr_to_rgb=False, rgb_to_bgr=False)
        return cfg

    def warp_samples(self, data_samples: List, matrices: Tensor) -> List:
        """Copies of ``data_samples`` whose annotations follow the warp."""
        raise NotImplementedError

    # ------------------------------------------------------------ inputs
    def model_inputs(self, pixels: Tensor, which: str) -> Tensor:
        """Raw padded pixels (0..255, as loaded) -> ``which`` model's
        normalised input: its preprocessor's channel flip, mean and std."""
        model = self.teacher if which == 'teacher' else self.student
        return normalise_raw_pixels(model.data_preprocessor, pixels)

    def augment(self, pixels: Tensor):
        """Augment raw pixels; return ``(pixels, matrices)``. The augmenter
        works on RGB in [0, 1] (the order of an mmdet / mmseg mean given
        with ``bgr_to_rgb=True``): BGR batches (OpenMMLab's loading) are
        flipped for it when the student's preprocessor converts BGR to
        RGB."""
        flip = flips_channels(
            self.student.data_preprocessor) and pixels.size(1) == 3
        x = pixels[:, [2, 1, 0]] if flip else pixels
        out, matrices = self.augmenter.augment_with_geometry(x / 255.0)
        out = out * 255.0
        return (out[:, [2, 1, 0]] if flip else out), matrices

    # ------------------------------------------------------------ forward
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            model = (
                self.teacher
                if self.predict_model == 'teacher' else self.student)
            return model(
                self.model_inputs(inputs, self.predict_model),
                data_samples,
                mode='predict')
        if mode == 'tensor':
            return self.student(
                self.model_inputs(inputs, 'student'),
                data_samples,
                mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: Tensor, data_samples: List) -> Dict[str, Tensor]:
        raise NotImplementedError

    def doubled_batch(self, inputs: Tensor, data_samples: List):
        """TST's student batch ``[x_aug; x]`` with the augmented copies'
        annotations warped (no gradient: the augmenter is not trained here)."""
        with torch.no_grad():
            augmented, matrices = self.augment(inputs)
        return (torch.cat([augmented, inputs]),
                self.warp_samples(data_samples, matrices) + list(data_samples))

    # ------------------------------------------------------------ stage II
    def augmenter_losses(
            self, inputs: Tensor,
            data_samples: List) -> Tuple[Dict[str, Tensor], Dict[str, float]]:
        """The augmenter's objective: the teacher's task losses + the
        student's task losses in inverted form, on the augmented batch with
        warped annotations."""
        augmented, matrices = self.augment(inputs)
        # annotations are targets: no gradient through them
        samples = self.warp_samples(data_samples, matrices.detach())
        teacher = self.teacher.loss(
            self.model_inputs(augmented, 'teacher'), copy.deepcopy(samples))
        with inverted_task_losses(self.student, self.inverted_reduction):
            student = self.student.loss(
                self.model_inputs(augmented, 'student'), samples)
        losses = {
            f'augmenter.teacher.{k}': scale(v, self.teacher_loss_weight)
            for k, v in teacher.items()
        }
        losses.update({
            f'augmenter.student_inverted.{k}':
            scale(v, self.student_loss_weight)
            for k, v in student.items()
        })
        return losses, {}


def scale(value, weight: float):
    """``weight * value`` for a loss or a list of per-level losses."""
    if isinstance(value, (list, tuple)):
        return [weight * v for v in value]
    return weight * value
