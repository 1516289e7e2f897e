"""Moving semantic label maps with the TST augmenter's geometric warp.

TST (Shao et al., "Teaching What You Should Teach", IJCAI 2023, Sec. 3.4)
trains segmenters on augmented images whose "label maps follow the
geometric warp". :meth:`LearnableAugmentPolicy.augment_with_geometry` gives
one ``(2, 3)`` matrix per sample mapping output pixels to input pixels; the
label map is resampled with the same matrix, nearest neighbour (labels are
categories, not intensities). Pixels whose source lies outside the image
get the ignore index: the augmented image shows padding there, which has
no true class. Colour ops and Cutout change no label.
"""
import copy
from typing import Optional, Sequence

import torch
from torch import Tensor

from mmtst.models.augmenters.affine import warp

__all__ = ['warp_label_map', 'warp_seg_data_samples']


def warp_label_map(labels: Tensor,
                   matrix: Tensor,
                   ignore_index: int = 255) -> Tensor:
    """Warp integer label maps like the image they annotate.

    Args:
        labels: ``(N, 1, H, W)``, ``(N, H, W)`` or ``(H, W)`` integer maps.
        matrix: ``(N, 2, 3)``, ``(1, 2, 3)`` or ``(2, 3)`` output -> input
            pixel matrices, as the augmenter returns them.
        ignore_index: Label of pixels coming from outside the image.
            Defaults to 255 (mmseg's).

    Returns:
        The warped maps, same shape and dtype, without gradient.
    """
    shape, dtype = labels.shape, labels.dtype
    maps = labels.reshape(-1, 1, *shape[-2:])
    # shift labels by one so that grid_sample's zero padding marks the
    # outside unambiguously (a real 0 is the background class)
    shifted = maps.detach().float() + 1.0
    out = warp(
        shifted, matrix.detach().float().to(shifted.device), mode='nearest')
    out = torch.where(out > 0.5, out - 1.0, torch.full_like(out, ignore_index))
    return out.round().to(dtype).reshape(shape)


def warp_seg_data_samples(data_samples: Sequence,
                          matrices: Optional[Tensor],
                          ignore_index: int = 255) -> list:
    """Copies of mmseg ``SegDataSample``s for an augmented batch, whose
    ``gt_sem_seg`` follows each sample's warp (meta unchanged: the warp
    keeps the image size). The originals are left untouched.

    Args:
        data_samples: The batch's samples (after the data preprocessor,
            so ``gt_sem_seg`` is padded like the input).
        matrices: ``(N, 2, 3)`` output -> input pixel matrices, or None
            (no geometry: plain copies).
        ignore_index: See :func:`warp_label_map`.
    """
    copies = []
    for i, sample in enumerate(data_samples):
        new = copy.deepcopy(sample)
        if matrices is not None and 'gt_sem_seg' in new:
            new.gt_sem_seg.data = warp_label_map(new.gt_sem_seg.data,
                                                 matrices[i], ignore_index)
        copies.append(new)
    return copies
