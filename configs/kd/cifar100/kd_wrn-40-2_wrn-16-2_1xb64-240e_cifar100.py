# KD WRN-40-2 -> WRN-16-2 on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.wrn_16_2_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth')
