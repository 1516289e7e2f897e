"""Batch transforms that make the views teacher and student see.

FunMatch ("Knowledge distillation: A good teacher is patient and
consistent", Beyer et al., CVPR 2022) applies the augmentation to a batch
inside the model, so one random view can be shared by teacher and student
(consistent teaching) or drawn twice (independent noise).
"""
import math
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from mmtst.registry import MODELS


def _size(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'size must be an int or (H, W), got {size}')
    return size


@MODELS.register_module()
class RandomResizedCropFlip:
    """Inception-style crop (random area and aspect ratio, resized to
    ``size``) and a random horizontal flip, drawn per image.

    The crop box follows torchvision's ``RandomResizedCrop`` sampling
    (10 attempts, then the centre crop of the clamped ratio); resampling is
    one batched ``grid_sample`` (bilinear).

    Args:
        size: Output (H, W) or side.
        scale: Range of the crop's area fraction. Defaults to (0.08, 1.0).
        ratio: Range of the aspect ratio. Defaults to (3/4, 4/3).
        flip_prob: Horizontal flip probability. Defaults to 0.5.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5) -> None:
        self.size = _size(size)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(
                f'scale must satisfy 0 < lo <= hi <= 1, got {scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < lo <= hi, got {ratio}')
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.flip_prob = flip_prob

    def boxes(self,
              num: int,
              height: int,
              width: int,
              device=None,
              attempts: int = 10) -> Tensor:
        """(N, 4) crop boxes (x0, y0, w, h) in pixels, all images at once."""
        area = height * width
        scale = torch.empty(num, attempts).uniform_(*self.scale)
        log_ratio = torch.empty(num, attempts).uniform_(
            math.log(self.ratio[0]), math.log(self.ratio[1]))
        aspect = log_ratio.exp()
        w = (area * scale * aspect).sqrt().round()
        h = (area * scale / aspect).sqrt().round()
        fits = (w > 0) & (h > 0) & (w <= width) & (h <= height)
        # the first attempt that fits, as torchvision's loop takes
        first = torch.where(
            fits.any(1),
            fits.float().argmax(1), torch.full((num, ), -1))
        rows = torch.arange(num)
        w, h = w[rows, first.clamp_min(0)], h[rows, first.clamp_min(0)]
        # no attempt fits: torchvision's centre crop of the clamped ratio
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            fw, fh = width, round(width / self.ratio[0])
        elif in_ratio > self.ratio[1]:
            fw, fh = round(height * self.ratio[1]), height
        else:
            fw, fh = width, height
        failed = first < 0
        w = torch.where(failed, torch.tensor(float(fw)), w)
        h = torch.where(failed, torch.tensor(float(fh)), h)
        x0 = (torch.rand(num) * (width - w + 1)).floor()
        y0 = (torch.rand(num) * (height - h + 1)).floor()
        x0 = torch.where(failed, (width - w) // 2, x0)
        y0 = torch.where(failed, (height - h) // 2, y0)
        return torch.stack([x0, y0, w, h], 1).to(device)

    def __call__(self, pixels: Tensor) -> Tensor:
        num, _, height, width = pixels.shape
        boxes = self.boxes(num, height, width, pixels.device)
        flips = torch.rand(num, device=pixels.device) < self.flip_prob
        return crop_resize(pixels, boxes, self.size, flips)


@MODELS.register_module()
class CentreResize:
    """The fixed view: a centre crop of ``crop_fraction`` of the shorter
    side, resized to ``size`` (FunMatch's "fixed teacher" baseline).

    Args:
        size: Output (H, W) or side.
        crop_fraction: Side of the centre crop relative to the shorter
            side. Defaults to 1.0 (the whole image).
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 crop_fraction: float = 1.0) -> None:
        self.size = _size(size)
        if not 0 < crop_fraction <= 1:
            raise ValueError(
                f'crop_fraction must be in (0, 1], got {crop_fraction}')
        self.crop_fraction = crop_fraction

    def __call__(self, pixels: Tensor) -> Tensor:
        num, _, height, width = pixels.shape
        side = self.crop_fraction * min(height, width)
        box = torch.tensor([(width - side) / 2,
                            (height - side) / 2, side, side],
                           device=pixels.device)
        return crop_resize(pixels, box.expand(num, 4), self.size)


def crop_resize(pixels: Tensor,
                boxes: Tensor,
                size: Tuple[int, int],
                flips: Tensor = None) -> Tensor:
    """Crop each image to its (x0, y0, w, h) box and resize to ``size``,
    mirrored where ``flips`` is True, in one ``grid_sample``."""
    num, _, height, width = pixels.shape
    boxes = boxes.to(pixels.dtype)
    x0, y0, w, h = boxes.unbind(1)
    # affine_grid maps output [-1, 1] to input [-1, 1] (align_corners=False)
    sx = w / width
    sy = h / height
    tx = (2 * x0 + w) / width - 1
    ty = (2 * y0 + h) / height - 1
    if flips is not None:
        sx = torch.where(flips, -sx, sx)
    theta = torch.zeros(num, 2, 3, dtype=pixels.dtype, device=pixels.device)
    theta[:, 0, 0], theta[:, 0, 2] = sx, tx
    theta[:, 1, 1], theta[:, 1, 2] = sy, ty
    grid = F.affine_grid(
        theta, (num, pixels.size(1), *size), align_corners=False)
    return F.grid_sample(
        pixels,
        grid,
        mode='bilinear',
        padding_mode='border',
        align_corners=False)


@MODELS.register_module()
class BatchMixup:
    """FunMatch's mixup: one coefficient a ~ Beta(alpha, alpha) per batch,
    a = max(a, 1 - a), each image mixed with its neighbour (a roll by one):
    x' = a * x + (1 - a) * roll(x, 1).

    Args:
        alpha: Beta parameter. Defaults to 1.0 (uniform).
        prob: Probability of mixing a batch. Defaults to 1.0 (the paper).
    """

    def __init__(self, alpha: float = 1.0, prob: float = 1.0) -> None:
        if alpha <= 0:
            raise ValueError(f'alpha must be > 0, got {alpha}')
        self.beta = torch.distributions.Beta(alpha, alpha)
        self.prob = prob

    def coefficient(self) -> float:
        if torch.rand(1).item() >= self.prob:
            return 1.0
        a = self.beta.sample().item()
        return max(a, 1.0 - a)

    @staticmethod
    def mix(x: Tensor, a: float) -> Tensor:
        return a * x + (1.0 - a) * x.roll(1, dims=0)
