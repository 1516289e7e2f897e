# DKD ("Decoupled Knowledge Distillation", Zhao et al., CVPR 2022) on
# CIFAR-100 with the authors' settings (megvii-research/mdistiller):
# CE 1 + w * (alpha TCKD + beta NCKD) * tau^2 with alpha 1, tau 4 and a
# linear warm-up of w over 20 epochs (engine/cfg.py CFG.DKD: CE_WEIGHT 1,
# ALPHA 1, BETA 8, T 4, WARMUP 20); beta and, for MobileNetV2 / ShuffleNetV1
# students, lr 0.01 are set per pair (configs/cifar100/dkd/*.yaml).
# Batch 64, SGD lr 0.05 momentum 0.9 wd 5e-4, 240 epochs, lr x0.1 at
# 150/180/210.
_base_ = [
    '../../_base_/models/cifar100_classifiers.py',
    '../../_base_/datasets/cifar100.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(
        type='DKDLoss', tau=4.0, alpha=1.0, beta=8.0, ce_weight=1.0,
        warmup=20))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)))
