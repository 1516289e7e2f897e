"""Distillation of mmpretrain classifiers: KD / DKD / FunMatch and TST."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from mmtst.registry import MODELS
from .base_distiller import BaseDistiller, build_with_scope


@MODELS.register_module()
class ClassificationDistiller(BaseDistiller):
    """A frozen mmpretrain teacher distilled into an mmpretrain student.

    Without ``augmenter`` this is plain logit distillation with
    ``distill_loss`` (KD, DKD, or FunMatch's pure KL). With an augmenter it
    is TST ("Teaching What You Should Teach", Shao et al., IJCAI 2023):

    * student step (Sec. 3.4): x_aug = augmenter(x) without gradient; teacher
      and student run on the doubled batch [x_aug; x] and the loss is
      1/2 * L(aug half) + 1/2 * L(original half) (``tst_mode='double'``).
      ``tst_mode='replace'`` (beyond the paper) augments half of the batch
      in place, so a step costs about what a KD step costs.
    * augmenter step (Sec. 3.3, :meth:`augmenter_step`): teacher frozen,
      student in eval mode without gradients, only the augmenter's
      probability and magnitude logits move, along ``augmenter_loss``.

    Teacher and student may differ in architecture, normalisation and input
    size: the batch is kept as raw pixels (0..255) and each model's own
    data preprocessor normalises it; ``teacher_input_size`` /
    ``student_input_size`` resize the same view for each model (FunMatch's
    high-resolution teacher). A grey batch is repeated to three channels for
    a model whose preprocessor normalises three.

    Args:
        student: Student classifier config or config path.
        teacher: Teacher classifier config or config path.
        teacher_ckpt: Teacher weights.
        distill_loss: Loss on (student logits, teacher logits, labels).
            Defaults to ``KDLoss(tau=4, alpha=1)``.
        augmenter: A ``LearnableAugmentPolicy`` config, enabling TST.
            Defaults to None.
        augmenter_loss: The augmenter's objective. Defaults to
            ``TSTAugmentLoss(1, 1)``.
        tst_mode: ``'double'`` (paper) or ``'replace'``. Defaults to
            ``'double'``.
        aug_loss_weight: Weight of the augmented half; the original half
            gets ``1 - aug_loss_weight``. Defaults to 0.5 (the paper).
        teacher_input_size: (H, W) the teacher sees. Defaults to None (as
            loaded).
        student_input_size: (H, W) the student sees. Defaults to None.
        predict_model: ``'student'`` or ``'teacher'``: which model
            validation and test evaluate. Defaults to ``'student'``.
        views: A ``DistillationViews`` config: FunMatch's fixed-teacher,
            independent-noise, consistent and function-matching (mixup)
            set-ups. Defaults to None (both see the loader's images).
        record_teacher_predictions: In predict mode, also store the
            teacher's label as ``teacher_pred_label`` (for the
            ``TeacherStudentAgreement`` metric). Defaults to False.
        **kwargs: Passed to :class:`BaseDistiller` (``allow_random_teacher``,
            ``allow_unsafe_load``, ``data_preprocessor``, ``init_cfg``).
    """

    def __init__(self,
                 student: Union[dict, str],
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_loss: dict = dict(type='KDLoss', tau=4.0, alpha=1.0),
                 augmenter: Optional[dict] = None,
                 augmenter_loss: dict = dict(type='TSTAugmentLoss'),
                 tst_mode: str = 'double',
                 aug_loss_weight: float = 0.5,
                 teacher_input_size: Optional[Sequence[int]] = None,
                 student_input_size: Optional[Sequence[int]] = None,
                 predict_model: str = 'student',
                 views: Optional[dict] = None,
                 record_teacher_predictions: bool = False,
                 **kwargs) -> None:
        super().__init__(
            student=student,
            teacher=teacher,
            teacher_ckpt=teacher_ckpt,
            augmenter=augmenter,
            predict_model=predict_model,
            **kwargs)
        self._check_num_classes()
        self.distill_loss = build_with_scope(distill_loss, 'mmtst',
                                             'distill_loss')
        self.augmenter_loss = build_with_scope(augmenter_loss, 'mmtst',
                                               'augmenter_loss')
        if tst_mode not in ('double', 'replace'):
            raise ValueError("tst_mode must be 'double' (paper) or 'replace', "
                             f'got {tst_mode!r}')
        if not 0.0 <= aug_loss_weight <= 1.0:
            raise ValueError(
                f'aug_loss_weight must be in [0, 1], got {aug_loss_weight}')
        self.tst_mode = tst_mode
        self.aug_loss_weight = aug_loss_weight
        self.teacher_input_size = _size_or_none(teacher_input_size)
        self.student_input_size = _size_or_none(student_input_size)
        self.views = (
            build_with_scope(views, 'mmtst', 'views')
            if views is not None else None)
        if self.augmenter is not None and self.views is not None \
                and not self.views.consistent:
            raise ValueError(
                "TST's student step is consistent teaching (teacher and "
                "student see the same augmented sample): use views mode "
                f"'consistent' with an augmenter, not {self.views.mode!r}.")
        self.record_teacher_predictions = record_teacher_predictions
        self._teacher_cache = None

    def _check_num_classes(self) -> None:
        classes = [
            getattr(getattr(m, 'head', None), 'num_classes', None)
            for m in (self.teacher, self.student)
        ]
        if None not in classes and classes[0] != classes[1]:
            raise ValueError(
                f'The teacher predicts {classes[0]} classes but the student '
                f'{classes[1]}: logit distillation needs the same classes. '
                'Set both heads to the dataset\'s num_classes.')

    def augmenter_sees_reversed_channels(self) -> bool:
        """The augmenter sees the pixels as loaded: BGR for OpenCV-loaded
        colour images that the student's preprocessor turns to RGB."""
        return bool(getattr(self.student.data_preprocessor, 'to_rgb', False))

    # ------------------------------------------------------------ inputs
    def model_inputs(self, pixels: Tensor, which: str) -> Tensor:
        """Raw pixels (N, C, H, W in 0..255) -> what ``which`` model takes:
        resized to its input size, grey repeated to RGB if its
        preprocessor expects 3 channels, then normalised by it."""
        model = self.teacher if which == 'teacher' else self.student
        size = (
            self.teacher_input_size
            if which == 'teacher' else self.student_input_size)
        x = pixels
        if size is not None and tuple(x.shape[-2:]) != size:
            x = F.interpolate(
                x,
                size=size,
                mode='bilinear',
                align_corners=False,
                antialias=True)
        mean = getattr(model.data_preprocessor, 'mean', None)
        if mean is not None and x.size(1) == 1 and mean.numel() == 3:
            x = x.expand(-1, 3, -1, -1)
        return model.data_preprocessor(
            dict(inputs=x, data_samples=None), False)['inputs']

    def logits(self, pixels: Tensor, which: str) -> Tensor:
        model = self.teacher if which == 'teacher' else self.student
        return model(self.model_inputs(pixels, which), mode='tensor')

    def augment(self, pixels: Tensor) -> Tensor:
        """Apply the augmenter to raw pixels (it works on [0, 1])."""
        return self.augmenter(pixels / 255.0) * 255.0

    @staticmethod
    def labels(data_samples: List) -> Tensor:
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples])
        return torch.cat([s.gt_label for s in data_samples])

    # ------------------------------------------------------------ forward
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.logits(inputs, 'student')
        raise RuntimeError(f'Invalid mode "{mode}".')

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List] = None) -> List:
        """Predictions of ``predict_model``; with
        ``record_teacher_predictions`` also the teacher's labels."""
        model = (
            self.teacher if self.predict_model == 'teacher' else self.student)
        results = model(
            self.model_inputs(inputs, self.predict_model),
            data_samples,
            mode='predict')
        if self.record_teacher_predictions:
            teacher_labels = self.logits(inputs, 'teacher').argmax(1)
            for result, label in zip(results, teacher_labels):
                result.set_field(label.view(1), 'teacher_pred_label')
        return results

    def loss(self, inputs: Tensor, data_samples: List) -> Dict[str, Tensor]:
        """The student's loss: plain distillation on the configured views,
        or, with an augmenter, TST's stage-III loss."""
        target = self.labels(data_samples).to(inputs.device)
        student_px = teacher_px = inputs
        if self.views is not None:
            student_px, teacher_px = self.views.make(inputs)
        if self.augmenter is not None:
            return self._tst_loss(student_px, target)

        teacher_logits = None
        if self.views is not None and self.views.mode == 'fixed_teacher':
            teacher_logits = self._fixed_teacher_logits(
                teacher_px, data_samples)
        elif self.views is not None:
            shared = teacher_px is student_px
            views = [student_px] if shared else [student_px, teacher_px]
            views, (target, ) = self.views.mix(views, [target],
                                               self.num_classes)
            student_px, teacher_px = views[0], views[-1]
        student_logits = self.logits(student_px, 'student')
        if teacher_logits is None:
            with torch.no_grad():
                teacher_logits = self.logits(teacher_px, 'teacher')
        losses = self.distill_loss(student_logits,
                                   teacher_logits.to(student_logits), target)
        return {f'distill.{k}': v for k, v in losses.items()}

    @property
    def num_classes(self) -> int:
        return self.student.head.num_classes

    def _fixed_teacher_logits(self, teacher_px: Tensor,
                              data_samples: List) -> Tensor:
        """The teacher's logits on the fixed view, from the disk cache."""
        from mmtst.models.views import TeacherLogitCache, teacher_fingerprint
        if self._teacher_cache is None:
            view = f'{self.views.description()}|{self.teacher_input_size}'
            self._teacher_cache = TeacherLogitCache(
                self.views.cache_dir,
                teacher_fingerprint(self.teacher.state_dict(), view),
                self.num_classes)
        try:
            indices = torch.tensor(
                [s.metainfo['sample_idx'] for s in data_samples])
        except KeyError:
            raise ValueError(
                'the fixed teacher caches logits by dataset '
                'index: keep `sample_idx` in PackInputs meta_keys') from None
        with torch.no_grad():
            return self._teacher_cache.get_or_compute(
                indices, lambda miss: self.logits(teacher_px[miss], 'teacher'))

    def _tst_loss(self, inputs: Tensor, target: Tensor) -> Dict[str, Tensor]:
        """TST's student step on the doubled (or half-replaced) batch."""
        n = inputs.size(0)
        with torch.no_grad():
            if self.tst_mode == 'double':
                augmented, original, split = self.augment(inputs), inputs, n
            else:
                split = n // 2
                augmented, original = self.augment(
                    inputs[:split]), inputs[split:]
            aug_target = target[:split]
            orig_target = target if self.tst_mode == 'double' else target[
                split:]
            if self.views is not None:
                # FunMatch's mixup on top of TST's views: one coefficient
                # and pairing for both halves
                (augmented, original), (aug_target, orig_target) = \
                    self.views.mix([augmented, original],
                                   [aug_target, orig_target], self.num_classes)
        pixels = torch.cat([augmented, original])
        student_logits = self.logits(pixels, 'student')
        with torch.no_grad():
            teacher_logits = self.logits(pixels, 'teacher')
        aug = self.distill_loss(student_logits[:split], teacher_logits[:split],
                                aug_target)
        orig = self.distill_loss(student_logits[split:],
                                 teacher_logits[split:], orig_target)
        w = self.aug_loss_weight
        losses = {f'distill.{k}': w * aug[k] + (1 - w) * orig[k] for k in aug}
        if aug_target.dim() == 1:
            with torch.no_grad():
                losses['tst.teacher_acc_aug'] = (teacher_logits[:split].argmax(
                    1) == aug_target).float().mean()
                losses['tst.student_acc_aug'] = (student_logits[:split].argmax(
                    1) == aug_target).float().mean()
        return losses

    # ------------------------------------------------------------ TST stage II
    def augmenter_losses(
            self, inputs: Tensor,
            data_samples: List) -> Tuple[Dict[str, Tensor], Dict[str, float]]:
        """The augmenter's objective (``augmenter_loss``, Sec. 3.3) on the
        augmented batch, and how confident teacher and student are in the
        true class there (logged)."""
        if self.views is not None:
            inputs = self.views.transform(inputs)
        target = self.labels(data_samples).to(inputs.device)
        if target.dim() != 1:
            raise ValueError('The TST augmenter objective needs hard labels; '
                             'disable mixup/cutmix batch augments.')
        augmented = self.augment(inputs)
        student_logits = self.logits(augmented, 'student')
        teacher_logits = self.logits(augmented, 'teacher')
        losses = self.augmenter_loss(student_logits, teacher_logits, target)
        with torch.no_grad():
            diagnostics = {
                'augmenter.teacher_conf': _confidence(teacher_logits, target),
                'augmenter.student_conf': _confidence(student_logits, target),
            }
        return {f'augmenter.{k}': v for k, v in losses.items()}, diagnostics


def _confidence(logits: Tensor, target: Tensor) -> float:
    """Mean softmax probability of the true class."""
    return logits.float().softmax(1).gather(1, target[:, None]).mean().item()


def _size_or_none(size: Optional[Sequence[int]]) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if isinstance(size, int):
        return (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f'An input size is (H, W) or an int, got {size}')
    return size
