"""Pixel-level helpers that both backends of the TST augmenter share.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2) applies AutoAugment's ops (Cubuk et al., CVPR
2019) either exactly (:mod:`.analytic_ops`) or through fitted imitation nets
(:mod:`.op_nets`, fitted against the real ops in :mod:`.op_net_fitting`).
Both need the same grey image (Color, Contrast, the colour nets' inputs) and
the same uint8 quantisation of a [0, 1] image (Posterize, Equalize, the
uint8-only reference ops); they are defined once here.
"""
from torch import Tensor

__all__ = ['GREY_WEIGHTS', 'to_grey', 'to_uint8_levels']

# ITU-R 601-2 luma weights, as in torchvision's ``rgb_to_grayscale`` (and
# PIL's ``convert('L')``), so Color / Contrast match the reference ops; the
# neural op nets use the same grey image.
GREY_WEIGHTS = (0.2989, 0.587, 0.114)


def to_grey(img: Tensor) -> Tensor:
    """Luma of an RGB image as ``(N, 1, H, W)``; a 1-channel image as is."""
    if img.shape[1] == 1:
        return img
    r, g, b = img.unbind(dim=1)
    grey = GREY_WEIGHTS[0] * r + GREY_WEIGHTS[1] * g + GREY_WEIGHTS[2] * b
    return grey.unsqueeze(1)


def to_uint8_levels(img: Tensor) -> Tensor:
    """Quantise a [0, 1] image onto the 256 uint8 levels (as integers in a
    float tensor). Rounding makes images that are already uint8-valued
    (``k / 255``) map back onto exactly their ``k``."""
    return (img.detach() * 255.0).round().clamp(0.0, 255.0)
