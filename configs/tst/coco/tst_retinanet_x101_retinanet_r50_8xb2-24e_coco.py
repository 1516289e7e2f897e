# TST (Shao et al., IJCAI 2023) on MS-COCO: RetinaNet-X101-64x4d (41.0 box
# AP) -> RetinaNet-R50 (37.4 alone). 24 epochs of SGD 0.01, augmenter
# phases after epochs 6 and 12 x 1 pass (augmenter SGD 0.01, grad clip 20),
# KL (tau 1) on the classification branch.
#
# Teacher weights (mmdet model zoo, retinanet_x101-64x4d_fpn_1x_coco):
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth
# The student's backbone starts from mmdet's ImageNet weights (its
# init_cfg), as in the paper; that download happens when training starts.
# the student's mmdet config (retinanet_r50_fpn_2x_coco.py) in its parts: model, data
# and runtime; then TST's schedule and mmtst's runner and hooks
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py',
    '../../_base_/schedules/tst_coco_24e.py', '../../_base_/mmtst_runtime.py'
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

# mmdet's: the lr is written for 16 images per step (8 GPUs x 2)
auto_scale_lr = dict(enable=False, base_batch_size=16)
# mmengine's CheckpointHook, deleting old checkpoints only after the new
# one is written
default_hooks = dict(checkpoint=dict(type='mmtst.SafeCheckpointHook'))
