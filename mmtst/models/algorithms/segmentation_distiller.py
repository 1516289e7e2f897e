"""Distillation of mmseg segmenters with TST's learned augmenter."""
import contextlib
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmtst.models.task_adapters.label_maps import warp_seg_data_samples
from mmtst.models.utils import record_output
from mmtst.registry import MODELS
from .base_distiller import build_with_scope
from .geometric_task_distiller import GeometricTaskDistiller


@MODELS.register_module()
class SegmentationDistiller(GeometricTaskDistiller):
    """A frozen mmseg ``EncoderDecoder`` teacher distilled into an mmseg
    student, with TST.

    "Teaching What You Should Teach: A Data-Based Distillation Method"
    (Shao et al., IJCAI 2023), segmentation setting (Cityscapes:
    PSPNet-R101 -> PSPNet-R18):

    * student step (:meth:`loss`): with an augmenter, ``x_aug`` and its
      per-sample warp come from
      :meth:`LearnableAugmentPolicy.augment_with_geometry` without
      gradient; the batch is doubled to ``[x_aug; x]`` with
      ``SegDataSample`` copies whose ``gt_sem_seg`` follows the warp
      (nearest neighbour; pixels from outside the image -> ignore index).
      The loss is the student's task loss on the doubled batch
      (``student.*``) plus (``distill.*``) ``distill_loss`` -- the paper's
      pixel-wise KL (tau 1) -- between the decode heads' logits (weight
      ``decode_weight``, paper 1.5) and the auxiliary heads' logits
      (``aux_weight``, paper 0.5). ``feature_distill`` optionally adds a
      loss on the backbone feature the decode head reads.
    * augmenter step (:meth:`augmenter_step`): the teacher's normal task
      loss + the student's pixel CE in inverted form ``-log(1 - p_gt +
      1e-8)`` (ignore index respected), student in eval mode without
      parameter gradients; only the augmenter moves. Clip its gradient
      norm at 20 with ``optim_wrapper.augmenter.clip_grad``. With
      ``inverted_reduction='authors'`` (default) the inverted CE is
      averaged as in the authors' mmseg code, over the (N, C, H, W)
      one-hot map (the pixel mean / C); ``'task'`` takes mmseg's pixel
      mean.

    Heterogeneous pairs: student logits of another spatial size are
    resized (bilinear) to the teacher's; feature maps of other channel
    counts go through a 1x1 conv adapter (trained with the student).
    Heads with different ``num_classes`` cannot be compared by logits and
    raise at construction.

    Teacher and student get the same raw pixels; each model's own data
    preprocessor settings (mean, std, BGR->RGB) normalise them.

    Args:
        student: Student ``EncoderDecoder`` config, or a path such as
            ``'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'``.
        teacher: Teacher config or path.
        teacher_ckpt: Teacher weights.
        augmenter: ``LearnableAugmentPolicy`` config (enables TST).
            Defaults to None (plain logit distillation).
        distill_loss: Logit loss, called as ``loss(student, teacher)``.
            Defaults to ``mmtst.PixelWiseKL`` with tau 1 (paper); e.g.
            ``mmtst.ChannelWiseDivergence`` (tau 4) instead.
        decode_weight: Weight of the decode-head term. Defaults to 1.5.
        aux_weight: Weight of the auxiliary-head term (0 turns it off).
            Defaults to 0.5.
        feature_distill: Optional loss on the backbone feature at the
            decode head's ``in_index``: ``dict(loss=dict(type=...),
            loss_weight=1.0, student_channels=None, teacher_channels=None)``
            (loss defaults to MSE; channels to the decode heads'
            ``in_channels``). Defaults to None (off).
        teacher_loss_weight: Weight of the teacher's loss in the augmenter
            objective. Defaults to 1.0.
        student_loss_weight: Weight of the student's inverted loss.
            Defaults to 1.0.
        inverted_reduction: ``'authors'`` (default) or ``'task'``, see
            above and :class:`GeometricTaskDistiller`; passed through
            ``**kwargs``.
        ignore_index: Label of warped-in pixels. Defaults to 255.
        predict_model: ``'student'`` or ``'teacher'``. Defaults to
            ``'student'``.
        **kwargs: Passed to :class:`BaseDistiller`.
    """

    RAW_PREPROCESSOR = 'SegDataPreProcessor'

    def __init__(self,
                 student: Union[dict, str],
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 augmenter: Optional[dict] = None,
                 distill_loss: Optional[dict] = None,
                 decode_weight: float = 1.5,
                 aux_weight: float = 0.5,
                 feature_distill: Optional[dict] = None,
                 teacher_loss_weight: float = 1.0,
                 student_loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 predict_model: str = 'student',
                 model_scope: str = 'mmseg',
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
        for name in ('student', 'teacher'):
            if not hasattr(getattr(self, name), 'decode_head'):
                raise ValueError(f'The {name} must be an mmseg segmenter with '
                                 'a decode_head (e.g. EncoderDecoder).')
        _check_num_classes(self.student.decode_head, self.teacher.decode_head,
                           'decode heads')
        self.aux_weight = float(aux_weight)
        if self.aux_weight:
            heads = [
                getattr(m, 'auxiliary_head', None)
                for m in (self.student, self.teacher)
            ]
            if any(h is None or isinstance(h, nn.ModuleList) for h in heads):
                raise ValueError(
                    'aux_weight > 0 needs one auxiliary_head in both teacher '
                    'and student; set aux_weight=0 for pairs without.')
            _check_num_classes(*heads, 'auxiliary heads')
        self.decode_weight = float(decode_weight)
        self.distill_loss = build_with_scope(
            distill_loss or dict(type='PixelWiseKL', tau=1.0), 'mmtst',
            'distill_loss')
        self.ignore_index = ignore_index
        self.feature_loss = None
        self.feature_adapter = None
        if feature_distill is not None:
            self._build_feature_distill(dict(feature_distill))

    def _build_feature_distill(self, cfg: dict) -> None:
        unknown = set(cfg) - {
            'loss', 'loss_weight', 'student_channels', 'teacher_channels'
        }
        if unknown:
            raise ValueError('feature_distill takes loss, loss_weight, '
                             'student_channels, teacher_channels; got '
                             f'unknown {sorted(unknown)}')
        s_ch = cfg.get('student_channels') or _head_in_channels(self.student)
        t_ch = cfg.get('teacher_channels') or _head_in_channels(self.teacher)
        # a 1x1 conv maps the student's channels to the teacher's only
        # where they differ (the usual FitNets-style adapter)
        self.feature_adapter = (
            nn.Conv2d(s_ch, t_ch, 1) if s_ch != t_ch else nn.Identity())
        self.feature_loss = (
            build_with_scope(cfg['loss'], 'mmtst', 'feature loss')
            if cfg.get('loss') else None)
        self.feature_weight = float(cfg.get('loss_weight', 1.0))
        self.feature_index = self.student.decode_head.in_index
        self.teacher_feature_index = self.teacher.decode_head.in_index
        if not isinstance(self.feature_index, int) or not isinstance(
                self.teacher_feature_index, int):
            raise ValueError('feature_distill needs decode heads that read '
                             'one backbone level (an int in_index).')

    def warp_samples(self, data_samples: List, matrices: Tensor) -> List:
        """Label maps follow the warp; pixels from outside get the ignore
        index."""
        return warp_seg_data_samples(data_samples, matrices, self.ignore_index)

    def loss(self, inputs: Tensor, data_samples: List) -> Dict[str, Tensor]:
        """The student's loss: task loss + distillation; with an augmenter
        on the doubled batch ``[x_aug; x]`` (TST stage III)."""
        if self.augmenter is not None:
            inputs, data_samples = self.doubled_batch(inputs, data_samples)
        # one student forward gives the task loss; the recorders pick up
        # the features and logits the distillation needs on the way
        with contextlib.ExitStack() as stack:
            feats = stack.enter_context(
                record_output(self.student, 'extract_feat'))
            decode = stack.enter_context(
                record_output(self.student.decode_head, 'forward'))
            aux = (
                stack.enter_context(
                    record_output(self.student.auxiliary_head, 'forward'))
                if self.aux_weight else None)
            task = self.student.loss(
                self.model_inputs(inputs, 'student'), data_samples)
        losses = {f'student.{k}': v for k, v in task.items()}
        with torch.no_grad():
            t_feats = self.teacher.extract_feat(
                self.model_inputs(inputs, 'teacher'))
            t_decode = self.teacher.decode_head.forward(t_feats)
            t_aux = (
                self.teacher.auxiliary_head.forward(t_feats)
                if self.aux_weight else None)
        losses['distill.loss_decode_kd'] = self.decode_weight * \
            self._logit_loss(decode[-1][1], t_decode)
        if self.aux_weight:
            losses['distill.loss_aux_kd'] = self.aux_weight * \
                self._logit_loss(aux[-1][1], t_aux)
        if self.feature_adapter is not None:
            losses['distill.loss_feature'] = self._feature(
                feats[-1][1], t_feats)
        return losses

    # ------------------------------------------------------------ distil
    def _logit_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        if student.size(1) != teacher.size(1):
            raise ValueError(
                f'Teacher logits have {teacher.size(1)} classes, the '
                f"student's {student.size(1)}: same num_classes needed.")
        return self.distill_loss(_resize_like(student, teacher), teacher)

    def _feature(self, student_feats, teacher_feats) -> Tensor:
        s = self.feature_adapter(student_feats[self.feature_index])
        t = teacher_feats[self.teacher_feature_index]
        s = _resize_like(s, t)
        if self.feature_loss is None:
            loss = F.mse_loss(s, t.detach())
        else:
            loss = self.feature_loss(s, t.detach())
        return self.feature_weight * loss


def _resize_like(student: Tensor, teacher: Tensor) -> Tensor:
    """Bilinearly resize a student map to the teacher's spatial size
    (heterogeneous output strides)."""
    if student.shape[2:] == teacher.shape[2:]:
        return student
    return F.interpolate(
        student, size=teacher.shape[2:], mode='bilinear', align_corners=False)


def _check_num_classes(student_head, teacher_head, what: str) -> None:
    s = getattr(student_head, 'out_channels', None)
    t = getattr(teacher_head, 'out_channels', None)
    if s is not None and t is not None and s != t:
        raise ValueError(
            f'Teacher and student {what} predict {t} and {s} channels: the '
            'logit distillation needs the same num_classes.')


def _head_in_channels(model: nn.Module) -> int:
    channels = getattr(model.decode_head, 'in_channels', None)
    if not isinstance(channels, int):
        raise ValueError('feature_distill needs student_channels / '
                         'teacher_channels: the decode head reads several '
                         'levels.')
    return channels
