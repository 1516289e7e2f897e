"""The affine math of the TST augmenter: op matrices, warps, conventions.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2) searches over the AutoAugment operations
(Cubuk et al., "AutoAugment: Learning Augmentation Strategies from Data",
CVPR 2019); five of them (ShearX/Y, TranslateX/Y, Rotate) are affine warps.
Both backends, and the task adapters that move boxes and masks with the
image, share the helpers here.

Pixel coordinates
-----------------
Pixel coordinates are *continuous* coordinates whose origin is the top-left
corner of the top-left pixel, x to the right, y down; pixel ``(row i, col
j)`` covers ``[j, j+1] x [i, i+1]`` and its centre is ``(j + 0.5, i +
0.5)``. An image of size ``H x W`` spans ``[0, W] x [0, H]`` (the box
convention of MMDetection). This is exactly the convention of
``grid_sample(..., align_corners=False)`` and of torchvision's tensor
``affine``.

Every pixel-space matrix is a ``(N, 2, 3)`` tensor ``M`` mapping an
**output** pixel coordinate to the **input** pixel coordinate it is sampled
from (an inverse warp): ``p_in = M[:, :, :2] @ p_out + M[:, :, 2]``, i.e.
``out(p) = in(M p)``. To move points (e.g. box corners) from the input image
into the output image use ``invert_affine(M)``.

Normalised coordinates
----------------------
The analytic backend (:mod:`.analytic_ops`) writes every geometric op as a
pixel-space matrix (:func:`affine_matrix`). The neural backend's op nets
(:mod:`.neural_ops`, TST's "priori bias") predict a ``theta`` for
``F.affine_grid`` in *normalised* coordinates with ``align_corners=False``
(``x_n = 2 x / W - 1``). Boxes and masks of structured tasks need pixel
matrices, so the neural thetas are converted with :func:`theta_to_pixel`;
both directions are exact, so ``warp(img, theta_to_pixel(theta))`` samples
the very same grid as ``grid_sample(img, affine_grid(theta))``.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .op_specs import GEOMETRIC_OPS, OP_SPECS, Magnitude, as_tensor

__all__ = [
    'to_3x3', 'pixel_to_normalised', 'affine_matrix', 'compose_affine',
    'invert_affine', 'transform_points', 'warp', 'warp_normalised',
    'theta_to_pixel', 'pixel_to_theta', 'identity_affine', 'IDENTITY_THETA'
]

#: The identity as a 2x3 matrix (pixel or normalised coordinates alike).
IDENTITY_THETA = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def to_3x3(m: Tensor) -> Tensor:
    """``(..., 2, 3)`` -> ``(..., 3, 3)`` homogeneous matrices."""
    bottom = m.new_tensor([0.0, 0.0, 1.0]).expand(*m.shape[:-2], 1, 3)
    return torch.cat([m, bottom], dim=-2)


def pixel_to_normalised(height: int, width: int,
                        like: Tensor) -> Tuple[Tensor, Tensor]:
    """3x3 matrix ``T`` from pixel coordinates to ``affine_grid``'s
    normalised coordinates with ``align_corners=False`` (``x_n = 2 x / W -
    1``), and its inverse ``T^-1``, with ``like``'s dtype/device."""
    to_norm = like.new_tensor([[2.0 / width, 0.0, -1.0],
                               [0.0, 2.0 / height, -1.0], [0.0, 0.0, 1.0]])
    from_norm = like.new_tensor([[width / 2.0, 0.0, width / 2.0],
                                 [0.0, height / 2.0, height / 2.0],
                                 [0.0, 0.0, 1.0]])
    return to_norm, from_norm


def affine_matrix(name: str, magnitude: Magnitude, sign: Optional[Tensor],
                  height: int, width: int) -> Tensor:
    """Pixel-space inverse-warp matrix of a geometric AutoAugment op.

    Reproduces torchvision's functional ``affine`` / ``rotate`` as called by
    ``torchvision.transforms.autoaugment._apply_op`` (Cubuk et al. 2019),
    with ``value = OP_SPECS[name].value(m, sign)``:

    * ShearX: shear angle ``degrees(atan(value))`` about ``center=[0, 0]``
      (the top-left corner): ``x_in = x_out + value * y_out``.
    * ShearY: likewise, ``y_in = y_out + value * x_out``.
    * TranslateX: translate by ``value * width`` pixels:
      ``x_in = x_out - value * width``. (torchvision truncates the pixel
      shift to an int; it is kept continuous here so it is differentiable.)
    * TranslateY: ``y_in = y_out - value * height``.
    * Rotate: ``value`` degrees about the image centre ``(W/2, H/2)``
      (counter-clockwise on screen for value > 0, as ``F.rotate``):
      ``p_in = R(value) (p_out - c) + c`` with
      ``R(a) = [[cos a, -sin a], [sin a, cos a]]``.

    Args:
        name: One of ShearX, ShearY, TranslateX, TranslateY, Rotate.
        magnitude: Normalised magnitude m in [0, 1] (0-dim tensor, may
            require grad, or ``(N,)``).
        sign: ``(N,)`` per-sample signs; if None, +1 and a ``(1, 2, 3)``
            matrix is returned.
        height: Image height H in pixels.
        width: Image width W in pixels.

    Returns:
        ``(N, 2, 3)`` matrices mapping output pixel coordinates to input
        pixel coordinates (see the module docstring for the coordinate
        convention), differentiable w.r.t. ``magnitude``.
    """
    spec = OP_SPECS.get(name)
    if spec is None or spec.kind != 'geometric':
        raise ValueError(f'{name!r} is not a geometric op; expected one of '
                         f'{", ".join(GEOMETRIC_OPS)}.')
    if isinstance(magnitude, Tensor) and magnitude.is_floating_point():
        ref = magnitude
    elif isinstance(sign, Tensor) and sign.is_floating_point():
        ref = sign
    else:
        ref = torch.empty(
            0, device=sign.device if isinstance(sign, Tensor) else None)
    m = as_tensor(magnitude, ref)
    s = as_tensor(1.0, ref).reshape(1) if sign is None else as_tensor(
        sign, ref).reshape(-1)
    value = spec.value(m, s).reshape(-1)
    value = value.expand(max(value.shape[0], s.shape[0]))
    one, zero = torch.ones_like(value), torch.zeros_like(value)

    if name == 'ShearX':
        # torchvision: shear = degrees(atan(v)) -> tan(radians(.)) = v again
        rows = ((one, value, zero), (zero, one, zero))
    elif name == 'ShearY':
        rows = ((one, zero, zero), (value, one, zero))
    elif name == 'TranslateX':
        rows = ((one, zero, -value * width), (zero, one, zero))
    elif name == 'TranslateY':
        rows = ((one, zero, zero), (zero, one, -value * height))
    else:  # Rotate
        angle = value * (math.pi / 180.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = width / 2.0, height / 2.0
        # p_in = R (p_out - c) + c  ->  translation c - R c
        rows = ((cos, -sin, cx - cos * cx + sin * cy),
                (sin, cos, cy - sin * cx - cos * cy))
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def compose_affine(a: Tensor, b: Tensor) -> Tensor:
    """The single inverse-warp matrix of "warp with ``a``, then with ``b``".

    With output->input matrices, ``warp(warp(x, a), b)(p) = x(a (b p))``, so
    the composition is the 3x3 product ``a @ b`` (note the order).

    Args:
        a: ``(N, 2, 3)`` or ``(2, 3)`` matrix of the first warp.
        b: ``(N, 2, 3)`` or ``(2, 3)`` matrix of the second warp.

    Returns:
        ``(..., 2, 3)`` matrix with ``warp(x, compose_affine(a, b))`` equal
        to ``warp(warp(x, a), b)`` up to interpolation and border effects.
    """
    return (to_3x3(a) @ to_3x3(b))[..., :2, :]


def invert_affine(m: Tensor) -> Tensor:
    """Invert ``(..., 2, 3)`` affine matrices.

    ``invert_affine(M)`` maps input pixel coordinates to output ones, i.e.
    it is the forward map that moves points (box corners, keypoints) the
    way the image content moves under ``warp(img, M)``.

    Args:
        m: ``(..., 2, 3)`` affine matrices.

    Returns:
        ``(..., 2, 3)`` inverse matrices ``[A^-1 | -A^-1 t]``.
    """
    a, b, tx = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    c, d, ty = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    # closed-form 2x2 inverse: cheap, batched, no linalg / solver call on GPU
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    rows = ((ia, ib, -(ia * tx + ib * ty)), (ic, id_, -(ic * tx + id_ * ty)))
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def transform_points(points: Tensor, m: Tensor) -> Tensor:
    """Apply ``(N, 2, 3)`` matrices to ``(N, K, 2)`` pixel (x, y) points.

    To move points of the input image into the output image of
    ``warp(img, M)``, pass ``invert_affine(M)``.

    Args:
        points: ``(N, K, 2)`` points in pixel coordinates.
        m: ``(N, 2, 3)`` (or broadcastable) matrices.

    Returns:
        ``(N, K, 2)`` transformed points.
    """
    return points @ m[..., :2].transpose(-1, -2) + m[..., 2].unsqueeze(-2)


def theta_to_pixel(theta: Tensor, height: int, width: int) -> Tensor:
    """Normalised ``affine_grid`` thetas -> pixel-space inverse warps.

    With ``p_n = T p`` (:func:`pixel_to_normalised`): ``p_in_n = theta
    p_out_n`` gives ``p_in = T^-1 theta T p_out``.

    Args:
        theta: ``(N, 2, 3)`` thetas (output -> input, normalised).
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        ``(N, 2, 3)`` output -> input matrices in pixel coordinates,
        differentiable w.r.t. ``theta``.
    """
    to_norm, from_norm = pixel_to_normalised(height, width, theta)
    return (from_norm @ to_3x3(theta) @ to_norm)[..., :2, :]


def pixel_to_theta(matrix: Tensor, height: int, width: int) -> Tensor:
    """Inverse of :func:`theta_to_pixel`: ``theta = T M T^-1``."""
    to_norm, from_norm = pixel_to_normalised(height, width, matrix)
    return (to_norm @ to_3x3(matrix) @ from_norm)[..., :2, :]


def identity_affine(num: int, like: Tensor) -> Tensor:
    """``(num, 2, 3)`` identity matrices with ``like``'s dtype/device."""
    return like.new_tensor(IDENTITY_THETA).expand(num, 2, 3).clone()


def warp(img: Tensor,
         matrix: Tensor,
         mode: str = 'bilinear',
         padding_mode: str = 'zeros') -> Tensor:
    """Warp images with pixel-space inverse-warp matrices.

    ``out(p) = img(matrix @ p)`` sampled with ``grid_sample`` at the output
    pixel centres, ``align_corners=False`` (the same sampling as
    torchvision's tensor ``affine`` / ``rotate``; zero padding = their
    default ``fill=None``).

    Args:
        img: ``(N, C, H, W)`` images (an integer tensor, e.g. a label map, is
            warped as float and rounded back; use ``mode='nearest'``).
        matrix: ``(N, 2, 3)``, ``(1, 2, 3)`` or ``(2, 3)`` output->input
            pixel-space matrices (see :func:`affine_matrix`).
        mode: ``grid_sample`` interpolation: 'bilinear' or 'nearest'.
        padding_mode: ``grid_sample`` padding: 'zeros', 'border' or
            'reflection'.

    Returns:
        The warped images, differentiable w.r.t. ``img`` and ``matrix``.
    """
    n, _, h, w = img.shape
    is_float = img.is_floating_point()
    src = img if is_float else img.float()
    matrix = matrix.to(dtype=src.dtype, device=src.device)
    if matrix.dim() == 2:
        matrix = matrix.unsqueeze(0)
    theta = pixel_to_theta(matrix, h, w).expand(n, 2, 3)
    out = warp_normalised(src, theta, mode, padding_mode)
    return out if is_float else out.round().to(img.dtype)


def warp_normalised(img: Tensor,
                    theta: Tensor,
                    mode: str = 'bilinear',
                    padding_mode: str = 'zeros') -> Tensor:
    """Warp float images with normalised ``affine_grid`` thetas.

    ``grid_sample(img, affine_grid(theta))`` with ``align_corners=False``:
    the resampling of :func:`warp` (which converts pixel matrices with
    :func:`pixel_to_theta` first) and of the neural backend's op nets, whose
    thetas are normalised already.

    Args:
        img: ``(N, C, H, W)`` float images.
        theta: ``(N, 2, 3)`` output->input matrices in normalised
            coordinates (cast to ``img``'s dtype).
        mode: ``grid_sample`` interpolation: 'bilinear' or 'nearest'.
        padding_mode: ``grid_sample`` padding: 'zeros', 'border' or
            'reflection'.

    Returns:
        The warped images, differentiable w.r.t. ``img`` and ``theta``.
    """
    theta = theta.to(img.dtype)
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    return F.grid_sample(
        img, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
