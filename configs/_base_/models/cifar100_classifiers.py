# The CIFAR-100 networks of the CRD benchmark (RepDistiller models/, reused by
# DKD and TST) as mmpretrain ImageClassifiers: an mmtst CIFAR backbone, global
# average pooling and one linear layer (CRD's classifier), 100 classes.
# Inputs are RGB pixels 0..255 normalised with CRD's CIFAR-100 statistics
# (mean (0.5071, 0.4867, 0.4408), std (0.2675, 0.2565, 0.2761), x 255), so
# teachers converted from RepDistiller checkpoints
# (tools/model_converters/crd_to_mmpretrain.py) see what they were trained on.
cifar100_preprocessor = dict(
    type='ClsDataPreprocessor',
    mean=[129.3105, 124.1085, 112.404],
    std=[68.2125, 65.4075, 70.4055],
    to_rgb=False)  # mmpretrain's CIFAR100 already yields RGB


def _classifier(backbone, in_channels):
    return dict(
        type='ImageClassifier',
        data_preprocessor=cifar100_preprocessor,
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=100,
            in_channels=in_channels,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


# ResNets (CRD resnet.py): 64-d features; the x4 variants 256-d.
resnet20_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet20'), 64)
resnet32_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet32'), 64)
resnet56_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet56'), 64)
resnet110_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet110'), 64)
resnet8x4_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet8x4'), 256)
resnet32x4_cifar = _classifier(
    dict(type='mmtst.CifarResNet', arch='resnet32x4'), 256)
# Wide ResNets (CRD wrn.py): 64 x widen factor.
wrn_16_2_cifar = _classifier(
    dict(type='mmtst.CifarWideResNet', arch='wrn_16_2'), 128)
wrn_40_1_cifar = _classifier(
    dict(type='mmtst.CifarWideResNet', arch='wrn_40_1'), 64)
wrn_40_2_cifar = _classifier(
    dict(type='mmtst.CifarWideResNet', arch='wrn_40_2'), 128)
# BN-VGGs (CRD vgg.py vgg8_bn / vgg13_bn): 512-d.
vgg8_cifar = _classifier(dict(type='mmtst.CifarVGG', arch='vgg8'), 512)
vgg13_cifar = _classifier(dict(type='mmtst.CifarVGG', arch='vgg13'), 512)
# CRD's "MobileNetV2" (mobile_half: width 0.5, t 6): 1280-d.
mobilenetv2_cifar = _classifier(
    dict(type='mmtst.CifarMobileNetV2', arch='mobile_half'), 1280)
# CRD's ShuffleNetV1 (groups 3): 960-d.
shufflev1_cifar = _classifier(
    dict(type='mmtst.CifarShuffleNetV1', arch='ShuffleV1'), 960)
