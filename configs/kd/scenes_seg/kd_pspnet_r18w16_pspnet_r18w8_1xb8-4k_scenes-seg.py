# Pixel-wise KL baseline of the scenes segmentation mini-benchmark: the TST
# pair's distiller (decode 1.5, auxiliary 0.5, tau 1) without the augmenter
# and with the plain iteration-based schedule.
_base_ = ['../../teachers/scenes_seg/pspnet_r18w16_1xb8-4k_scenes-seg.py']
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    _delete_=True,
    type='mmtst.SegmentationDistiller',
    teacher={{_base_.pspnet_teacher}},
    student={{_base_.pspnet_student}},
    teacher_ckpt='work_dirs/pspnet_r18w16_1xb8-4k_scenes-seg/iter_4000.pth',
    distill_loss=dict(type='PixelWiseKL', tau=1.0),
    decode_weight=1.5,
    aux_weight=0.5)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0005)))
