# TST ResNet56 -> ResNet20 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, 240 epochs;
# augmenter at 30, 90 x 1 pass.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.resnet56_cifar}},
    student={{_base_.resnet20_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet56.pth')
train_cfg = dict(passes_per_phase=1)
