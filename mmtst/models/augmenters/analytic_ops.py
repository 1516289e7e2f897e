"""Exact, differentiable tensor implementations of the 14 TST operations.

This is the "analytic" backend of the TST augmenter (Shao et al., "Teaching
What You Should Teach: A Data-Based Distillation Method", IJCAI 2023). The
paper makes the AutoAugment operations (Cubuk et al., "AutoAugment: Learning
Augmentation Strategies from Data", CVPR 2019) differentiable by fitting a
small frozen network per op that imitates the real op ("priori bias"). Here
every op is instead written directly as a tensor expression, so there is no
fitting stage and no imitation error:

* the four enhance ops (Brightness, Color, Contrast, Sharpness) are blends
  exactly like ``torchvision.transforms.functional`` (and PIL's
  ``ImageEnhance``), differentiable in the image and the magnitude;
* Posterize and Solarize are exact in the forward pass and pass gradients to
  the magnitude through straight-through surrogates (documented per op);
* the geometric ops are affine matrices in pixel coordinates
  (:func:`~.affine.affine_matrix`) applied with ``affine_grid`` /
  ``grid_sample`` (:func:`~.affine.warp`), so the gradient w.r.t. the
  magnitude flows through the sampling grid;
* Equalize, Invert and Cutout have no magnitude (probability-only ops).

Conventions
-----------
Images are float tensors ``(N, C, H, W)`` with values in [0, 1], C = 1 or 3.
``magnitude`` is the normalised magnitude m in [0, 1] (a 0-dim tensor, which
may require grad; a ``(N,)`` tensor of per-sample magnitudes or a Python float
also work). ``sign`` is a ``(N,)`` tensor of +-1 drawn per sample by the
caller; it is ignored by unsigned ops and defaults to +1. ``m`` is mapped onto
the AutoAugment range with :meth:`OpSpec.value` from
:mod:`mmtst.models.augmenters.op_specs`. The affine conventions (pixel
coordinates, inverse warps) are those of :mod:`.affine`.
"""
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .affine import affine_matrix, warp
from .op_specs import OP_SPECS, Magnitude, as_tensor, check_op_names

__all__ = [
    'brightness', 'color', 'contrast', 'sharpness', 'posterize', 'solarize',
    'equalize', 'invert', 'cutout', 'apply_geometric', 'apply_op', 'to_grey',
    'ANALYTIC_OPS'
]

# ITU-R 601-2 luma weights, as in torchvision's ``rgb_to_grayscale`` (and
# PIL's ``convert('L')``), so Color / Contrast match the reference ops; the
# neural op nets use the same grey image.
GREY_WEIGHTS = (0.2989, 0.587, 0.114)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _sign(sign: Optional[Tensor], img: Tensor) -> Tensor:
    """Per-sample sign as a ``(N,)`` float tensor; +1 where not given."""
    if sign is None:
        return img.new_ones(img.shape[0])
    return as_tensor(sign, img).reshape(-1)


def _op_value(name: str, img: Tensor, magnitude: Magnitude,
              sign: Optional[Tensor]) -> Tensor:
    """The op's AutoAugment value, shaped to broadcast against ``img``.

    For the enhance ops the value is the offset of the blend factor
    (factor = 1 + value), as in torchvision's ``_apply_op``.

    Returns a 0-dim tensor (batch-shared value) or a ``(N, 1, 1, 1)`` tensor
    (per-sample value, e.g. because of the per-sample sign).
    """
    if magnitude is None:
        raise ValueError(f'Op {name} needs a magnitude.')
    spec = OP_SPECS[name]
    m = as_tensor(magnitude, img)
    value = spec.value(m, _sign(sign, img)) if spec.signed else spec.value(m)
    return value.reshape(-1, 1, 1, 1) if value.dim() > 0 else value


def _blend(img1: Tensor, img2: Tensor, factor: Tensor) -> Tensor:
    """``factor * img1 + (1 - factor) * img2`` clamped to [0, 1].

    This is PIL's ``ImageEnhance`` / torchvision's ``_blend``: factor 1 is the
    identity, 0 gives the degenerate image, > 1 extrapolates away from it.
    """
    return (factor * img1 + (1.0 - factor) * img2).clamp(0.0, 1.0)


def to_grey(img: Tensor) -> Tensor:
    """Luma of an RGB image as ``(N, 1, H, W)``; a 1-channel image as is."""
    if img.shape[1] == 1:
        return img
    r, g, b = img.unbind(dim=1)
    grey = GREY_WEIGHTS[0] * r + GREY_WEIGHTS[1] * g + GREY_WEIGHTS[2] * b
    return grey.unsqueeze(1)


def _to_uint8_levels(img: Tensor) -> Tensor:
    """Quantise a [0, 1] image onto the 256 uint8 levels (as integers in a
    float tensor). Rounding makes images that are already uint8-valued
    (``k / 255``) map back onto exactly their ``k``."""
    return (img.detach() * 255.0).round().clamp(0.0, 255.0)


def _straight_through(hard: Tensor, soft: Tensor) -> Tensor:
    """Forward value ``hard``, gradient of ``soft`` (straight-through)."""
    return hard.detach() + (soft - soft.detach())


# --------------------------------------------------------------------------
# colour ops (magnitude)
# --------------------------------------------------------------------------
def brightness(img: Tensor,
               magnitude: Magnitude,
               sign: Optional[Tensor] = None) -> Tensor:
    """AutoAugment Brightness: blend with a black image.

    Factor ``1 + sign * 0.9 * m`` (Cubuk et al. 2019; TST Sec. 3.2), as
    torchvision's ``adjust_brightness``.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: ``(N,)`` per-sample signs (+-1); +1 if None.

    Returns:
        The adjusted images, clamped to [0, 1].
    """
    factor = 1.0 + _op_value('Brightness', img, magnitude, sign)
    # blend with zeros == scaling; clamp as the reference op does
    return (factor * img).clamp(0.0, 1.0)


def color(img: Tensor,
          magnitude: Magnitude,
          sign: Optional[Tensor] = None) -> Tensor:
    """AutoAugment Color (saturation): blend with the grayscale image.

    Factor ``1 + sign * 0.9 * m``, as torchvision's ``adjust_saturation``.
    Grayscale images are returned unchanged (PIL / torchvision behaviour);
    the result still depends on ``magnitude`` (with a zero gradient) so a
    backward pass through it never fails.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: ``(N,)`` per-sample signs (+-1); +1 if None.

    Returns:
        The adjusted images, clamped to [0, 1].
    """
    factor = 1.0 + _op_value('Color', img, magnitude, sign)
    if img.shape[1] == 1:
        return img + 0.0 * factor.sum()
    return _blend(img, to_grey(img), factor)


def contrast(img: Tensor,
             magnitude: Magnitude,
             sign: Optional[Tensor] = None) -> Tensor:
    """AutoAugment Contrast: blend with the image's mean grey level.

    Factor ``1 + sign * 0.9 * m``, as torchvision's ``adjust_contrast``: the
    degenerate image is the per-image mean of the grayscale image.

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: ``(N,)`` per-sample signs (+-1); +1 if None.

    Returns:
        The adjusted images, clamped to [0, 1].
    """
    factor = 1.0 + _op_value('Contrast', img, magnitude, sign)
    mean = to_grey(img).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(img, mean, factor)


def _smooth(img: Tensor) -> Tensor:
    """PIL's SMOOTH filter ``[[1,1,1],[1,5,1],[1,1,1]] / 13`` applied per
    channel to the interior; the one-pixel border keeps the original values
    (torchvision's ``_blurred_degenerate_image``)."""
    c, h, w = img.shape[1:]
    kernel = img.new_ones(3, 3)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(c, 1, 3, 3)
    blurred = F.conv2d(img, kernel, groups=c)  # (N, C, H-2, W-2): valid conv
    # pad back to full size, then keep the original border pixels
    blurred = F.pad(blurred, (1, 1, 1, 1))
    interior = torch.zeros(h, w, dtype=torch.bool, device=img.device)
    interior[1:-1, 1:-1] = True
    return torch.where(interior, blurred, img)


def sharpness(img: Tensor,
              magnitude: Magnitude,
              sign: Optional[Tensor] = None) -> Tensor:
    """AutoAugment Sharpness: blend with a smoothed image.

    Factor ``1 + sign * 0.9 * m``, as torchvision's ``adjust_sharpness``
    (smoothing kernel ``[[1,1,1],[1,5,1],[1,1,1]] / 13``, borders kept).

    Args:
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: ``(N,)`` per-sample signs (+-1); +1 if None.

    Returns:
        The adjusted images, clamped to [0, 1].
    """
    factor = 1.0 + _op_value('Sharpness', img, magnitude, sign)
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        # no interior to smooth (torchvision returns the image unchanged)
        return img + 0.0 * factor.sum()
    return _blend(img, _smooth(img), factor)


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
    bits = _op_value('Posterize', img, magnitude, None)
    levels = _to_uint8_levels(img)
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
    threshold = _op_value('Solarize', img, magnitude, None)
    hard = torch.where(img >= threshold.detach(), 1.0 - img, img)
    x = img.detach()
    soft_mask = torch.sigmoid((x - threshold) / temperature)
    relaxed = soft_mask * (1.0 - 2.0 * x)  # depends on the threshold only
    return hard + (relaxed - relaxed.detach())


# --------------------------------------------------------------------------
# probability-only ops
# --------------------------------------------------------------------------
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
    levels = _to_uint8_levels(img).long().reshape(n * c, h * w)
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


def cutout(img: Tensor,
           size: int,
           generator: Optional[torch.Generator] = None,
           fill: Union[float, Tensor] = 0.0,
           one_centre: bool = False) -> Tensor:
    """Cutout (DeVries & Taylor 2017; part of TST's pool): erase a square.

    A ``size x size`` square centred on a uniformly random pixel is set to
    ``fill``; the square is clipped at the image borders, so near a border
    less than ``size ** 2`` pixels are erased.

    Args:
        img: Images ``(N, C, H, W)``.
        size: Side of the square, in pixels.
        generator: Optional ``torch.Generator`` for reproducible centres; the
            centres are drawn on its device and moved to the image's.
        fill: Value of the erased pixels (a number, or a tensor that
            broadcasts to ``(N, C, 1, 1)``). Defaults to 0.
        one_centre: One square position for the whole batch (TST's
            authors) instead of one per sample. Defaults to False.

    Returns:
        The images with the squares erased (gradient = the keep mask).
    """
    n, _, h, w = img.shape
    device = generator.device if generator is not None else img.device
    draws = 1 if one_centre else n
    cy = torch.randint(0, h, (draws, ), generator=generator, device=device)
    cx = torch.randint(0, w, (draws, ), generator=generator, device=device)
    cy, cx = cy.to(img.device).expand(n), cx.to(img.device).expand(n)
    # [c - size // 2, c - size // 2 + size) clipped to the image
    y0 = (cy - size // 2).view(n, 1, 1)
    x0 = (cx - size // 2).view(n, 1, 1)
    ys = torch.arange(h, device=img.device).view(1, h, 1)
    xs = torch.arange(w, device=img.device).view(1, 1, w)
    inside = ((ys >= y0) & (ys < y0 + size) & (xs >= x0) & (xs < x0 + size))
    inside = inside.unsqueeze(1).to(img.dtype)
    return img * (1.0 - inside) + inside * fill


# --------------------------------------------------------------------------
# geometric ops
# --------------------------------------------------------------------------
def apply_geometric(name: str,
                    img: Tensor,
                    magnitude: Magnitude,
                    sign: Optional[Tensor] = None) -> Tensor:
    """Apply a geometric AutoAugment op: ``warp(img, affine_matrix(...))``.

    Args:
        name: ShearX, ShearY, TranslateX, TranslateY or Rotate.
        img: Images ``(N, C, H, W)``.
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor).
        sign: ``(N,)`` per-sample signs; +1 if None.

    Returns:
        The warped images (bilinear, zero padding).
    """
    if magnitude is None:
        raise ValueError(f'Op {name} needs a magnitude.')
    m = as_tensor(magnitude, img)
    matrix = affine_matrix(name, m, _sign(sign, img), img.shape[-2],
                           img.shape[-1])
    return warp(img, matrix)


# --------------------------------------------------------------------------
# dispatcher
# --------------------------------------------------------------------------
ANALYTIC_OPS = {
    'Brightness': brightness,
    'Color': color,
    'Contrast': contrast,
    'Sharpness': sharpness,
    'Posterize': posterize,
    'Solarize': solarize,
}


def apply_op(name: str,
             img: Tensor,
             magnitude: Optional[Magnitude] = None,
             sign: Optional[Tensor] = None,
             generator: Optional[torch.Generator] = None,
             cutout_size: int = 16) -> Tensor:
    """Apply one of the 14 TST / AutoAugment ops analytically.

    Args:
        name: Op name (see ``op_specs.ALL_OPS``; case-sensitive).
        img: Images ``(N, C, H, W)`` in [0, 1].
        magnitude: Normalised magnitude in [0, 1] (required by the 11
            magnitude ops, ignored by Equalize / Invert / Cutout).
        sign: ``(N,)`` per-sample signs of signed ops; +1 if None.
        generator: Random generator for Cutout's centres.
        cutout_size: Cutout's square side in pixels.

    Returns:
        The augmented images.

    Raises:
        ValueError: For an unknown op name (the message lists the valid
            names) or a missing magnitude.
    """
    check_op_names([name])
    if name in ANALYTIC_OPS:
        return ANALYTIC_OPS[name](img, magnitude, sign)
    if OP_SPECS[name].kind == 'geometric':
        return apply_geometric(name, img, magnitude, sign)
    if name == 'Equalize':
        return equalize(img)
    if name == 'Invert':
        return invert(img)
    return cutout(img, cutout_size, generator=generator)
