"""The analytic enhance ops: Brightness, Color, Contrast and Sharpness.

Part of the analytic backend of the TST augmenter (Shao et al., "Teaching
What You Should Teach: A Data-Based Distillation Method", IJCAI 2023;
overview and conventions in :mod:`.analytic_ops`). These four AutoAugment
operations (Cubuk et al., "AutoAugment: Learning Augmentation Strategies
from Data", CVPR 2019) are PIL's ``ImageEnhance`` blends of the image with a
degenerate image (black, grey, mean grey, smoothed), written as tensor
expressions exactly like ``torchvision.transforms.functional``, so they are
differentiable in the image and the magnitude.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .op_specs import Magnitude, op_value
from .pixels import to_grey

__all__ = ['brightness', 'color', 'contrast', 'sharpness']


def _blend(img1: Tensor, img2: Tensor, factor: Tensor) -> Tensor:
    """``factor * img1 + (1 - factor) * img2`` clamped to [0, 1].

    This is PIL's ``ImageEnhance`` / torchvision's ``_blend``: factor 1 is the
    identity, 0 gives the degenerate image, > 1 extrapolates away from it.
    """
    return (factor * img1 + (1.0 - factor) * img2).clamp(0.0, 1.0)


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
    factor = 1.0 + op_value('Brightness', img, magnitude, sign)
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
    factor = 1.0 + op_value('Color', img, magnitude, sign)
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
    factor = 1.0 + op_value('Contrast', img, magnitude, sign)
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
    factor = 1.0 + op_value('Sharpness', img, magnitude, sign)
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        # no interior to smooth (torchvision returns the image unchanged)
        return img + 0.0 * factor.sum()
    return _blend(img, _smooth(img), factor)
