# TST (Shao et al., IJCAI 2023) on MS-COCO: RetinaNet-X101-64x4d (41.0 box
# AP) -> RetinaNet-R50 (37.4 alone). 24 epochs of SGD 0.01, augmenter
# phases after epochs 6 and 12 x 1 pass (augmenter SGD 0.01, grad clip 20),
# KL (tau 1) on the classification branch.
#
# Teacher weights (mmdet model zoo, retinanet_x101-64x4d_fpn_1x_coco):
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth
# The student's backbone starts from mmdet's ImageNet weights (its
# init_cfg), as in the paper; that download happens when training starts.
# the native config, then mmtst's runner and hooks
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py',
    '../../_base_/mmtst_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')

model = dict(
    _delete_=True,
    type='mmtst.DetectionDistiller',
    teacher='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
    teacher_ckpt='checkpoints/'
    'retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth',
    student={{_base_.model}},
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=128),
    kl_weight=1.0,
    tau=1.0)

max_epochs = 24
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=1,
    augmenter_epochs=[6, 12],
    augmenter_passes=1)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0001)),
    augmenter=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        clip_grad=dict(max_norm=20)))
# the augmenter's lr is reset at each phase and decayed by ALRS
param_scheduler = dict(
    _delete_=True,
    architecture=[
        dict(
            type='LinearLR',
            start_factor=0.001,
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
