# TST (Shao et al., IJCAI 2023) on Cityscapes 512x1024, 80k iterations:
# PSPNet-R101-d8 -> PSPNet-R18-d8, pixel-wise KL (tau 1) on the decode head
# (weight 1.5) and the auxiliary head (0.5); augmenter phases at loader
# passes 0, 6 and 12, one pass each. Data, schedule and student come from
# mmseg's own config (the student keeps its ImageNet-pretrained backbone).
# the native config, then mmtst's runner and hooks
_base_ = [
    'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../../_base_/mmtst_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
# mmseg's top-level (normalising) preprocessor would be handed to the
# distiller by the Runner; the distiller keeps raw pixels for the augmenter
# and normalises per model (teacher and student keep mmseg's settings)
data_preprocessor = None
model = dict(
    _delete_=True,
    type='mmtst.SegmentationDistiller',
    teacher='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    student='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    # mmseg's model zoo checkpoint of that teacher (mmseg's metafile.yaml, 79.76 mIoU):
    # https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/
    #   pspnet_r101-d8_512x1024_80k_cityscapes/
    #   pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth
    teacher_ckpt='checkpoints/pspnet_r101-d8_512x1024_80k_cityscapes.pth',
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05),
    distill_loss=dict(type='PixelWiseKL', tau=1.0),
    decode_weight=1.5,
    aux_weight=0.5)
# the student's optimiser and poly schedule are mmseg's; the augmenter's
# SGD 0.01 has grad-norm clip 20, its lr reset each phase and decayed by
# ALRS (so no param_scheduler drives it)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture={{_base_.optim_wrapper}},
    augmenter=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        clip_grad=dict(max_norm=20)))
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTIterBasedTrainLoop',
    max_iters=80000,
    val_interval=8000,
    phases_at_passes=[0, 6, 12],
    passes_per_phase=1)
# mmengine's CheckpointHook, deleting old checkpoints only after the new
# one is written
default_hooks = dict(checkpoint=dict(type='mmtst.SafeCheckpointHook'))
