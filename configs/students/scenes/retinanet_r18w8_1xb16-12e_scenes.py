# Baseline of the scenes mini-benchmark: the RetinaNet student (mmdet
# ResNet-18 at 1/8 width) trained alone with mmdet's recipe.
_base_ = ['../../teachers/scenes/retinanet_r18w16_1xb16-12e_scenes.py']
model = {{_base_.retinanet_student}}
