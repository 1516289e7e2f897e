# TST on MS-COCO: Cascade Mask R-CNN-X101-64x4d (45.6 box AP) -> Faster
# R-CNN-R50 (38.4 alone). KL on the box classifier, on the RoIs the student
# sampled (the teacher's three cascade stages are averaged, as its
# inference does). 24 epochs of SGD 0.01, augmenter after epochs 6 and 12.
#
# The teacher's own losses (part of the augmenter objective) include its
# mask head, so the training pipeline loads the instance masks (as
# polygons: they follow the augmenter's warp exactly); the student ignores
# them.
#
# Teacher weights (mmdet model zoo, cascade-mask-rcnn_x101-64x4d_fpn_20e_coco):
#   wget -P checkpoints https://download.openmmlab.com/mmdetection/v2.0/cascade_rcnn/cascade_mask_rcnn_x101_64x4d_fpn_20e_coco/cascade_mask_rcnn_x101_64x4d_fpn_20e_coco_20200512_161033-bdb5126a.pth
# the native config, then mmtst's runner and hooks
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
    '../../_base_/mmtst_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')

model = dict(
    _delete_=True,
    type='mmtst.DetectionDistiller',
    teacher='mmdet::cascade_rcnn/cascade-mask-rcnn_x101-64x4d_fpn_20e_coco.py',
    teacher_ckpt='checkpoints/cascade_mask_rcnn_x101_64x4d_fpn_20e_coco_'
    '20200512_161033-bdb5126a.pth',
    student={{_base_.model}},
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=128),
    kl_weight=1.0,
    tau=1.0)

train_pipeline = [
    dict(type='mmtst.LoadImageOrReport', backend_args={{_base_.backend_args}}),
    dict(
        type='LoadAnnotations',
        with_bbox=True,
        with_mask=True,
        poly2mask=False),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

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
