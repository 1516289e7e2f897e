# Tiny mmdet detectors for the synthetic Fashion-MNIST scenes (96x96 px, 10
# classes): CPU-trainable teacher/student pairs for mmtst's detection
# quick start and tests. Backbones are mmdet's ResNet-18 with reduced
# widths (base_channels), randomly initialised (init_cfg=None: nothing is
# downloaded). The teachers are twice as wide as the students.
_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)


def _resnet18(width, out_indices=(0, 1, 2, 3)):
    return dict(
        type='ResNet',
        depth=18,
        base_channels=width,
        num_stages=4,
        out_indices=out_indices,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None)


def _retinanet(width, fpn):
    return dict(
        type='RetinaNet',
        data_preprocessor=_preprocessor,
        backbone=_resnet18(width, out_indices=(1, 2, 3)),
        neck=dict(
            type='FPN',
            in_channels=[width * 2, width * 4, width * 8],
            out_channels=fpn,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=3),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=10,
            in_channels=fpn,
            stacked_convs=1,
            feat_channels=fpn,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=3,
                scales_per_octave=2,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=200,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=20))


def _faster_rcnn(width, fpn):
    return dict(
        type='FasterRCNN',
        data_preprocessor=_preprocessor,
        backbone=_resnet18(width),
        neck=dict(
            type='FPN',
            in_channels=[width, width * 2, width * 4, width * 8],
            out_channels=fpn,
            num_outs=4),
        rpn_head=dict(
            type='RPNHead',
            in_channels=fpn,
            feat_channels=fpn,
            anchor_generator=dict(
                type='AnchorGenerator',
                scales=[6],
                ratios=[0.5, 1.0, 2.0],
                strides=[4, 8, 16, 32]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        roi_head=dict(
            type='StandardRoIHead',
            bbox_roi_extractor=dict(
                type='SingleRoIExtractor',
                roi_layer=dict(
                    type='RoIAlign', output_size=7, sampling_ratio=0),
                out_channels=fpn,
                featmap_strides=[4, 8, 16, 32]),
            bbox_head=dict(
                type='Shared2FCBBoxHead',
                in_channels=fpn,
                fc_out_channels=64,
                roi_feat_size=7,
                num_classes=10,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
                reg_class_agnostic=False,
                loss_cls=dict(
                    type='CrossEntropyLoss',
                    use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
        train_cfg=dict(
            rpn=dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.7,
                    neg_iou_thr=0.3,
                    min_pos_iou=0.3,
                    match_low_quality=True,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='RandomSampler',
                    num=64,
                    pos_fraction=0.5,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=False),
                allowed_border=-1,
                pos_weight=-1,
                debug=False),
            rpn_proposal=dict(
                nms_pre=300,
                max_per_img=100,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            rcnn=dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.5,
                    neg_iou_thr=0.5,
                    min_pos_iou=0.5,
                    match_low_quality=False,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='RandomSampler',
                    num=64,
                    pos_fraction=0.25,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True),
                pos_weight=-1,
                debug=False)),
        test_cfg=dict(
            rpn=dict(
                nms_pre=300,
                max_per_img=100,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            rcnn=dict(
                score_thr=0.05,
                nms=dict(type='nms', iou_threshold=0.5),
                max_per_img=20)))


def _fcos(width, fpn):
    model = _retinanet(width, fpn)
    model.update(
        type='FCOS',
        bbox_head=dict(
            type='FCOSHead',
            num_classes=10,
            in_channels=fpn,
            stacked_convs=1,
            feat_channels=fpn,
            strides=[8, 16, 32],
            norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
            regress_ranges=((-1, 32), (32, 64), (64, 1e8)),
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='IoULoss', loss_weight=1.0),
            loss_centerness=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
        train_cfg=None)
    return model


retinanet_teacher = _retinanet(16, 32)
retinanet_student = _retinanet(8, 16)
faster_rcnn_teacher = _faster_rcnn(16, 32)
faster_rcnn_student = _faster_rcnn(8, 16)
fcos_teacher = _fcos(16, 32)
fcos_student = _fcos(8, 16)
