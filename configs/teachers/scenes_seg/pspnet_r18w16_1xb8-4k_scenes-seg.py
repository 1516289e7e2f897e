# The teacher of the scenes segmentation pair: a tiny PSPNet (ResNetV1c-18
# at 1/4 width) trained on the Fashion-MNIST scenes, evaluated by mIoU.
#   python tools/train.py configs/teachers/scenes_seg/pspnet_r18w16_1xb8-4k_scenes-seg.py
_base_ = [
    '../../_base_/models/scenes_segmenters.py',
    '../../_base_/datasets/fmnist_scenes_seg.py', '../../_base_/seg_runtime.py'
]
model = {{_base_.pspnet_teacher}}
max_iters = 4000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
