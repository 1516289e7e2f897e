# Vanilla KD (Hinton et al., 2015) on CIFAR-100 with CRD's recipe, the one
# behind the KD numbers the DKD and TST papers quote:
# loss = 0.1 * CE + 0.9 * tau^2 * KL, tau 4 (RepDistiller
# scripts/run_cifar_distill.sh `-r 0.1 -a 0.9 -b 0`, `--kd_T 4`; mdistiller
# engine/cfg.py CFG.KD: TEMPERATURE 4, CE_WEIGHT 0.1, KD_WEIGHT 0.9);
# batch 64, SGD lr 0.05 momentum 0.9 wd 5e-4, 240 epochs, lr x0.1 at
# 150/180/210 (configs/cifar100/kd.yaml). MobileNetV2 / ShuffleNet students
# use lr 0.01 (RepDistiller train_student.py); their pair files say so.
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
    distill_loss=dict(type='KDLoss', tau=4.0, alpha=0.9, ce_weight=0.1))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)))
