"""What every mmtst distiller shares: a frozen teacher and a trainable
student of the same OpenMMLab toolbox, plus an optional TST augmenter with
its update step (stage II), whose objective each task supplies."""
import contextlib
import copy
import difflib
import re
from typing import Dict, Iterator, List, Optional, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import all_reduce_params, get_world_size
from mmengine.logging import print_log
from mmengine.model import BaseModel, ImgDataPreprocessor
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmtst.registry import MODELS
from mmtst.utils import extract_state_dict, load_checkpoint_file
from ..utils import AUGMENTER, STUDENT, optim_part


def build_with_scope(cfg: Union[dict, ConfigDict], scope: str,
                     what: str) -> nn.Module:
    """Build ``cfg`` in the registry of ``scope`` (e.g. ``mmpretrain``) and
    turn an unknown type into an error that says where it was looked up."""
    cfg = ConfigDict(copy.deepcopy(cfg))
    cfg.setdefault('_scope_', scope)
    try:
        return MODELS.build(cfg)
    except KeyError as err:
        # mmengine: "<type> is not in the <scope>::model registry. ..." --
        # the top-level type or one nested in the config (a backbone, a loss)
        unknown = re.search(r'(\S+) is not in the (\w+)::model registry',
                            str(err.args[0]) if err.args else '')
        if unknown is None:
            raise
        type_name, where = unknown.groups()
        if '.' in type_name:  # a prefixed type is looked up in its scope
            where = type_name.split('.')[0]
        hint = did_you_mean(type_name, cfg['_scope_'])
        raise KeyError(
            f'Cannot build the {what}: type {type_name!r} is not registered '
            f'in the {where!r} scope. ' +
            (f'Did you mean {hint}? ' if hint else '') +
            'Types of another package need its scope prefix, e.g. '
            '"mmtst.KDLoss" from an mmpretrain config.') from None


def did_you_mean(type_name: str, scope: str) -> str:
    """The registered model types closest to ``type_name`` (as they would
    be written in a config of ``scope``: other packages' types with their
    prefix), quoted and joined with "or"; empty when nothing is close."""
    from mmengine.registry import MODELS as ROOT_MODELS
    name = type_name.split('.')[-1]
    spelled = {}  # short name -> how a config of `scope` writes it
    registries = [(scope, ROOT_MODELS.children.get(scope))] + [
        (other, registry)
        for other, registry in ROOT_MODELS.children.items() if other != scope
    ]
    for owner, registry in registries:
        # mmtst's lazily registered parts count before their first use
        names = list(getattr(registry, 'module_dict', {})) + list(
            getattr(registry, 'lazy_names', list)())
        for key in names:
            spelled.setdefault(key,
                               key if owner == scope else f'{owner}.{key}')
    close = difflib.get_close_matches(name, sorted(spelled), n=3, cutoff=0.8)
    return ' or '.join(repr(spelled[key]) for key in close)


def resolve_model_cfg(model: Union[dict, ConfigDict, str, None],
                      what: str) -> ConfigDict:
    """A model dict given inline, or the ``model`` of a config file given by
    path (``'mmpretrain::resnet/resnet18_8xb32_in1k.py'`` works), as a
    ``ConfigDict``: OpenMMLab models read nested settings by attribute
    (mmdet's ``train_cfg.rpn``)."""
    if model is None:
        raise ValueError(f'The distiller needs a {what} model config.')
    if isinstance(model, str):
        if '::' in model:  # e.g. 'mmpretrain::resnet/resnet50_8xb32_in1k.py'
            from mmengine.hub import get_config
            cfg = get_config(model)
        else:
            cfg = Config.fromfile(model)
        if 'model' not in cfg:
            raise ValueError(f'{what} config {model!r} has no `model` field.')
        model_cfg = cfg.model.to_dict()
        # OpenMMLab configs often keep the normalisation at the top level,
        # from where their Runner hands it to the model
        if cfg.get('data_preprocessor') is not None:
            model_cfg.setdefault('data_preprocessor',
                                 cfg.data_preprocessor.to_dict())
        return ConfigDict(model_cfg)
    return ConfigDict(copy.deepcopy(model))


def update_augmenter(optim_wrapper, loss: torch.Tensor,
                     augmenter: nn.Module) -> None:
    """``optim_wrapper.update_params(loss)`` with the augmenter's gradients
    averaged over all processes first.

    The augmenter step bypasses the DDP wrapper (it is not the model's
    forward), so nothing else would synchronise these gradients; averaging
    them keeps the augmenter identical on every rank. (A parameter without
    a gradient on one rank gets zeros there, so that every rank reduces
    the same tensors.)
    """
    loss = optim_wrapper.scale_loss(loss)
    optim_wrapper.backward(loss)
    if get_world_size() > 1:
        params = [p for p in augmenter.parameters() if p.requires_grad]
        for param in params:
            if param.grad is None:
                param.grad = torch.zeros_like(param)
        all_reduce_params([param.grad for param in params], op='mean')
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()


class BaseDistiller(BaseModel):
    """A frozen teacher and a trainable student, both built in the registry
    of the toolbox they come from (``model_scope``), and TST's augmenter
    when ``augmenter`` is given ("Teaching What You Should Teach", Shao et
    al., IJCAI 2023).

    The augmenter's update (stage II, :meth:`augmenter_step`) is the same
    for every task: student frozen, teacher frozen, one step of the
    augmenter's optimiser on an objective each task defines in
    :meth:`augmenter_losses`. The student's step (stage III) is the task's
    ``loss``.

    The teacher is loaded from ``teacher_ckpt`` as weights only, has no
    gradients and stays in eval mode (its norm layers too) whatever
    ``train()`` is called with. Checkpoints of the distiller hold both
    models (``teacher.`` / ``student.`` prefixes); export the student with
    ``tools/model_converters/export_student.py``.

    Args:
        student: Student model config (dict) or a config path.
        teacher: Teacher model config (dict) or a config path such as
            ``'mmpretrain::resnet/resnet34_8xb32_in1k.py'``.
        teacher_ckpt: Path of the teacher's weights. Required unless
            ``allow_random_teacher`` is set.
        allow_random_teacher: Keep a randomly initialised teacher (only for
            smoke tests and benchmarks). Defaults to False.
        allow_unsafe_load: Load a teacher checkpoint that needs arbitrary
            unpickling (trusted files only). Defaults to False.
        augmenter: A ``LearnableAugmentPolicy`` config: enables TST.
            Defaults to None.
        predict_model: ``'student'`` or ``'teacher'``: which model
            validation and test evaluate. Defaults to ``'student'``.
        model_scope: Registry scope of teacher and student. Defaults to
            ``'mmpretrain'``.
        data_preprocessor: Stacks the batch without normalising it; the
            teacher's and the student's own preprocessors normalise their
            inputs. Defaults to mmengine's ``ImgDataPreprocessor``.
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 student: Union[dict, str],
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 allow_random_teacher: bool = False,
                 allow_unsafe_load: bool = False,
                 augmenter: Optional[dict] = None,
                 predict_model: str = 'student',
                 model_scope: str = 'mmpretrain',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = ImgDataPreprocessor()
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.model_scope = model_scope
        self.student = build_with_scope(
            resolve_model_cfg(student, 'student'), model_scope, 'student')
        self.teacher = build_with_scope(
            resolve_model_cfg(teacher, 'teacher'), model_scope, 'teacher')
        if teacher_ckpt:
            self.load_teacher(teacher_ckpt, allow_unsafe_load)
        elif not allow_random_teacher:
            raise ValueError(
                'The distiller has no `teacher_ckpt`: distilling from an '
                'untrained teacher teaches nothing. Set model.teacher_ckpt to '
                "the teacher's checkpoint (e.g. --cfg-options "
                'model.teacher_ckpt=work_dirs/teacher/epoch_10.pth), or '
                'model.allow_random_teacher=True for a smoke test.')
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.augmenter = self.build_augmenter(augmenter)
        self.predict_model = predict_model

    def load_teacher(self, path: str, allow_unsafe: bool = False) -> None:
        """Load the teacher's weights, refusing keys that do not match."""
        checkpoint = load_checkpoint_file(
            path, allow_unsafe=allow_unsafe, what='teacher_ckpt')
        state = extract_state_dict(checkpoint)
        if state and all(k.startswith('teacher.') for k in state):
            state = extract_state_dict(state, prefix='teacher.')
        expected = self.teacher.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        wrong_shape = sorted(
            k for k in set(expected) & set(state)
            if tuple(expected[k].shape) != tuple(state[k].shape))
        if missing or unexpected or wrong_shape:

            def show(keys: List[str]) -> str:
                more = f' ... (+{len(keys) - 8} more)' if len(keys) > 8 else ''
                return ', '.join(keys[:8]) + more

            raise ValueError(
                f'teacher_ckpt {path!r} does not match the teacher config:\n'
                f'  missing keys ({len(missing)}): {show(missing)}\n'
                f'  unexpected keys ({len(unexpected)}): {show(unexpected)}\n'
                f'  shape mismatches ({len(wrong_shape)}): ' + show([
                    f'{k} {tuple(state[k].shape)} vs '
                    f'{tuple(expected[k].shape)}' for k in wrong_shape
                ]) + '\nIs it the checkpoint of this teacher architecture '
                '(same backbone, same num_classes)?')
        self.teacher.load_state_dict(state)
        count = sum(p.numel() for p in self.teacher.parameters())
        print_log(
            f'Teacher loaded from {path} ({count / 1e6:.2f} M '
            'parameters).',
            logger='current')
        # mmengine's Runner calls init_weights() after building the model;
        # marking the teacher initialised keeps the loaded weights.
        self.teacher._is_init = True

    def build_augmenter(self, cfg: Optional[dict]) -> Optional[nn.Module]:
        """Build the TST augmenter (None without one) and give it the
        dataset's pixel mean from the student's data preprocessor: the
        augmenter works on [0, 1] pixels, and its warps and Cutout fill
        with that mean, 0 in the normalised units the authors' augmenter
        works in (``LearnableAugmentPolicy(fill='mean')``). The mean is
        reversed where :meth:`augmenter_sees_reversed_channels` says so."""
        if cfg is None:
            return None
        augmenter = build_with_scope(cfg, 'mmtst', 'augmenter')
        mean = getattr(self.student.data_preprocessor, 'mean', None)
        if mean is not None and hasattr(augmenter, 'set_dataset_mean'):
            mean = mean.reshape(-1)
            augmenter.set_dataset_mean(
                mean.flip(0) if self.augmenter_sees_reversed_channels(
                ) else mean)
        return augmenter

    def augmenter_sees_reversed_channels(self) -> bool:
        """Whether the augmenter sees the channels in the reverse order of
        the student preprocessor's mean (BGR images as loaded, a mean given
        for RGB). Defaults to False: the detection and segmentation
        distillers flip the batch to the mean's order for the augmenter."""
        return False

    @property
    def predict_model(self) -> str:
        """Which model validation and test evaluate."""
        return getattr(self, '_predict_model', 'student')

    @predict_model.setter
    def predict_model(self, value: str) -> None:
        if value not in ('student', 'teacher'):
            raise ValueError(
                f"predict_model must be 'student' or 'teacher', got {value!r}")
        self._predict_model = value

    # ------------------------------------------------------------ stage II
    def augmenter_step(
        self, data: dict, optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
    ) -> Dict[str, torch.Tensor]:
        """One update of the augmenter (TST stage II, Sec. 3.3).

        The student is switched to eval mode with its parameters frozen for
        the step (gradients flow through it to the input only); the teacher
        is always frozen; only the augmenter's parameters are updated, by
        the ``augmenter`` optimiser, along the task's
        :meth:`augmenter_losses`.
        """
        if self.augmenter is None:
            raise RuntimeError('augmenter_step() needs model.augmenter set.')
        optim_wrapper = optim_part(optim_wrapper, AUGMENTER)
        data = self.data_preprocessor(data, True)
        with self.frozen_student():
            with optim_wrapper.optim_context(self.augmenter):
                losses, diagnostics = self.augmenter_losses(
                    data['inputs'], data['data_samples'])
            loss, log_vars = self.parse_losses(losses)
            update_augmenter(optim_wrapper, loss, self.augmenter)
        log_vars.update(diagnostics)
        return log_vars

    def augmenter_losses(
        self, inputs: torch.Tensor, data_samples: List
    ) -> Tuple[Dict[str, torch.Tensor], Dict[str, float]]:
        """The task's augmenter objective on a preprocessed batch: the loss
        terms to minimise (``augmenter.*`` names; mmengine sums those with
        ``loss`` in the name) and plain values to log beside them."""
        raise NotImplementedError(
            f'{type(self).__name__} has no TST augmenter objective.')

    def train_step(
        self, data: dict, optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
    ) -> Dict[str, torch.Tensor]:
        """A student step; with TST's two optimisers only ``architecture``
        (the student's) is stepped here."""
        return super().train_step(data, optim_part(optim_wrapper, STUDENT))

    @contextlib.contextmanager
    def frozen_student(self) -> Iterator[None]:
        """The student in eval mode without parameter gradients (TST stage
        II: gradients flow through it to the augmented input only), then
        restored as it was."""
        was_training = self.student.training
        grad_flags = [p.requires_grad for p in self.student.parameters()]
        self.student.eval()
        self.student.requires_grad_(False)
        try:
            yield
        finally:
            for param, flag in zip(self.student.parameters(), grad_flags):
                param.requires_grad_(flag)
            self.student.train(was_training)

    def train(self, mode: bool = True) -> 'BaseDistiller':
        """Switch the student (and augmenter); the teacher stays in eval."""
        super().train(mode)
        self.teacher.eval()
        return self

    def student_state_dict(self) -> Dict[str, torch.Tensor]:
        """The student's weights without the ``student.`` prefix."""
        return self.student.state_dict()
