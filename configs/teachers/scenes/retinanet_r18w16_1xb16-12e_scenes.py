# The RetinaNet teacher for the Fashion-MNIST scenes: mmdet ResNet-18 at
# 1/4 width (base_channels 16), trained alone with mmdet's recipe.
# python tools/train.py configs/teachers/scenes/retinanet_r18w16_1xb16-12e_scenes.py
_base_ = [
    '../../_base_/models/scenes_detectors.py',
    '../../_base_/datasets/fmnist_scenes.py',
    '../../_base_/schedules/scenes_12e.py', '../../_base_/det_runtime.py'
]
model = {{_base_.retinanet_teacher}}
