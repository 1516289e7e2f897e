# Tiny mmseg PSPNets for the Fashion-MNIST scenes in segmentation form
# (96x96 px, 11 classes: background + 10): CPU-trainable teacher/student
# pairs mirroring TST's Cityscapes pair PSPNet-R101-d8 -> PSPNet-R18-d8
# (Shao et al., IJCAI 2023). Backbones are mmseg's ResNetV1c-18, dilated
# (output stride 8), with reduced widths, randomly initialised
# (init_cfg=None, pretrained=None: nothing is downloaded).
_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(96, 96))
# plain BN: these run on one CPU process (mmseg's configs use SyncBN)
_norm = dict(type='BN', requires_grad=True)


def _pspnet(width, channels):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=_preprocessor,
        pretrained=None,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=width,
            base_channels=width,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=_norm,
            norm_eval=False,
            style='pytorch',
            contract_dilation=True,
            init_cfg=None),
        decode_head=dict(
            type='PSPHead',
            in_channels=width * 8,
            in_index=3,
            channels=channels,
            pool_scales=(1, 2, 3, 6),
            dropout_ratio=0.1,
            num_classes=11,
            norm_cfg=_norm,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=width * 4,
            in_index=2,
            channels=channels // 2,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=11,
            norm_cfg=_norm,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


pspnet_teacher = _pspnet(16, 32)
pspnet_student = _pspnet(8, 16)
