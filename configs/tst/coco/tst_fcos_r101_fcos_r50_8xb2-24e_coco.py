# TST on MS-COCO: FCOS-R101 (caffe, GN head, multi-scale 2x: 40.8 box AP)
# -> FCOS-R50 (caffe, GN head). KL on the classification and the
# centerness branches; student grad-norm clip 35 (mmdet's FCOS recipe).
# 24 epochs of SGD 0.01, augmenter after epochs 6 and 12 (clip 20).
# Teacher and student normalise with the caffe mean/std (BGR); the
# distiller hands each model raw pixels and applies its own normalisation.
#
# Teacher weights (mmdet model zoo, fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco):
#   wget -P checkpoints https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth
# the native config, then mmtst's runner and hooks
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../../_base_/mmtst_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')

model = dict(
    _delete_=True,
    type='mmtst.DetectionDistiller',
    teacher='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py',
    teacher_ckpt='checkpoints/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_'
    '2x_coco-511424d6.pth',
    student={{_base_.model}},
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=128),
    kl_weight=1.0,
    centerness_kl_weight=1.0,
    tau=1.0)

max_epochs = 24
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=1,
    phases_at_epochs=[6, 12],
    passes_per_phase=1)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
        paramwise_cfg=dict(bias_lr_mult=2., bias_decay_mult=0.),
        clip_grad=dict(max_norm=35, norm_type=2)),
    augmenter=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        clip_grad=dict(max_norm=20)))
param_scheduler = dict(
    _delete_=True,
    architecture=[
        dict(
            type='ConstantLR',
            factor=1.0 / 3,
            by_epoch=False,
            begin=0,
            end=500),
        dict(
            type='MultiStepLR',
            begin=0,
            end=max_epochs,
            by_epoch=True,
            milestones=[16, 22],
            gamma=0.1)
    ],
    augmenter=[])
# mmengine's CheckpointHook, deleting old checkpoints only after the new
# one is written
default_hooks = dict(checkpoint=dict(type='mmtst.SafeCheckpointHook'))
