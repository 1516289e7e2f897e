"""TST's learnable augmentation module: the learned policy applied to images.

"Teaching What You Should Teach: A Data-Based Distillation Method" (Shao et
al., IJCAI 2023, Sec. 3.2). :class:`LearnableAugmentPolicy` is the augmenter
the distillers build. Its parts live in their own modules:

* what it learns and draws per batch (p and m per op, the picked ops, their
  gates and signs): :mod:`.policy_parameters`;
* its options' choices and checks: :mod:`.policy_options`;
* the ops: :mod:`.analytic_ops` (exact) and :mod:`.neural_ops` (the fitted
  op nets); the affine math of the geometric ops: :mod:`.affine`.

This module applies the drawn ops to a batch: backend, fill colour, input
units and the composition of the gated ops (summed residuals, or one warp
per sample for structured tasks).
"""
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmtst.registry import MODELS
from . import affine, analytic_ops
from .affine import identity_affine, theta_to_pixel
# The op nets mmtst fitted on Fashion-MNIST (tools/fit_op_nets.py).
from .op_net_checkpoint import SHIPPED_OP_NETS
from .op_specs import ALL_OPS, OP_SPECS
from .policy_options import (AUTHORS_APPLY_PROB, BACKENDS, COMPOSITIONS,
                             CUTOUT_CENTRES, FILLS, GATE_GRANULARITIES,
                             GATE_INPUTS, MAGNITUDE_SIGNS, NEUTRAL_GREY,
                             channel_tensor, check_policy_options)
from .policy_parameters import PolicyParameters

# the option choices are re-exported from their old home
__all__ = [
    'LearnableAugmentPolicy', 'BACKENDS', 'COMPOSITIONS', 'GATE_INPUTS',
    'GATE_GRANULARITIES', 'MAGNITUDE_SIGNS', 'FILLS', 'CUTOUT_CENTRES',
    'AUTHORS_APPLY_PROB', 'NEUTRAL_GREY'
]


@MODELS.register_module()
class LearnableAugmentPolicy(PolicyParameters):
    """The augmentation module of TST: learnable probabilities and
    magnitudes of AutoAugment's operations, differentiable end to end.

    "Teaching What You Should Teach: A Data-Based Distillation Method"
    (Shao et al., IJCAI 2023, Sec. 3.2). Each op has a probability logit
    (p = sigmoid) and, if it has a magnitude, a magnitude logit
    (m = sigmoid), all initialised to 0 (p = m = 0.5). Every forward picks
    ``solve_number`` ops at random; op i is applied through a soft gate
    g_i ~ RelaxedBernoulli(temperature) so that gradients reach p, and its
    magnitude enters a differentiable op so that gradients reach m.

    Paper-faithful defaults, with the departures as named options:

    * ``gate_input='probability'``: like the authors' code, the relaxed
      Bernoulli is given p itself as its *logit* (so an op fires with
      probability sigmoid(p) in (0.5, 0.73)); ``'logit'`` gives it the
      logit of p, the textbook form (fires with probability p).
    * ``composition='residual'``: the picked ops all see the input and
      their residuals are summed, x + sum_i g_i (T_i(x) - x);
      ``'sequential'`` chains them, x <- x + g_i (T_i(x) - x).
    * ``backend='neural'``: the "priori bias" ops, tiny frozen nets fitted
      to imitate the real ops (``op_net_ckpt``); ``'analytic'`` (beyond
      the paper) uses exact differentiable ops with straight-through
      gradients where an op is not differentiable.
    * ``gate_granularity='batch'``: as in the authors' code
      (``Mulit_Augmentation.forward`` draws ``relaxed_bernoulli(p)`` once
      for the 14-vector), ONE gate per picked op, shared by the whole batch;
      ``'sample'`` draws one per sample.
    * ``magnitude_sign='positive'``: the authors feed m in (0, 1) to the ops
      as is, so enhance ops only brighten / saturate / add contrast /
      sharpen and each geometric op moves one way (their op nets were
      fitted with random signs, but are applied with positive ones);
      ``'random'`` gives every sample of a signed op a random sign, as
      AutoAugment does.
    * ``neural_apply_prob=0.98``: the share of samples a neural op net
      transforms, the level of the authors' published nets (learned apply
      logits 3.3-5.7, i.e. 96.5-99.7%). 0.5 (mmtst's earlier default) leaves
      ~14% of the "augmented" half equal to the originals.
    * ``fill='mean'``: warps and Cutout fill with the dataset mean, i.e. 0
      in the normalised units the authors' augmenter works in; ``'black'``
      fills with 0 pixels. The mean is ``mean`` for normalised input, else
      what :meth:`set_dataset_mean` was given (the distillers pass their
      student's preprocessor mean), else mid-grey.
    * ``clamp=False``: the output is not clamped to the pixel range (the
      authors' code does not clamp: about 5% of pixels leave [0, 1]);
      ``True`` clamps it.
    * ``cutout_centre='batch'``: one Cutout square position for the whole
      batch (the authors'); ``'sample'``: one per sample.
    * ``probability_logit_bound=None``: p's logit is free, as in the paper;
      a number B (beyond the paper) keeps it in [-B, B] by projecting it
      back before every draw, so p stays in [sigmoid(-B), sigmoid(B)] and
      sigmoid's gradient never vanishes: an op that early noisy steps
      switched fully on or off can still be moved back (see
      :meth:`~.policy_parameters.PolicyParameters.project_probability_logits_`).

    p and m are shared by the batch; the neural nets' apply-or-not (and,
    with the options above, gates, signs and Cutout squares) are drawn per
    sample. In eval mode gates are hard Bernoulli samples and all
    randomness comes from ``eval_seed``, so the same input always gives the
    same output.

    Args:
        ops: Op names (default: all 14 of the paper).
        backend: ``'neural'`` or ``'analytic'``. Defaults to ``'neural'``.
        solve_number: Ops picked per batch (K). Defaults to 4.
        temperature: Relaxed-Bernoulli temperature. Defaults to 0.05.
        gate_input: ``'probability'`` or ``'logit'``. Defaults to
            ``'probability'``.
        composition: ``'residual'`` or ``'sequential'``. Defaults to
            ``'residual'``.
        gate_granularity: ``'batch'`` or ``'sample'``. Defaults to
            ``'batch'``.
        magnitude_sign: ``'positive'`` or ``'random'``. Defaults to
            ``'positive'``.
        cutout_size: Cutout side in pixels (paper: 32 on CIFAR, 224 on
            ImageNet, 128 on COCO). Defaults to 16.
        cutout_centre: ``'batch'`` or ``'sample'``. Defaults to
            ``'batch'``.
        fill: ``'mean'`` or ``'black'``. Defaults to ``'mean'``.
        clamp: Clamp the output to the pixel range. Defaults to False.
        op_net_ckpt: Fitted op nets for the neural backend. Defaults to
            the nets mmtst ships (fitted on Fashion-MNIST).
        neural_apply_prob: The neural nets' per-sample apply gate.
            Defaults to 0.98 (the authors' published nets).
        probability_logit_bound: None, or B > 0 to keep p's logit in
            [-B, B]. Defaults to None.
        mean: Per-channel mean of the input's normalisation, if the input
            is normalised (same units as ``std``, e.g. 0..255). Defaults to
            None: the input is in [0, 1].
        std: Per-channel std of the normalisation. Defaults to None.
        eval_seed: Seed of eval-mode randomness. Defaults to 0.
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 ops: Sequence[str] = ALL_OPS,
                 backend: str = 'neural',
                 solve_number: int = 4,
                 temperature: float = 0.05,
                 gate_input: str = 'probability',
                 composition: str = 'residual',
                 gate_granularity: str = 'batch',
                 magnitude_sign: str = 'positive',
                 cutout_size: int = 16,
                 cutout_centre: str = 'batch',
                 fill: str = 'mean',
                 clamp: bool = False,
                 op_net_ckpt: Optional[str] = SHIPPED_OP_NETS,
                 neural_apply_prob: float = AUTHORS_APPLY_PROB,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 eval_seed: int = 0,
                 probability_logit_bound: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        ops = check_policy_options(ops, backend, solve_number, temperature,
                                   gate_input, composition, gate_granularity,
                                   magnitude_sign, cutout_size, cutout_centre,
                                   fill, neural_apply_prob, mean, std,
                                   probability_logit_bound)
        super().__init__(
            ops,
            solve_number,
            temperature,
            gate_input,
            gate_granularity,
            magnitude_sign,
            probability_logit_bound=probability_logit_bound,
            init_cfg=init_cfg)
        self.backend = backend
        self.composition = composition
        self.cutout_size = cutout_size
        self.cutout_centre = cutout_centre
        self.fill = fill
        self.clamp = clamp
        self.eval_seed = eval_seed

        self.op_nets = None
        if backend == 'neural' and self.magnitude_ops:
            from .neural_ops import NeuralOpBank
            self.op_nets = NeuralOpBank(
                self.magnitude_ops, apply_prob=neural_apply_prob)
            self.op_nets.load_fitted(op_net_ckpt)
            self.op_nets.freeze()
        if mean is not None:
            self.register_buffer(
                'mean', channel_tensor(mean), persistent=False)
            self.register_buffer('std', channel_tensor(std), persistent=False)
        else:
            self.mean = self.std = None
        # [0, 1] units; for fill='mean' on inputs that are not normalised
        self.register_buffer('dataset_mean', None, persistent=False)

    def set_dataset_mean(self, mean: Union[Sequence[float], Tensor]) -> None:
        """Tell the augmenter the dataset's per-channel pixel mean (0..255,
        as in a data preprocessor), the colour of ``fill='mean'`` for
        inputs in [0, 1]. Ignored for normalised input (``mean`` is
        known)."""
        values = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        self.dataset_mean = values.view(1, -1, 1, 1).to(
            self.probability_logits.device) / 255.0

    def init_weights(self) -> None:
        """Keep p = m = 0.5 and the fitted op nets: nothing to initialise."""

    # ------------------------------------------------------------ apply
    def apply_op(self, name: str, img: Tensor, sign: Tensor) -> Tensor:
        """Apply op ``name`` at its current magnitude with the backend."""
        spec = OP_SPECS[name]
        if name == 'Cutout':
            return analytic_ops.cutout(
                img,
                self.cutout_size,
                fill=self.fill_value(img),
                one_centre=self.cutout_centre == 'batch')
        if not spec.has_magnitude:
            return analytic_ops.apply_op(name, img)
        if spec.kind == 'geometric':
            matrix = self.geometric_matrix(name, sign, img.size(-2),
                                           img.size(-1))
            return self.warp(img, matrix)
        magnitude = self.magnitude_of(name)
        if self.op_nets is not None:
            return self.op_nets.apply_op(name, img, magnitude, sign)
        return analytic_ops.apply_op(name, img, magnitude, sign)

    def fill_value(self, img: Tensor) -> Union[float, Tensor]:
        """What warps and Cutout fill with, in [0, 1] units (``fill``)."""
        if self.fill == 'black':
            return 0.0
        mean = (
            self.mean / 255.0 if self.mean is not None else self.dataset_mean)
        if mean is None:
            return NEUTRAL_GREY
        if mean.size(1) != img.size(1):  # e.g. an RGB mean, grey images
            mean = mean.mean(dim=1, keepdim=True)
        return mean.to(img)

    def warp(self, img: Tensor, matrix: Tensor) -> Tensor:
        """Resample with output->input pixel matrices, filling with
        :meth:`fill_value` (bilinear; a warp is linear in the image, so
        warping ``img - fill`` with zero padding and adding ``fill`` back
        is zero padding in units where ``fill`` is 0)."""
        fill = self.fill_value(img)
        return affine.warp(img - fill, matrix) + fill

    def geometric_matrix(self, name: str, sign: Tensor, height: int,
                         width: int) -> Tensor:
        """``(N, 2, 3)`` pixel-space output->input matrix of geometric op
        ``name`` at its current magnitude, from either backend."""
        magnitude = self.magnitude_of(name)
        if self.op_nets is not None:
            # the nets predict normalised thetas (with their own per-sample
            # apply gate already folded in as the identity)
            theta = self.op_nets.theta(name, magnitude, sign)
            return theta_to_pixel(theta.to(sign.dtype), height, width)
        matrix = affine.affine_matrix(name, magnitude.to(sign.dtype), sign,
                                      height, width)
        return matrix.expand(sign.shape[0], 2, 3)

    # ------------------------------------------------------------ compose
    def forward(self, inputs: Tensor) -> Tensor:
        """Augment a batch (N, C, H, W), C = 1 or 3, of any size."""
        return self._run(self._augment, inputs)

    def _run(self, augment, inputs: Tensor):
        """``augment(inputs)``; in eval mode with all randomness drawn from
        ``eval_seed``, so the same input gives the same output."""
        if inputs.dim() != 4:
            raise ValueError('the augmenter takes a batch (N, C, H, W), got '
                             f'shape {tuple(inputs.shape)}')
        if self.training:
            return augment(inputs)
        with torch.random.fork_rng(
                devices=[inputs.device] if inputs.is_cuda else []):
            torch.manual_seed(self.eval_seed)
            return augment(inputs)

    def _to_unit(self, inputs: Tensor) -> Tensor:
        """Input units -> [0, 1] pixels."""
        return inputs if self.mean is None else (inputs * self.std +
                                                 self.mean) / 255.0

    def _from_unit(self, pixels: Tensor) -> Tensor:
        """[0, 1] pixels (clamped if ``clamp``) -> input units."""
        if self.clamp:
            pixels = pixels.clamp(0.0, 1.0)
        return pixels if self.mean is None else (pixels * 255.0 -
                                                 self.mean) / self.std

    def augment_with_geometry(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """Augment a batch and say where every pixel came from.

        The form TST's structured tasks need (Shao et al., IJCAI 2023,
        Sec. 3.4: "boxes and label maps follow the geometric warp"):

        * the picked colour ops and Cutout are summed gated residuals of
          the pixels (or chained, with ``composition='sequential'``), as in
          :meth:`forward`;
        * the picked geometric ops become ONE affine warp per sample: op i
          contributes ``I + g_i (A_i - I)`` (``A_i`` its pixel-space
          matrix, ``g_i`` its soft gate), the contributions are composed
          with :func:`~.affine.compose_affine` in pick order, and the
          image is resampled once. Summing warped images as the classifier
          path does would blend several displaced copies of an object,
          which no box can describe; one warp keeps the annotation exact.
          With the gate at 0 or 1 this equals applying the picked warps.

        Colour ops run first, the warp last (they commute up to Contrast's
        image mean and Cutout's square turning with the image).

        Args:
            inputs: ``(N, C, H, W)`` batch, in [0, 1] (or normalised with
                ``mean`` / ``std``).

        Returns:
            ``(augmented, matrices)``: the augmented batch in the input's
            units, and ``(N, 2, 3)`` matrices mapping **output** pixel
            coordinates to **input** pixel coordinates (the convention of
            :mod:`.affine`: origin at the top-left image corner).
            Move annotations with ``invert_affine(matrices)``. The matrices
            keep their graph to the magnitudes and gates; detach them for
            targets.
        """
        return self._run(self._augment_geometry, inputs)

    def _augment_geometry(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        x = self._to_unit(inputs)
        identity = identity_affine(x.size(0), x)
        matrix = identity
        out = x
        for gate, name, sign in self._draws(x):
            if OP_SPECS[name].kind == 'geometric':
                op = self.geometric_matrix(name, sign, x.size(-2), x.size(-1))
                soft = identity + gate.view(-1, 1, 1) * (op - identity)
                matrix = affine.compose_affine(matrix, soft)
                continue
            out = self._gated_step(x, out, gate, name, sign)
        if matrix is not identity:
            out = self.warp(out, matrix)
        return self._from_unit(out), matrix

    def _gated_step(self, x: Tensor, out: Tensor, gate: Tensor, name: str,
                    sign: Tensor) -> Tensor:
        """``out`` plus the gated residual of op ``name``, applied to the
        input ``x`` (``composition='residual'``) or to ``out``
        (``'sequential'``)."""
        base = x if self.composition == 'residual' else out
        return out + gate.view(-1, 1, 1, 1) * (
            self.apply_op(name, base, sign) - base)

    def _augment(self, inputs: Tensor) -> Tensor:
        x = self._to_unit(inputs)
        out = x
        for gate, name, sign in self._draws(x):
            out = self._gated_step(x, out, gate, name, sign)
        return self._from_unit(out)
