# Baseline of the scenes mini-benchmark: the RetinaNet student (mmdet
# ResNet-18 at 1/8 width) trained alone with mmdet's recipe.
_base_ = ['./retinanet_r18w16_scenes.py']
model = {{_base_.retinanet_student}}
