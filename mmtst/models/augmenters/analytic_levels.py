"""The analytic level ops: Posterize, Solarize, Equalize and Invert.

Part of the analytic backend of the TST augmenter (Shao et al., "Teaching
What You Should Teach: A Data-Based Distillation Method", IJCAI 2023;
overview and conventions in :mod:`.analytic_ops`). These AutoAugment
operations (Cubuk et al., "AutoAugment: Learning Augmentation Strategies
from Data", CVPR 2019) are PIL's ``ImageOps`` remappings of intensity
levels. Their forward passes are exact (as torchvision's, on the uint8
levels where torchvision works on uint8); where an op is piecewise constant
(Posterize, Equalize) or has a hard threshold (Solarize), gradients pass
through straight-through surrogates, documented per op. Equalize and Invert
have no magnitude (probability-only ops).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .op_specs import Magnitude, op_value
from .pixels import to_uint8_levels

__all__ = ['posterize', 'solarize', 'equalize', 'invert']


def _straight_through(hard: Tensor, soft: Tensor) -> Tensor:
    """Forward value ``hard``, gradient of ``soft`` (straight-through)."""
    return hard.detach() + (soft - soft.detach())


def _posterize_levels(levels: Tensor, bits: Tensor) -> Tensor:
    """Keep the ``bits`` high bits of integer-valued ``levels`` (0..255).

    Same as ``uint8 & ~(2 ** (8 - bits) - 1)`` (torchvision's posterize),
    written as ``floor(u / q) * q`` with ``q = 2 ** (8 - bits)``.
    """
    q = torch.pow(2.0, 8.0 - bits)
    return torch.floor(levels / q) * q


def posterize(img: Tensor,
              magnitude: Magnitude,
              sign: Optional[Tensor] = None) -> Tensor:
    """AutoAugment Posterize: keep ``round(bits)`` bits per channel.

    ``bits = 8 - 4 m`` (AutoAugment range 8..4; m = 0 is the identity on
    uint8-valued images). The forward pass is exact: the image is quantised
    to uint8 levels (``round(255 x)``) and posterized exactly like
    torchvision's ``posterize`` on uint8 tensors, then divided by 255.

    Gradients (straight-through):

    * w.r.t. the image: identity (the op is piecewise constant in x, so the
      usual quantisation straight-through estimator).
    * w.r.t. the magnitude: the slope of the piecewise-linear interpolation
      of the exact op between the two neighbouring integer bit depths,
      ``d out / d bits = P(lo + 1) - P(lo)`` with ``lo = clamp(floor(bits),
      4, 7)`` and ``P(b)`` the exact posterized image at ``b`` bits. This is
      a per-pixel finite difference of the true op (non-zero wherever the
      next bit is set), defined also at the integer end points (e.g. 8 bits).

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: Ignored (Posterize is unsigned).

    Returns:
        Posterized images with values in ``{k / 255}``.
    """
    bits = op_value('Posterize', img, magnitude, None)
    levels = to_uint8_levels(img)
    bits_d = bits.detach()
    hard = _posterize_levels(levels, bits_d.round()) / 255.0
    lo = bits_d.floor().clamp(4.0, 7.0)
    slope = (_posterize_levels(levels, lo + 1.0) -
             _posterize_levels(levels, lo)) / 255.0
    soft = img + bits * slope  # d/dx = 1, d/dbits = slope
    return _straight_through(hard, soft)


def solarize(img: Tensor,
             magnitude: Magnitude,
             sign: Optional[Tensor] = None,
             temperature: float = 0.05) -> Tensor:
    """AutoAugment Solarize: invert every value at or above a threshold.

    ``threshold = 1 - m`` on the [0, 1] scale (AutoAugment: 255..0 on the
    uint8 scale). The forward pass is exact, as torchvision's ``solarize``:
    ``x >= threshold -> 1 - x``.

    Gradients (straight-through):

    * w.r.t. the image: the exact piecewise derivative (+1 / -1).
    * w.r.t. the magnitude: through the relaxed mask
      ``sigmoid((x - threshold) / temperature)`` in place of the hard step,
      i.e. ``d out / d threshold = -(1 - 2x) * sigmoid'(.) / temperature``.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: Ignored (Solarize is unsigned).
        temperature: Width of the sigmoid relaxation, in intensity units.

    Returns:
        Solarized images.
    """
    threshold = op_value('Solarize', img, magnitude, None)
    hard = torch.where(img >= threshold.detach(), 1.0 - img, img)
    x = img.detach()
    soft_mask = torch.sigmoid((x - threshold) / temperature)
    relaxed = soft_mask * (1.0 - 2.0 * x)  # depends on the threshold only
    return hard + (relaxed - relaxed.detach())


def equalize(img: Tensor) -> Tensor:
    """AutoAugment Equalize: per-channel histogram equalisation.

    The forward pass equals torchvision's ``equalize`` (PIL's
    ``ImageOps.equalize``) on the uint8 quantised image (``round(255 x)``),
    divided by 255; all images and channels are processed at once. The
    gradient is straight-through: ``d out / d img = identity``.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].

    Returns:
        Equalised images with values in ``{k / 255}``.
    """
    n, c, h, w = img.shape
    levels = to_uint8_levels(img).long().reshape(n * c, h * w)
    rows = n * c
    # one 256-bin histogram per (image, channel): offset each row's bins
    offsets = torch.arange(rows, device=img.device).unsqueeze(1) * 256
    hist = torch.bincount(
        (levels + offsets).reshape(-1),
        minlength=rows * 256).reshape(rows, 256)
    # PIL: step = (count of all pixels except those at the highest present
    # level) // 255; the highest present level is the row maximum
    top_count = hist.gather(1, levels.max(dim=1, keepdim=True).values)
    step = torch.div(h * w - top_count, 255, rounding_mode='floor')
    safe_step = step.clamp(min=1)
    lut = torch.div(
        hist.cumsum(dim=1) + torch.div(step, 2, rounding_mode='floor'),
        safe_step,
        rounding_mode='floor')
    # the lut is shifted by one bin (level k maps via the cumsum below k)
    lut = F.pad(lut, (1, 0))[:, :-1].clamp(0, 255)
    # step == 0 (nearly constant channel): the channel is left unchanged
    out = torch.where(step == 0, levels, lut.gather(1, levels))
    out = out.reshape(n, c, h, w).to(img.dtype) / 255.0
    return _straight_through(out, img)


def invert(img: Tensor) -> Tensor:
    """AutoAugment Invert: ``1 - img``.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].

    Returns:
        The inverted images.
    """
    return 1.0 - img
