# Baseline of the scenes segmentation mini-benchmark: the PSPNet student
# (ResNetV1c-18 at 1/8 width) trained alone.
_base_ = ['./pspnet_r18w16_scenes_seg.py']
model = {{_base_.pspnet_student}}
