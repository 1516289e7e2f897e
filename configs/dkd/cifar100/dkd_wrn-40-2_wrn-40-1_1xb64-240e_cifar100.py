# DKD WRN-40-2 -> WRN-40-1 on CIFAR-100.
# mdistiller configs/cifar100/dkd/wrn40_2_wrn_40_1.yaml (BETA 6).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.wrn_40_1_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth',
    distill_loss=dict(beta=6.0))
