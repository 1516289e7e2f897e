"""Helpers shared by the tests."""


def tiny_classifier(arch: str = 'resnet8', num_classes: int = 10,
                    in_channels: int = 1, mean=(72.94, ), std=(90.02, )) -> dict:
    """An mmpretrain ImageClassifier config around mmtst's CifarResNet."""
    width = {'resnet8': 64, 'resnet14': 64, 'resnet20': 64}[arch]
    return dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=list(mean),
                               std=list(std), to_rgb=False),
        backbone=dict(type='mmtst.CifarResNet', arch=arch,
                      in_channels=in_channels),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=width))
