# The Faster R-CNN teacher for the Fashion-MNIST scenes (ResNet-18, 1/4
# width), trained alone with mmdet's recipe.
_base_ = [
    '../../_base_/models/scenes_detectors.py',
    '../../_base_/datasets/fmnist_scenes.py',
    '../../_base_/schedules/scenes_12e.py', '../../_base_/det_runtime.py'
]
model = {{_base_.faster_rcnn_teacher}}
