# Vanilla KD on ImageNet-1k with the settings behind the DKD paper's KD
# numbers (megvii-research/mdistiller configs/imagenet/r34_r18/kd.yaml):
# loss = 0.5 * CE + 0.5 * tau^2 * KL with tau 1; batch 512 (8 GPUs x 64);
# SGD lr 0.2, momentum 0.9, wd 1e-4; 100 epochs, lr x0.1 after 30/60/90.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64.py',
    '../../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
# The distiller keeps raw pixels; teacher and student (mmpretrain's configs,
# named by path) normalise their own inputs (see
# configs/tst/imagenet/_base_tst_in1k.py).
data_preprocessor = None
train_dataloader = dict(batch_size=64)  # per GPU, x 8 GPUs

model = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='KDLoss', tau=1.0, alpha=0.5, ce_weight=0.5))
optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4)))
param_scheduler = [
    dict(
        type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
