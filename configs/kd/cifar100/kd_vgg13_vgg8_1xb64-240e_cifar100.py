# KD VGG13 -> VGG8 on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.vgg8_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth')
