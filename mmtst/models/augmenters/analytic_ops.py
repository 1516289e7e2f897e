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

The ops live in one module per kind, and this module gathers them:
:mod:`.analytic_enhance` (the four ``ImageEnhance`` blends),
:mod:`.analytic_levels` (Posterize, Solarize, Equalize, Invert: PIL's
``ImageOps`` level remappings), and here Cutout, the geometric ops and the
dispatcher :func:`apply_op`; all of them are importable from here.

Conventions
-----------
Images are float tensors ``(N, C, H, W)`` with values in [0, 1], C = 1 or 3.
``magnitude`` is the normalised magnitude m in [0, 1] (a 0-dim tensor, which
may require grad; a ``(N,)`` tensor of per-sample magnitudes or a Python float
also work). ``sign`` is a ``(N,)`` tensor of +-1 drawn per sample by the
caller; it is ignored by unsigned ops and defaults to +1. ``m`` is mapped onto
the AutoAugment range with :meth:`OpSpec.value` from
:mod:`mmtst.models.augmenters.op_specs` (:func:`~.op_specs.op_value` shapes
the value for a batch). The affine conventions (pixel
coordinates, inverse warps) are those of :mod:`.affine`.
"""
from typing import Optional, Union

import torch
from torch import Tensor

from .affine import affine_matrix, warp
from .analytic_enhance import brightness, color, contrast, sharpness
from .analytic_levels import equalize, invert, posterize, solarize
from .op_specs import (OP_SPECS, Magnitude, as_tensor, check_op_names,
                       sign_or_ones)
from .pixels import GREY_WEIGHTS, to_grey  # noqa: F401

__all__ = [
    'brightness', 'color', 'contrast', 'sharpness', 'posterize', 'solarize',
    'equalize', 'invert', 'cutout', 'apply_geometric', 'apply_op', 'to_grey',
    'ANALYTIC_OPS'
]


# --------------------------------------------------------------------------
# probability-only op (the others are in .analytic_levels)
# --------------------------------------------------------------------------
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
    matrix = affine_matrix(name, m, sign_or_ones(sign, img), img.shape[-2],
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
