# The quick start's classifiers: CIFAR-style ResNets on 1-channel 28x28
# Fashion-MNIST, normalised with its pixel statistics (0..255 scale).
fmnist_teacher = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[72.94], std=[90.02], to_rgb=False),
    backbone=dict(type='mmtst.CifarResNet', arch='resnet20', in_channels=1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

fmnist_student = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[72.94], std=[90.02], to_rgb=False),
    backbone=dict(type='mmtst.CifarResNet', arch='resnet8', in_channels=1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
