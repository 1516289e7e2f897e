# TST WRN-40-2 -> WRN-40-1 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.05, wd 1e-4, 240 epochs;
# augmenter at 30, 90 x 10 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.wrn_40_1_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth')
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.05)))
train_cfg = dict(passes_per_phase=10)
