"""What differs per task: how annotations follow TST's augmenter."""
from .boxes import (MIN_VISIBLE_AREA_RATIO, boxes_from_warped_masks,
                    mask_boxes, warp_bitmap_masks, warp_boxes,
                    warp_data_samples, warp_instances)
from .label_maps import warp_label_map, warp_seg_data_samples

__all__ = [
    'warp_boxes', 'warp_bitmap_masks', 'mask_boxes', 'boxes_from_warped_masks',
    'warp_instances', 'warp_data_samples', 'MIN_VISIBLE_AREA_RATIO',
    'warp_label_map', 'warp_seg_data_samples'
]
