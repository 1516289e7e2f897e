# TST ResNet32x4 -> ShuffleNetV1 on CIFAR-100.
# The paper's setting: batch (half aug) 128, SGD 0.02, wd 1e-4, 240 epochs;
# augmenter at 30, 90 x 30 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.shufflev1_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth')
# 64 originals + 64 augmented = the paper's batch of 128
train_dataloader = dict(batch_size=64)
auto_scale_lr = dict(base_batch_size=64)
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.02)))
