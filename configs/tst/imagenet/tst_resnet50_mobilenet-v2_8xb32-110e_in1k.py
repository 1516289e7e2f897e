# TST ResNet50 -> MobileNetV2 on ImageNet-1k: a STAND-IN for the paper's
# ResNet50 -> MobileNetV1 pair. mmpretrain 1.2 has no MobileNetV1, so the
# student is mmpretrain's MobileNetV2 (1.0x); results are not comparable
# with the paper's or DKD's MobileNetV1 numbers (see README.md here).
# The paper's MobileNetV1 row gives batch 512, lr 0.2, 110 epochs; its lr
# steps and augmenter phases are not given: lr x0.1 after 40, 70 and 100
# epochs and phases after 10 and 25 epochs x 5 passes are ResNet34 ->
# ResNet18's, extended by one step (unverified).
# Teacher: mmpretrain's ResNet-50 (76.55 top-1), a local file:
#   https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth
# saved as checkpoints/imagenet/resnet50_8xb32_in1k.pth.
_base_ = './_base_tst_in1k.py'
model = dict(
    teacher='mmpretrain::resnet/resnet50_8xb32_in1k.py',
    student='mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
    teacher_ckpt='checkpoints/imagenet/resnet50_8xb32_in1k.pth')
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.2)))
param_scheduler = dict(architecture=[
    dict(
        type='MultiStepLR', by_epoch=True, milestones=[40, 70, 100],
        gamma=0.1),
])
train_cfg = dict(max_epochs=110)
