# Baseline of the scenes segmentation mini-benchmark: the PSPNet student
# (ResNetV1c-18 at 1/8 width) trained alone.
_base_ = ['../../teachers/scenes_seg/pspnet_r18w16_1xb8-4k_scenes-seg.py']
model = {{_base_.pspnet_student}}
