# TST WRN-40-2 -> ShuffleNetV1 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.05, wd 5e-4, 240 epochs;
# augmenter 7 phases x 5 passes.
# The table gives only "7 phases x 5 passes" for this pair; the 7
# points are chosen evenly, as VGG13 -> VGG8's 7 phases (every 30
# epochs from 32: 32, 62, ..., 212). Unverified.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.wrn_40_2_cifar}},
    student={{_base_.shufflev1_cifar}},
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth')
optim_wrapper = dict(
    architecture=dict(optimizer=dict(lr=0.05, weight_decay=5e-4)))
train_cfg = dict(
    phases_at_epochs=[32, 62, 92, 122, 152, 182, 212], passes_per_phase=5)
