# DKD WRN-40-2 -> ShuffleNetV1 on CIFAR-100.
# mdistiller configs/cifar100/dkd/wrn40_2_shuv1.yaml (no BETA: the default 8;
# LR 0.01).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.shufflev1_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth',
    distill_loss=dict(beta=8.0))
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.01)))
