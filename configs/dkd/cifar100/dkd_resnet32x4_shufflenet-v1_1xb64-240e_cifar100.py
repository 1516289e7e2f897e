# DKD ResNet32x4 -> ShuffleNetV1 on CIFAR-100.
# mdistiller configs/cifar100/dkd/res32x4_shuv1.yaml (no BETA: the default 8;
# LR 0.01).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.shufflev1_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth',
    distill_loss=dict(beta=8.0))
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.01)))
