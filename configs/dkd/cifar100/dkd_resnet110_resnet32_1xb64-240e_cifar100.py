# DKD ResNet110 -> ResNet32 on CIFAR-100.
# mdistiller configs/cifar100/dkd/res110_res32.yaml (BETA 2).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.resnet110_cifar}},
    student={{_base_.resnet32_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet110.pth',
    distill_loss=dict(beta=2.0))
