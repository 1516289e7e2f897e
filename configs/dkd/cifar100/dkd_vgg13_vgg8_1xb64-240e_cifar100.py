# DKD VGG13 -> VGG8 on CIFAR-100.
# mdistiller configs/cifar100/dkd/vgg13_vgg8.yaml (BETA 6).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.vgg8_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth',
    distill_loss=dict(beta=6.0))
