# TST's detection schedule (Shao et al., IJCAI 2023) scaled to the tiny
# scenes detectors: 12 student epochs of SGD 0.01 (COCO: 24), augmenter
# phases after epochs 3 and 6 (COCO: 6 and 12) x 1 pass, the augmenter's
# SGD 0.01 with grad-norm clip 20, its lr reset each phase and decayed by
# ALRS (so no param_scheduler drives it).
_base_ = ['./scenes_12e.py']
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                                     weight_decay=0.0001)),
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
                   clip_grad=dict(max_norm=20)))
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs={{_base_.max_epochs}},
    val_interval=1,
    augmenter_epochs=[3, 6],
    augmenter_passes=1)
