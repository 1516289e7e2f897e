"""Moving detection annotations with the TST augmenter's geometric warp.

TST (Shao et al., "Teaching What You Should Teach", IJCAI 2023) trains
detectors on augmented samples whose boxes "follow the geometric warp". The
augmenter (:meth:`LearnableAugmentPolicy.augment_with_geometry`) returns for
every sample one ``(2, 3)`` matrix ``M`` mapping output pixel coordinates to
input ones; annotations move with ``M^-1``. Colour ops and Cutout change no
annotation: a cut-out object keeps its box, as in AutoAugment for detection.
"""
import copy
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from mmtst.models.augmenters.affine import (invert_affine, transform_points,
                                            warp)

__all__ = ['warp_boxes', 'warp_bitmap_masks', 'warp_instances',
           'warp_data_samples']


def warp_boxes(boxes: Tensor, matrix: Tensor, img_shape: Sequence[int],
               min_size: float = 1.0) -> Tuple[Tensor, Tensor]:
    """Move ``(K, 4)`` x1y1x2y2 pixel boxes with an inverse-warp matrix.

    The four corners go through ``M^-1``; the new box is their enclosing
    box, clipped to the image. For a rotation or a shear the enclosing box
    is larger than the object (the usual convention of box-level
    augmentation, e.g. mmdet's ``Rotate``), never smaller.

    Args:
        boxes: ``(K, 4)`` boxes ``x1, y1, x2, y2`` in pixels.
        matrix: ``(2, 3)`` output -> input pixel matrix of the warp.
        img_shape: ``(h, w)`` of the valid image (boxes are clipped to it).
        min_size: Boxes narrower or lower than this many pixels after
            clipping are dropped. Defaults to 1.

    Returns:
        ``(warped, keep)``: the ``(K', 4)`` kept boxes (detached, finite)
        and the ``(K,)`` bool mask of the kept ones.
    """
    boxes = boxes.detach().float()
    if boxes.numel() == 0:
        return boxes.reshape(0, 4), boxes.new_zeros(0, dtype=torch.bool)
    forward = invert_affine(matrix.detach().float().reshape(1, 2, 3))
    x1, y1, x2, y2 = boxes.unbind(-1)
    corners = torch.stack([torch.stack([x1, y1], -1), torch.stack([x2, y1], -1),
                           torch.stack([x1, y2], -1), torch.stack([x2, y2], -1)],
                          dim=1)  # (K, 4, 2)
    moved = transform_points(corners.reshape(1, -1, 2), forward).reshape(-1, 4, 2)
    h, w = float(img_shape[0]), float(img_shape[1])
    # a singular matrix gives inf/nan corners: those boxes are dropped
    finite = torch.isfinite(moved).all(dim=(1, 2))
    moved = torch.nan_to_num(moved, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = moved.min(dim=1).values, moved.max(dim=1).values
    warped = torch.stack([lo[:, 0].clamp(0, w), lo[:, 1].clamp(0, h),
                          hi[:, 0].clamp(0, w), hi[:, 1].clamp(0, h)], dim=-1)
    keep = (finite & (warped[:, 2] - warped[:, 0] >= min_size)
            & (warped[:, 3] - warped[:, 1] >= min_size))
    return warped[keep], keep


def warp_bitmap_masks(masks: np.ndarray, matrix: Tensor) -> np.ndarray:
    """Warp ``(K, h, w)`` binary masks (nearest neighbour, zero fill)."""
    if masks.shape[0] == 0:
        return masks
    tensor = torch.from_numpy(np.ascontiguousarray(masks)).float()[:, None]
    out = warp(tensor, matrix.detach().float().cpu().reshape(1, 2, 3),
               mode='nearest')
    return (out[:, 0] > 0.5).numpy().astype(masks.dtype)


def _warp_masks(masks, matrix: Tensor):
    """Warp mmdet ``BitmapMasks`` (resampled) or ``PolygonMasks`` (points
    moved exactly)."""
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    if isinstance(masks, BitmapMasks):
        return BitmapMasks(warp_bitmap_masks(masks.masks, matrix),
                           masks.height, masks.width)
    if isinstance(masks, PolygonMasks):
        forward = invert_affine(matrix.detach().double().cpu().reshape(1, 2, 3))
        polygons = [[
            transform_points(torch.from_numpy(p.reshape(1, -1, 2)).double(),
                             forward).reshape(-1).numpy()
            for p in instance] for instance in masks.masks]
        return PolygonMasks(polygons, masks.height, masks.width)
    raise TypeError(f'cannot warp masks of type {type(masks).__name__}')


def warp_instances(instances, matrix: Tensor, img_shape: Sequence[int],
                   min_size: float = 1.0):
    """Warp an mmdet ``InstanceData`` of ground truth: boxes (a tensor or
    an mmdet box type, kept as such), masks if present, and drop the
    instances whose box degenerates (with every per-instance field)."""
    from mmdet.structures.bbox import BaseBoxes
    boxes = instances.bboxes
    raw = boxes.tensor if isinstance(boxes, BaseBoxes) else boxes
    warped, keep = warp_boxes(raw, matrix, img_shape, min_size)
    index = keep.nonzero().view(-1).to(raw.device)
    out = type(instances)(metainfo=instances.metainfo)
    for key, value in instances.items():
        if key == 'bboxes':
            warped = warped.to(raw)
            out.bboxes = type(boxes)(warped) if isinstance(
                boxes, BaseBoxes) else warped
        elif key == 'masks':
            out.masks = _warp_masks(value, matrix)[index.cpu().numpy()]
        elif isinstance(value, Tensor):
            out[key] = value[index.to(value.device)]
        elif isinstance(value, np.ndarray):
            out[key] = value[index.cpu().numpy()]
        else:
            out[key] = value[index.cpu().numpy()] if hasattr(
                value, '__getitem__') else value
    return out


def warp_data_samples(data_samples: Sequence, matrices: Optional[Tensor],
                      min_size: float = 1.0) -> list:
    """Copies of mmdet ``DetDataSample``s for an augmented batch.

    Each copy's ``gt_instances`` (and ``ignored_instances``) follow that
    sample's warp; its meta (``img_shape``, ``batch_input_shape`` ...) is
    unchanged, because the warp keeps the image size.

    Args:
        data_samples: The originals (left untouched).
        matrices: ``(N, 2, 3)`` output -> input pixel matrices, or None
            (no geometry: plain copies).
        min_size: See :func:`warp_boxes`.
    """
    copies = []
    for i, sample in enumerate(data_samples):
        new = copy.deepcopy(sample)
        if matrices is not None:
            shape = sample.metainfo.get('img_shape', sample.metainfo.get(
                'batch_input_shape'))
            for field in ('gt_instances', 'ignored_instances'):
                if field in new and 'bboxes' in new.get(field):
                    setattr(new, field, warp_instances(
                        new.get(field), matrices[i], shape, min_size))
        copies.append(new)
    return copies
