"""mmtst's nets that imitate TST's ops (the neural backend's "priori bias").

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2, "priori bias") makes the AutoAugment ops
differentiable in their magnitude by replacing each of the 11 magnitude ops
with a tiny network fitted beforehand (stage I, ``tools/fit_op_nets.py``,
:mod:`.op_net_fitting`) to imitate the real op as a function of the scalar
magnitude. The fitted nets are frozen; gradients still flow through them to
the magnitude (and to the image), which is all the augmenter needs.

Two net families, following the paper and the authors' public code (whose
own nets are rebuilt in :mod:`.authors_op_nets`):

* :class:`GeometricOpNet` (ShearX/Y, TranslateX/Y, Rotate): a linear map of
  ``[6 learned values + noise, signed magnitude]`` to a 2x3 affine matrix,
  applied with ``affine_grid`` + ``grid_sample``.
* :class:`ColourOpNet` (Brightness, Color, Contrast, Sharpness, Posterize,
  Solarize): bias-free linear maps of ``[learned features + noise, signed
  magnitude, ...]`` to a per-image scale and shift, then a 5x5 convolution.

:class:`~.neural_ops.NeuralOpBank` holds one net per op.

Conventions shared by every function here: images are float ``(N, C, H, W)``
in [0, 1] with C = 1 or 3; ``magnitude`` is the normalised magnitude in
[0, 1] (a 0-dim tensor shared by the batch, which may require grad, or a
``(N,)`` tensor during fitting); ``sign`` is a ``(N,)`` tensor of +-1; the
*signed magnitude* a net sees is ``magnitude * sign`` for signed ops
(:attr:`OpSpec.signed`) and ``magnitude`` otherwise.
"""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .affine import IDENTITY_THETA, warp_normalised
from .op_specs import MAGNITUDE_OPS, OP_SPECS
from .pixels import to_grey

# The nets see the magnitude multiplied by this gain, i.e. the AutoAugment
# "level" 0..10 instead of 0..1. Why: the paper's fitting schedule (AdamW lr
# 1e-3, ExponentialLR gamma 0.999 per iteration) lets Adam move any weight by
# at most lr / (1 - gamma) = 1.0 in total, and e.g. TranslateX needs a weight
# of ~0.9 on a [0, 1] input. On the 0..10 scale the needed weights are ~10x
# smaller and the schedule converges. d(output)/d(magnitude) is unaffected.
MAGNITUDE_GAIN = 10.0


def signed_magnitude(magnitude: Tensor, sign: Optional[Tensor], signed: bool,
                     num: int) -> Tensor:
    """Per-sample signed magnitude ``(num,)`` that the nets take as input.

    Args:
        magnitude: 0-dim (shared by the batch) or ``(num,)`` magnitude in
            [0, 1]; its gradient passes through.
        sign: ``(num,)`` tensor of +-1, ignored for unsigned ops (may then
            be None).
        signed: Whether the op is signed (:attr:`OpSpec.signed`).
        num: Batch size.
    """
    magnitude = torch.as_tensor(magnitude)
    if magnitude.dim() > 1 or (magnitude.dim() == 1
                               and magnitude.numel() not in (1, num)):
        raise ValueError('magnitude must be a 0-dim tensor or have one value '
                         f'per sample ({num}), got shape '
                         f'{tuple(magnitude.shape)}')
    magnitude = magnitude.reshape(-1).expand(num)
    if not signed:
        return magnitude
    if sign is None or sign.shape != (num, ):
        got = None if sign is None else tuple(sign.shape)
        raise ValueError(f'sign must be a ({num},) tensor of +-1 for a signed '
                         f'op, got {got}')
    return magnitude * sign.to(magnitude)


def _apply_mask(num: int, apply_prob: float, device) -> Optional[Tensor]:
    """Per-sample apply-or-not draw, or None when every sample is applied."""
    if apply_prob >= 1.0:
        return None
    return torch.rand(num, device=device) < apply_prob


class GeometricOpNet(nn.Module):
    """Neural imitation of one affine AutoAugment op (TST, Sec. 3.2).

    ``theta = Linear(7, 6)([values + noise, gain * signed_magnitude])`` is a
    2x3 affine matrix in the normalised coordinates of ``F.affine_grid``
    (``align_corners=False``); the image is resampled with bilinear
    ``grid_sample`` and zero padding. The linear map starts with zero weights
    and the identity matrix as bias, so an unfitted net is the identity for
    every magnitude.

    The authors' net also applies the warp to only ~50% of the samples; here
    that is ``apply_prob``: a per-sample Bernoulli draw that replaces theta by
    the identity for the samples it skips (so combined warps stay exact).
    Unlike the noise, the gate does not depend on train/eval mode: it is part
    of the augmentation's per-sample randomness, not a regulariser. Fitting
    uses ``apply_prob=1.0`` (gate off).

    Args:
        signed: Whether the op takes a signed magnitude.
        noise_std: Std of the Gaussian noise added to the learned values in
            training mode only.
        apply_prob: Probability that a sample is warped; 1.0 disables the
            gate.
    """

    def __init__(self,
                 signed: bool = True,
                 noise_std: float = 0.01,
                 apply_prob: float = 1.0) -> None:
        super().__init__()
        self.signed = signed
        self.noise_std = noise_std
        self.apply_prob = apply_prob
        self.values = nn.Parameter(torch.randn(6))
        self.linear = nn.Linear(7, 6)
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.copy_(torch.tensor(IDENTITY_THETA).view(6))
        # non-persistent: the checkpoint holds only the fitted parameters
        self.register_buffer(
            'identity',
            torch.tensor(IDENTITY_THETA).view(1, 2, 3),
            persistent=False)

    def theta(self, signed_magnitude: Tensor) -> Tensor:
        """Affine matrices ``(N, 2, 3)`` for ``(N,)`` signed magnitudes,
        without the apply gate."""
        num = signed_magnitude.shape[0]
        values = self.values.expand(num, -1)
        if self.training and self.noise_std > 0:
            values = values + self.noise_std * torch.randn_like(values)
        s = MAGNITUDE_GAIN * signed_magnitude.view(num, 1).to(values)
        inputs = torch.cat([values, s], dim=1)
        return self.linear(inputs).view(num, 2, 3)

    def gated_theta(self, signed_magnitude: Tensor) -> Tensor:
        """:meth:`theta` with the per-sample apply gate (identity where a
        sample is skipped)."""
        theta = self.theta(signed_magnitude)
        mask = _apply_mask(theta.shape[0], self.apply_prob, theta.device)
        if mask is None:
            return theta
        return torch.where(mask.view(-1, 1, 1), theta, self.identity.to(theta))

    @staticmethod
    def warp(img: Tensor, theta: Tensor) -> Tensor:
        """Resample ``img`` with affine matrices ``theta`` (bilinear, zero
        padding, ``align_corners=False``)."""
        return warp_normalised(img, theta)

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        return self.warp(img, self.gated_theta(signed_magnitude))

    def forward(self,
                img: Tensor,
                magnitude: Tensor,
                sign: Optional[Tensor] = None) -> Tensor:
        """Apply the op.

        Args:
            img: ``(N, C, H, W)`` images in [0, 1].
            magnitude: 0-dim (or ``(N,)``) magnitude in [0, 1].
            sign: ``(N,)`` signs, +-1.
        """
        s = signed_magnitude(magnitude, sign, self.signed, img.shape[0])
        return self.forward_signed(img, s)


class ColourOpNet(nn.Module):
    """Neural imitation of one colour AutoAugment op (TST, Sec. 3.2).

    A bias-free linear map of ``z = [features + noise, gain * s,
    gain * s * mean_grey(x)]`` (``s`` the signed magnitude) gives six
    per-image coefficients, and

    ``y = scale * x + shift + blend * grey(x)
    + flip * sigmoid((x - knee) / 0.02) * (1 - 2 x)``,
    ``out = clamp(y + strength * (conv5x5(y) - y), 0, 1)``.

    The parts, and why they are there:

    * ``scale``, ``shift``, the learned features, the noise and the 5x5
      convolution are the paper's. The constant part of each coefficient
      comes from the learned features (the map has no bias).
    * ``gain * s * mean_grey(x)`` (our addition): the per-image mean grey
      intensity times the signed magnitude. Contrast is
      ``(1 + v) x - v * mean_grey(x)``, a shift proportional to the image's
      own mean, which no image-independent coefficient can express.
    * ``blend`` (our addition): Color (saturation) is
      ``(1 + v) x - v * grey(x)``, a per-image blend with the grey image. The
      authors' net gets channel mixing from a full 3->3 convolution; one
      shared kernel plus this one coefficient does the same with 25 instead
      of 225 weights, works for 1- and 3-channel images alike, and starts at
      the identity.
    * ``strength`` (our addition): the paper's convolution is the same for
      every magnitude, so Sharpness (``(1 + v) x - v * blur(x)``, a kernel
      that depends on ``v``) could only be imitated on average. Scaling the
      convolution's residual by a magnitude-dependent coefficient fixes that.
      It starts at 1 (a plain convolution, as in the paper).
    * ``knee``, ``flip`` (our addition): a soft per-pixel partial
      inversion of the pixels above a knee. Solarize (``x`` below the
      threshold ``t = 1 - m``, ``1 - x`` from it on) is a per-pixel
      nonlinearity that no scale/shift/convolution reproduces: fitted with
      those alone (and with a ReLU kink, or a step times a free linear
      function, in place of this term) it came out worse than doing nothing
      at m = 0.25 and 0.5. Solarize is ``knee = t``, ``flip = 1``: only
      ``knee`` depends on the magnitude, linearly. The step's width (0.02)
      trades its sharpness against the band of pixels around the knee that
      carry gradient; it and ``knee``'s start at 1 (rather than 0.5) are
      what fitted best of the few settings we tried (0.01-0.05; 0.5, 1).
      ``flip`` starts at 0.

    The kernel is shared by all channels (a depthwise convolution with
    padding 2) and starts as the identity kernel; ``scale`` and ``strength``
    start at 1, ``shift``, ``blend`` and ``flip`` at 0 (``knee`` at 1), so
    an unfitted net is the identity. The per-sample apply gate
    (``apply_prob``, independent of train/eval mode, see
    :class:`GeometricOpNet`) returns the input unchanged where a sample is
    skipped.

    Args:
        signed: Whether the op takes a signed magnitude.
        noise_std: Std of the Gaussian noise added to the learned features in
            training mode only.
        apply_prob: Probability that a sample is transformed; 1.0 disables
            the gate.
        num_features: Number of learned features.
    """

    #: rows of the linear map's output
    COEFFICIENTS = ('scale', 'shift', 'blend', 'strength', 'knee', 'flip')
    #: width of the soft step at the knee, in [0, 1] pixel units
    STEP_WIDTH = 0.02
    # non-zero initial values (the identity op)
    _INITIAL = {'scale': 1.0, 'strength': 1.0, 'knee': 1.0}

    def __init__(self,
                 signed: bool = True,
                 noise_std: float = 0.01,
                 apply_prob: float = 1.0,
                 num_features: int = 6) -> None:
        super().__init__()
        self.signed = signed
        self.noise_std = noise_std
        self.apply_prob = apply_prob
        self.features = nn.Parameter(torch.ones(num_features))
        self.linear = nn.Linear(
            num_features + 2, len(self.COEFFICIENTS), bias=False)
        kernel = torch.zeros(5, 5)
        kernel[2, 2] = 1.0
        self.kernel = nn.Parameter(kernel)
        with torch.no_grad():
            # features are all ones: averaging them gives each coefficient
            # its constant and spreads the feature noise thinly over them
            self.linear.weight.zero_()
            for name, value in self._INITIAL.items():
                row = self.COEFFICIENTS.index(name)
                self.linear.weight[row, :num_features] = value / num_features

    def coefficients(self, img: Tensor,
                     signed_magnitude: Tensor) -> Dict[str, Tensor]:
        """Per-image coefficients (:attr:`COEFFICIENTS`), each
        ``(N, 1, 1, 1)``."""
        num = img.shape[0]
        features = self.features.expand(num, -1)
        if self.training and self.noise_std > 0:
            features = features + self.noise_std * torch.randn_like(features)
        s = MAGNITUDE_GAIN * signed_magnitude.view(num, 1).to(features)
        mean_grey = to_grey(img).mean(dim=(1, 2, 3)).view(num, 1)
        out = self.linear(torch.cat([features, s, s * mean_grey], dim=1))
        return {
            name: out[:, i].view(num, 1, 1, 1)
            for i, name in enumerate(self.COEFFICIENTS)
        }

    def _conv(self, img: Tensor) -> Tensor:
        channels = img.shape[1]
        weight = self.kernel.to(img.dtype).expand(channels, 1, 5, 5)
        return F.conv2d(img, weight, padding=2, groups=channels)

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        c = self.coefficients(img, signed_magnitude)
        step = torch.sigmoid((img - c['knee']) / self.STEP_WIDTH)
        y = (
            c['scale'] * img + c['shift'] + c['blend'] * to_grey(img) +
            c['flip'] * step * (1.0 - 2.0 * img))
        out = (y + c['strength'] * (self._conv(y) - y)).clamp(0.0, 1.0)
        mask = _apply_mask(img.shape[0], self.apply_prob, img.device)
        if mask is None:
            return out
        return torch.where(mask.view(-1, 1, 1, 1), out, img)

    def forward(self,
                img: Tensor,
                magnitude: Tensor,
                sign: Optional[Tensor] = None) -> Tensor:
        """Apply the op; arguments as in :meth:`GeometricOpNet.forward`."""
        s = signed_magnitude(magnitude, sign, self.signed, img.shape[0])
        return self.forward_signed(img, s)


OpNet = Union[GeometricOpNet, ColourOpNet]


def build_op_net(name: str,
                 noise_std: float = 0.01,
                 apply_prob: float = 1.0) -> OpNet:
    """The (unfitted) net for magnitude op ``name``."""
    spec = OP_SPECS[name]
    if spec.kind == 'geometric':
        return GeometricOpNet(spec.signed, noise_std, apply_prob)
    if spec.kind == 'colour':
        return ColourOpNet(spec.signed, noise_std, apply_prob)
    raise ValueError(f'{name} has no magnitude, so it has no neural op net; '
                     f'ops with one: {", ".join(MAGNITUDE_OPS)}')


__all__: Sequence[str] = ('GeometricOpNet', 'ColourOpNet', 'OpNet',
                          'build_op_net', 'signed_magnitude', 'MAGNITUDE_GAIN')
