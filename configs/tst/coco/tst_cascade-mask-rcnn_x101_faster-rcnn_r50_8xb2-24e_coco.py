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
# the student's mmdet config (faster-rcnn_r50_fpn_2x_coco.py) in its parts: model, data
# and runtime; then TST's schedule and mmtst's runner and hooks
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py',
    '../../_base_/schedules/tst_coco_24e.py', '../../_base_/mmtst_runtime.py'
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

# mmdet's: the lr is written for 16 images per step (8 GPUs x 2)
auto_scale_lr = dict(enable=False, base_batch_size=16)
# mmengine's CheckpointHook, deleting old checkpoints only after the new
# one is written
default_hooks = dict(checkpoint=dict(type='mmtst.SafeCheckpointHook'))
