"""Distillation of mmdet detectors with TST's learned augmenter."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmtst.models.losses.detection_kl import dense_kl
from mmtst.models.task_adapters.boxes import (MIN_VISIBLE_AREA_RATIO,
                                              warp_data_samples)
from mmtst.models.utils import record_output
from mmtst.registry import MODELS
from .geometric_task_distiller import GeometricTaskDistiller

SIGMOID_KL_MODES = ('binary', 'softmax')


@MODELS.register_module()
class DetectionDistiller(GeometricTaskDistiller):
    """A frozen mmdet teacher distilled into an mmdet student, with TST.

    "Teaching What You Should Teach: A Data-Based Distillation Method"
    (Shao et al., IJCAI 2023), detection setting:

    * student step (:meth:`loss`): with an augmenter, ``x_aug`` and its
      per-sample warp come from
      :meth:`LearnableAugmentPolicy.augment_with_geometry` without gradient;
      the batch is doubled to ``[x_aug; x]`` with ``DetDataSample`` copies
      whose ground truth follows the warp (``img_shape`` unchanged): with
      instance masks each box is the tight box of its warped mask and an
      instance whose mask left the image is dropped; without, boxes
      mostly outside the image are dropped (``min_visible_area_ratio``).
      The loss is the student's task loss on the doubled batch
      (``student.*``) plus distillation (``distill.*``):

      - one-stage heads (RetinaNet, FCOS, ...): KL (``tau``) between the
        teacher's and the student's classification maps at every prior;
        for sigmoid heads ``sigmoid_kl='binary'`` (default) takes the KL of
        each class's Bernoulli, summed over classes, averaged over priors
        -- the distribution these heads are trained (focal loss) and
        decoded with, so the teacher's "nothing here" is taught too, which
        a softmax over classes (``'softmax'``, shift invariant) discards.
        Heads with a centerness branch (FCOS) add the binary KL of
        centerness.
      - two-stage (Faster R-CNN student; a Standard or Cascade RoI-head
        teacher): the box classifier's softmax KL on the SAME RoIs: the
        teacher's RoI head is run on the proposals the student sampled
        (a Cascade teacher averages its stages' logits, as its inference
        does).
      - ``mimic`` (optional): MSE between the FPN levels named in it, the
        student's through 1x1 conv adapters (trained with the student).

    * augmenter step (:meth:`augmenter_step`): teacher's normal task
      losses + the student's task losses in inverted form
      (:func:`~mmtst.models.losses.inverted_task_losses`), student in eval
      mode without parameter gradients; only the augmenter moves. Boxes
      follow the warp as targets (detached). Clip the augmenter's gradient
      norm at 20 with ``optim_wrapper.augmenter.clip_grad``. With
      ``inverted_reduction='authors'`` (default) the terms are weighted as
      in the authors' mmdet code: the inverted focal loss is ``FL(-x, t)``
      averaged over all prior x class elements (O(1), like the teacher's
      focal loss), -L1 / -GIoU and the anti-CE keep mmdet's reduction;
      ``'task'`` reduces the inverted focal loss like mmdet's (sum / number
      of positives), which is ~10^2-10^3 x the teacher's terms.

    The warp acts on the padded batch (a rotation turns about the batch
    centre, and padding may rotate into view); boxes are clipped to each
    sample's ``img_shape``.

    Teacher and student get the same raw pixels; each model's own data
    preprocessor settings (mean, std, BGR->RGB) normalise them. The
    distiller's own preprocessor is the student's with normalisation off.

    Args:
        student: Student detector config, or a path such as
            ``'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'``.
        teacher: Teacher detector config or path.
        teacher_ckpt: Teacher weights.
        augmenter: ``LearnableAugmentPolicy`` config (enables TST).
            Defaults to None (plain logit distillation).
        kl_weight: Weight of the classification KL. Defaults to 1.0.
        centerness_kl_weight: Weight of the centerness KL of heads that
            have one. Defaults to 1.0.
        tau: KL temperature (paper: 1). Defaults to 1.0.
        sigmoid_kl: ``'binary'`` or ``'softmax'`` (see above). Defaults to
            ``'binary'``.
        mimic: FPN feature imitation, e.g. ``dict(levels=[0, 1, 2, 3, 4],
            loss_weight=1.0)``; ``student_channels`` / ``teacher_channels``
            default to the necks' ``out_channels``. Defaults to None (off).
        teacher_loss_weight: Weight of the teacher's losses in the
            augmenter objective. Defaults to 1.0.
        student_loss_weight: Weight of the student's inverted losses.
            Defaults to 1.0.
        inverted_reduction: ``'authors'`` (default) or ``'task'``, see
            above and :class:`GeometricTaskDistiller`; passed through
            ``**kwargs``.
        min_box_size: Warped boxes below this side (px) are dropped.
            Defaults to 1.0.
        min_visible_area_ratio: Without instance masks, a warped box whose
            clipped area is below this fraction of its unclipped area is
            dropped with its labels: the clipped remainder at the border
            may hold none of the object. Unused with masks (boxes are then
            exact). 0 keeps every box. Defaults to 0.2 (mmdet 2.x
            ``RandomAffine``'s ``min_area_ratio``).
        predict_model: ``'student'`` or ``'teacher'``. Defaults to
            ``'student'``.
        **kwargs: Passed to :class:`BaseDistiller`.
    """

    RAW_PREPROCESSOR = 'DetDataPreprocessor'

    def __init__(self,
                 student: Union[dict, str],
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 augmenter: Optional[dict] = None,
                 kl_weight: float = 1.0,
                 centerness_kl_weight: float = 1.0,
                 tau: float = 1.0,
                 sigmoid_kl: str = 'binary',
                 mimic: Optional[dict] = None,
                 teacher_loss_weight: float = 1.0,
                 student_loss_weight: float = 1.0,
                 min_box_size: float = 1.0,
                 min_visible_area_ratio: float = MIN_VISIBLE_AREA_RATIO,
                 predict_model: str = 'student',
                 model_scope: str = 'mmdet',
                 data_preprocessor: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(
            student=student,
            teacher=teacher,
            teacher_ckpt=teacher_ckpt,
            augmenter=augmenter,
            teacher_loss_weight=teacher_loss_weight,
            student_loss_weight=student_loss_weight,
            predict_model=predict_model,
            model_scope=model_scope,
            data_preprocessor=data_preprocessor,
            **kwargs)
        if sigmoid_kl not in SIGMOID_KL_MODES:
            raise ValueError(f'sigmoid_kl must be one of {SIGMOID_KL_MODES}, '
                             f'got {sigmoid_kl!r}')
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.kl_weight = kl_weight
        self.centerness_kl_weight = centerness_kl_weight
        self.tau = tau
        self.sigmoid_kl = sigmoid_kl
        self.min_box_size = min_box_size
        if not 0.0 <= min_visible_area_ratio <= 1.0:
            raise ValueError('min_visible_area_ratio must be in [0, 1], got '
                             f'{min_visible_area_ratio}')
        self.min_visible_area_ratio = min_visible_area_ratio
        self.two_stage = hasattr(self.student, 'roi_head')
        if self.two_stage != hasattr(self.teacher, 'roi_head'):
            raise ValueError(
                'Teacher and student must both be two-stage (with a '
                '`roi_head`) or both dense detectors to distil their '
                'classification logits.')
        self.mimic_levels: Sequence[int] = ()
        self.mimic_weight = 0.0
        self.mimic_adapters = None
        if mimic is not None:
            self._build_mimic(dict(mimic))

    def _build_mimic(self, cfg: dict) -> None:
        unknown = set(cfg) - {
            'levels', 'loss_weight', 'student_channels', 'teacher_channels'
        }
        if unknown or 'levels' not in cfg:
            raise ValueError(
                'mimic takes levels (FPN output indices, required), '
                'loss_weight, student_channels, teacher_channels; got '
                f'{sorted(cfg)}')
        s_ch = cfg.get('student_channels') or _neck_channels(self.student)
        t_ch = cfg.get('teacher_channels') or _neck_channels(self.teacher)
        self.mimic_levels = tuple(int(i) for i in cfg['levels'])
        self.mimic_weight = float(cfg.get('loss_weight', 1.0))
        self.mimic_adapters = nn.ModuleList(
            nn.Conv2d(s_ch, t_ch, 1) for _ in self.mimic_levels)

    def warp_samples(self, data_samples: List, matrices: Tensor) -> List:
        """Boxes (and masks) follow the warp; instances that left the image
        are dropped."""
        return warp_data_samples(data_samples, matrices, self.min_box_size,
                                 self.min_visible_area_ratio)

    def loss(self, inputs: Tensor, data_samples: List) -> Dict[str, Tensor]:
        """The student's loss: task loss + distillation; with an augmenter
        on the doubled batch ``[x_aug; x]`` (TST stage III)."""
        if self.augmenter is not None:
            inputs, data_samples = self.doubled_batch(inputs, data_samples)
        student_in = self.model_inputs(inputs, 'student')
        # one student forward gives the task loss; the recorders pick up
        # the features and logits the distillation needs on the way
        head_method = ('roi_head',
                       '_bbox_forward') if self.two_stage else ('bbox_head',
                                                                'forward')
        head_owner = getattr(self.student, head_method[0])
        with record_output(self.student, 'extract_feat') as feats, \
                record_output(head_owner, head_method[1]) as head_calls:
            task = self.student.loss(student_in, data_samples)
        losses = {f'student.{k}': v for k, v in task.items()}
        with torch.no_grad():
            teacher_feats = self.teacher.extract_feat(
                self.model_inputs(inputs, 'teacher'))
        student_feats = feats[-1][1]
        if self.two_stage:
            losses.update(self._roi_kl(teacher_feats, head_calls[-1]))
        else:
            losses.update(self._dense_kl(teacher_feats, head_calls[-1][1]))
        if self.mimic_adapters is not None:
            losses['distill.loss_mimic'] = self._mimic(student_feats,
                                                       teacher_feats)
        return losses

    # ------------------------------------------------------------ distil
    def _dense_kl(self, teacher_feats, student_outs) -> Dict[str, Tensor]:
        head = self.student.bbox_head
        with torch.no_grad():
            teacher_outs = self.teacher.bbox_head(teacher_feats)
        sigmoid = bool(getattr(head, 'use_sigmoid_cls', True))
        channels = head.cls_out_channels
        kl = torch.cat([
            dense_kl(s, t, channels, sigmoid, self.sigmoid_kl, self.tau)
            for s, t in zip(student_outs[0], teacher_outs[0])
        ]).mean()
        losses = {'distill.loss_cls_kl': self.kl_weight * kl}
        if hasattr(head, 'conv_centerness') and len(student_outs) > 2:
            centerness = torch.cat([
                dense_kl(s, t, 1, True, 'binary', self.tau)
                for s, t in zip(student_outs[2], teacher_outs[2])
            ]).mean()
            losses['distill.loss_centerness_kl'] = (
                self.centerness_kl_weight * centerness)
        return losses

    def _roi_kl(self, teacher_feats, call) -> Dict[str, Tensor]:
        (_, rois), student_out = call
        with torch.no_grad():
            teacher_logits = teacher_roi_logits(self.teacher.roi_head,
                                                teacher_feats, rois)
        student_logits = student_out['cls_score']
        if student_logits.shape != teacher_logits.shape:
            raise ValueError(
                'Teacher and student box classifiers differ in shape '
                f'({tuple(teacher_logits.shape)} vs '
                f'{tuple(student_logits.shape)}): same num_classes needed.')
        log_ps = F.log_softmax(student_logits / self.tau, dim=1)
        log_pt = F.log_softmax(teacher_logits / self.tau, dim=1)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(1).mean() * self.tau**2
        return {'distill.loss_roi_cls_kl': self.kl_weight * kl}

    def _mimic(self, student_feats, teacher_feats) -> Tensor:
        total = 0.0
        for adapter, level in zip(self.mimic_adapters, self.mimic_levels):
            s, t = adapter(student_feats[level]), teacher_feats[level]
            if s.shape != t.shape:
                raise ValueError(
                    f'mimic level {level}: adapted student feature '
                    f'{tuple(s.shape)} vs teacher {tuple(t.shape)}')
            total = total + F.mse_loss(s, t)
        return self.mimic_weight * total / len(self.mimic_levels)


def teacher_roi_logits(roi_head: nn.Module, feats, rois: Tensor) -> Tensor:
    """Box-classifier logits of a teacher's RoI head on given RoIs. A
    cascade head averages its stages' logits, as its own inference does."""
    num_stages = getattr(roi_head, 'num_stages', None)
    if num_stages is None:
        return roi_head._bbox_forward(feats, rois)['cls_score']
    scores = [
        roi_head._bbox_forward(stage, feats, rois)['cls_score']
        for stage in range(num_stages)
    ]
    return sum(scores) / num_stages


def _neck_channels(model: nn.Module) -> int:
    channels = getattr(getattr(model, 'neck', None), 'out_channels', None)
    if not isinstance(channels, int):
        raise ValueError('mimic needs student_channels / teacher_channels: '
                         'the model has no neck with an int out_channels.')
    return channels
