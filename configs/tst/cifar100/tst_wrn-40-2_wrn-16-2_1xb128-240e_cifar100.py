# TST WRN-40-2 -> WRN-16-2 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, 240 epochs;
# augmenter at 30, 90 x 30 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.wrn_16_2_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth')
