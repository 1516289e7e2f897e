# TST (Shao et al., IJCAI 2023) on the Fashion-MNIST scenes in
# segmentation form: PSPNet ResNetV1c-18 (1/4 width) -> PSPNet
# ResNetV1c-18 (1/8 width), pixel-wise KL (tau 1) on the decode (1.5) and
# auxiliary (0.5) heads, as the paper's Cityscapes pair. Train the teacher
# first: python tools/train.py configs/tst/scenes_seg/pspnet_r18w16_scenes_seg.py
_base_ = ['./pspnet_r18w16_scenes_seg.py']
model = dict(
    _delete_=True,
    type='mmtst.SegmentationDistiller',
    teacher={{_base_.pspnet_teacher}},
    student={{_base_.pspnet_student}},
    teacher_ckpt='work_dirs/pspnet_r18w16_scenes_seg/iter_4000.pth',
    augmenter=dict(type='LearnableAugmentPolicy', backend='neural',
                   solve_number=4, temperature=0.05, cutout_size=32),
    distill_loss=dict(type='PixelWiseKL', tau=1.0),
    decode_weight=1.5,
    aux_weight=0.5)
# the augmenter's SGD 0.01 with grad-norm clip 20, its lr reset each phase
# and decayed by ALRS (so no param_scheduler drives it)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                                     weight_decay=0.0005)),
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
                   clip_grad=dict(max_norm=20)))
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTIterBasedTrainLoop',
    max_iters={{_base_.max_iters}},
    val_interval=1000,
    augmenter_at_passes=[0],
    augmenter_passes=1)
