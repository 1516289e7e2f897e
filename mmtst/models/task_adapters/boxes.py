"""Moving detection annotations with the TST augmenter's geometric warp.

TST (Shao et al., "Teaching What You Should Teach", IJCAI 2023) trains
detectors on augmented samples whose boxes "follow the geometric warp". The
augmenter (:meth:`LearnableAugmentPolicy.augment_with_geometry`) returns for
every sample one ``(2, 3)`` matrix ``M`` mapping output pixel coordinates to
input ones; annotations move with ``M^-1``. Colour ops and Cutout change no
annotation: a cut-out object keeps its box, as in AutoAugment for detection.

A box must still hold its object after the warp. With instance masks the
box is rebuilt from the warped mask (its tight box), so an object that left
the frame is dropped and a rotated object gets a tight box, not the loose
enclosing box of its rotated corners (as mmyolo's ``YOLOv5RandomAffine``
with ``use_mask_refine``). Without masks only the box is known: an instance
is dropped when too little of its warped box stays in the image
(``min_visible_area_ratio``, the area filter of mmdet 2.x's
``RandomAffine``), since the clipped remainder may hold none of the object.
"""
import copy
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from mmtst.models.augmenters.affine import (invert_affine, transform_points,
                                            warp)

__all__ = [
    'warp_boxes', 'warp_bitmap_masks', 'mask_boxes', 'boxes_from_warped_masks',
    'warp_instances', 'warp_data_samples', 'MIN_VISIBLE_AREA_RATIO'
]

# mmdet 2.x RandomAffine's ``min_area_ratio`` (YOLOX and mmyolo use 0.1).
# On Fashion-MNIST scenes warped by all five geometric ops at magnitude 0.9,
# kept boxes holding no object pixel fall from 2.3% (no filter) to 0.8% at
# 0.1 and 0.1% at 0.2, for 2% and 8% of the instances dropped.
MIN_VISIBLE_AREA_RATIO = 0.2


def warp_boxes(
    boxes: Tensor,
    matrix: Tensor,
    img_shape: Sequence[int],
    min_size: float = 1.0,
    min_visible_area_ratio: float = MIN_VISIBLE_AREA_RATIO
) -> Tuple[Tensor, Tensor]:
    """Move ``(K, 4)`` x1y1x2y2 pixel boxes with an inverse-warp matrix.

    The four corners go through ``M^-1``; the new box is their enclosing
    box, clipped to the image. For a rotation or a shear the enclosing box
    is larger than the object (the usual convention of box-level
    augmentation, e.g. mmdet's ``Rotate``), never smaller: with instance
    masks, :func:`warp_instances` takes the masks' tight boxes instead.

    Args:
        boxes: ``(K, 4)`` boxes ``x1, y1, x2, y2`` in pixels.
        matrix: ``(2, 3)`` output -> input pixel matrix of the warp.
        img_shape: ``(h, w)`` of the valid image (boxes are clipped to it).
        min_size: Boxes narrower or lower than this many pixels after
            clipping are dropped. Defaults to 1.
        min_visible_area_ratio: Boxes whose clipped area is below this
            fraction of their warped, unclipped area are dropped: their
            object has (mostly) left the image, and a clipped box at the
            border may then hold none of it. 0 keeps every box.
            Defaults to :data:`MIN_VISIBLE_AREA_RATIO` (0.2, mmdet 2.x
            ``RandomAffine``'s ``min_area_ratio``).

    Returns:
        ``(warped, keep)``: the ``(K', 4)`` kept boxes (detached, finite)
        and the ``(K,)`` bool mask of the kept ones.
    """
    boxes = boxes.detach().float()
    if boxes.numel() == 0:
        return boxes.reshape(0, 4), boxes.new_zeros(0, dtype=torch.bool)
    forward = invert_affine(matrix.detach().float().reshape(1, 2, 3))
    x1, y1, x2, y2 = boxes.unbind(-1)
    corners = torch.stack([
        torch.stack([x1, y1], -1),
        torch.stack([x2, y1], -1),
        torch.stack([x1, y2], -1),
        torch.stack([x2, y2], -1)
    ],
                          dim=1)  # (K, 4, 2)
    moved = transform_points(corners.reshape(1, -1, 2),
                             forward).reshape(-1, 4, 2)
    h, w = float(img_shape[0]), float(img_shape[1])
    # a singular matrix gives inf/nan corners: those boxes are dropped
    finite = torch.isfinite(moved).all(dim=(1, 2))
    moved = torch.nan_to_num(moved, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = moved.min(dim=1).values, moved.max(dim=1).values
    unclipped = (hi - lo).prod(dim=-1)
    warped = torch.stack([
        lo[:, 0].clamp(0, w), lo[:, 1].clamp(0, h), hi[:, 0].clamp(0, w),
        hi[:, 1].clamp(0, h)
    ],
                         dim=-1)
    sides = warped[:, 2:] - warped[:, :2]
    keep = (
        finite & (sides >= min_size).all(dim=-1)
        & (sides.prod(dim=-1) >= min_visible_area_ratio * unclipped))
    return warped[keep], keep


def warp_bitmap_masks(masks: np.ndarray, matrix: Tensor) -> np.ndarray:
    """Warp ``(K, h, w)`` binary masks (nearest neighbour, zero fill)."""
    if masks.shape[0] == 0:
        return masks
    tensor = torch.from_numpy(np.ascontiguousarray(masks)).float()[:, None]
    out = warp(
        tensor, matrix.detach().float().cpu().reshape(1, 2, 3), mode='nearest')
    return (out[:, 0] > 0.5).numpy().astype(masks.dtype)


def mask_boxes(masks: np.ndarray,
               img_shape: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Tight x1y1x2y2 boxes of ``(K, h, w)`` binary masks inside the image.

    A box spans the pixels' edges (pixel ``j`` covers ``[j, j + 1]``, the
    convention of :mod:`mmtst.models.augmenters.affine`), so a one-pixel
    mask has a 1 x 1 box. Pixels beyond ``img_shape`` (the batch padding)
    do not count: boxes are clipped to the image there as well.

    Args:
        masks: ``(K, h, w)`` binary masks.
        img_shape: ``(h, w)`` of the valid image.

    Returns:
        ``(boxes, areas)``: ``(K, 4)`` float32 boxes (zeros for a mask
        with no pixel in the image) and the ``(K,)`` pixel counts there.
    """
    visible = masks[:, :int(img_shape[0]), :int(img_shape[1])] > 0
    rows, cols = visible.any(axis=2), visible.any(axis=1)
    areas = visible.sum(axis=(1, 2))
    # argmax finds the first True; on the reversed axis, the last one
    boxes = np.stack([
        cols.argmax(1),
        rows.argmax(1), cols.shape[1] - cols[:, ::-1].argmax(1),
        rows.shape[1] - rows[:, ::-1].argmax(1)
    ],
                     axis=-1).astype(np.float32).reshape(-1, 4)
    boxes[areas == 0] = 0.0
    return boxes, areas


def _warp_masks(masks, matrix: Tensor):
    """Warp mmdet ``BitmapMasks`` (resampled) or ``PolygonMasks`` (points
    moved exactly)."""
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    if isinstance(masks, BitmapMasks):
        return BitmapMasks(
            warp_bitmap_masks(masks.masks, matrix), masks.height, masks.width)
    if isinstance(masks, PolygonMasks):
        forward = invert_affine(matrix.detach().double().cpu().reshape(
            1, 2, 3))
        polygons = [[
            transform_points(
                torch.from_numpy(p.reshape(1, -1, 2)).double(),
                forward).reshape(-1).numpy() for p in instance
        ] for instance in masks.masks]
        return PolygonMasks(polygons, masks.height, masks.width)
    raise TypeError(f'cannot warp masks of type {type(masks).__name__}')


def _bitmaps(masks) -> np.ndarray:
    """``(K, h, w)`` bitmaps of mmdet masks (polygons rasterised)."""
    from mmdet.structures.mask import BitmapMasks
    return masks.masks if isinstance(masks,
                                     BitmapMasks) else masks.to_ndarray()


def boxes_from_warped_masks(masks,
                            matrix: Tensor,
                            img_shape: Sequence[int],
                            min_size: float = 1.0):
    """Warp instance masks and take each box from its warped mask.

    The enclosing box of a warped box holds no object pixel once the
    object has left the frame, and is loose after a rotation; the tight box
    of the warped mask is exact. An instance is dropped when its warped
    mask has no pixel in the image or its box is below ``min_size``. A
    partly visible object keeps its (tight) box: a truncated object is a
    valid annotation, as in COCO, so no visible-area filter applies here.

    Returns:
        ``(warped_masks, boxes, keep)``: all ``K`` warped masks (same
        mmdet type), the ``(K', 4)`` kept boxes and the ``(K,)`` bool mask.
    """
    warped = _warp_masks(masks, matrix)
    boxes, visible = mask_boxes(_bitmaps(warped), img_shape)
    sides = boxes[:, 2:] - boxes[:, :2]
    keep = (visible > 0) & (sides >= min_size).all(axis=-1)
    return warped, torch.from_numpy(boxes[keep]), torch.from_numpy(keep)


def warp_instances(instances,
                   matrix: Tensor,
                   img_shape: Sequence[int],
                   min_size: float = 1.0,
                   min_visible_area_ratio: float = MIN_VISIBLE_AREA_RATIO):
    """Warp an mmdet ``InstanceData`` of ground truth and drop the
    instances that left the image, with every per-instance field.

    With ``masks`` each box is rebuilt from its warped mask
    (:func:`boxes_from_warped_masks`); without, the box's corners are moved
    and boxes mostly outside the image dropped (:func:`warp_boxes`, the
    only user of ``min_visible_area_ratio``). Boxes keep their type (a
    tensor or an mmdet box type).
    """
    from mmdet.structures.bbox import BaseBoxes
    boxes = instances.bboxes
    raw = boxes.tensor if isinstance(boxes, BaseBoxes) else boxes
    warped_masks = None
    if 'masks' in instances:
        warped_masks, warped, keep = boxes_from_warped_masks(
            instances.masks, matrix, img_shape, min_size)
    else:
        warped, keep = warp_boxes(raw, matrix, img_shape, min_size,
                                  min_visible_area_ratio)
    index = keep.nonzero().view(-1).to(raw.device)
    out = type(instances)(metainfo=instances.metainfo)
    for key, value in instances.items():
        if key == 'bboxes':
            warped = warped.to(raw)
            out.bboxes = type(boxes)(warped) if isinstance(
                boxes, BaseBoxes) else warped
        elif key == 'masks':
            out.masks = warped_masks[index.cpu().numpy()]
        elif isinstance(value, Tensor):
            out[key] = value[index.to(value.device)]
        elif isinstance(value, np.ndarray):
            out[key] = value[index.cpu().numpy()]
        else:
            out[key] = value[index.cpu().numpy()] if hasattr(
                value, '__getitem__') else value
    return out


def warp_data_samples(
        data_samples: Sequence,
        matrices: Optional[Tensor],
        min_size: float = 1.0,
        min_visible_area_ratio: float = MIN_VISIBLE_AREA_RATIO) -> list:
    """Copies of mmdet ``DetDataSample``s for an augmented batch.

    Each copy's ``gt_instances`` (and ``ignored_instances``) follow that
    sample's warp (:func:`warp_instances`); its meta (``img_shape``,
    ``batch_input_shape`` ...) is unchanged, because the warp keeps the
    image size. An image may lose every instance: it then trains as
    background, as an image without annotations does.

    Args:
        data_samples: The originals (left untouched).
        matrices: ``(N, 2, 3)`` output -> input pixel matrices, or None
            (no geometry: plain copies).
        min_size: See :func:`warp_boxes`.
        min_visible_area_ratio: See :func:`warp_boxes`.
    """
    copies = []
    for i, sample in enumerate(data_samples):
        new = copy.deepcopy(sample)
        if matrices is not None:
            shape = sample.metainfo.get(
                'img_shape', sample.metainfo.get('batch_input_shape'))
            for field in ('gt_instances', 'ignored_instances'):
                if field in new and 'bboxes' in new.get(field):
                    setattr(
                        new, field,
                        warp_instances(
                            new.get(field), matrices[i], shape, min_size,
                            min_visible_area_ratio))
        copies.append(new)
    return copies
