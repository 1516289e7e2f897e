# DKD ResNet32x4 -> ResNet8x4 on CIFAR-100.
# mdistiller configs/cifar100/dkd/res32x4_res8x4.yaml (no BETA: the default
# 8).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.resnet8x4_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth',
    distill_loss=dict(beta=8.0))
