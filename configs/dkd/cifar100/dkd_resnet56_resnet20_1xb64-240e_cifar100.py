# DKD ResNet56 -> ResNet20 on CIFAR-100.
# mdistiller configs/cifar100/dkd/res56_res20.yaml (BETA 2).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.resnet56_cifar}},
    student={{_base_.resnet20_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet56.pth',
    distill_loss=dict(beta=2.0))
