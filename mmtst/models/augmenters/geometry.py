"""Conversions between the two affine conventions of the TST augmenter.

The analytic backend (:mod:`.analytic_ops`) writes every geometric op as an
inverse-warp matrix in *pixel* coordinates (origin at the top-left corner of
the image, x right, y down; ``p_in = M p_out``). The neural backend's op nets
("priori bias" of TST, Shao et al., IJCAI 2023, Sec. 3.2) predict a
``theta`` for ``F.affine_grid`` in *normalised* coordinates with
``align_corners=False`` (``x_n = 2 x / W - 1``). Boxes and masks of
structured tasks need pixel matrices, so the neural thetas are converted
here; both directions are exact, so ``warp(img, theta_to_pixel(theta))``
samples the very same grid as ``grid_sample(img, affine_grid(theta))``.
"""
from torch import Tensor

from .analytic_ops import _to_3x3

__all__ = ['normaliser', 'theta_to_pixel', 'pixel_to_theta', 'identity_affine']


def normaliser(height: int, width: int, like: Tensor) -> Tensor:
    """3x3 matrix ``T`` taking pixel coordinates to ``affine_grid``'s
    normalised ones (``align_corners=False``): ``x_n = 2 x / W - 1``."""
    return like.new_tensor([[2.0 / width, 0.0, -1.0],
                            [0.0, 2.0 / height, -1.0],
                            [0.0, 0.0, 1.0]])


def _denormaliser(height: int, width: int, like: Tensor) -> Tensor:
    """``T^-1``: normalised coordinates back to pixel coordinates."""
    return like.new_tensor([[width / 2.0, 0.0, width / 2.0],
                            [0.0, height / 2.0, height / 2.0],
                            [0.0, 0.0, 1.0]])


def theta_to_pixel(theta: Tensor, height: int, width: int) -> Tensor:
    """Normalised ``affine_grid`` thetas -> pixel-space inverse warps.

    With ``p_n = T p``: ``p_in_n = theta p_out_n`` gives
    ``p_in = T^-1 theta T p_out``.

    Args:
        theta: ``(N, 2, 3)`` thetas (output -> input, normalised).
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        ``(N, 2, 3)`` output -> input matrices in pixel coordinates,
        differentiable w.r.t. ``theta``.
    """
    t = normaliser(height, width, theta)
    return (_denormaliser(height, width, theta) @ _to_3x3(theta) @ t)[..., :2, :]


def pixel_to_theta(matrix: Tensor, height: int, width: int) -> Tensor:
    """Inverse of :func:`theta_to_pixel`: ``theta = T M T^-1``."""
    t = normaliser(height, width, matrix)
    return (t @ _to_3x3(matrix) @ _denormaliser(height, width, matrix))[..., :2, :]


def identity_affine(num: int, like: Tensor) -> Tensor:
    """``(num, 2, 3)`` identity matrices with ``like``'s dtype/device."""
    return like.new_tensor([[1.0, 0.0, 0.0],
                            [0.0, 1.0, 0.0]]).expand(num, 2, 3).clone()
