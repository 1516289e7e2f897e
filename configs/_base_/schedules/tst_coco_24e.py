# TST's detection schedule (Shao et al., IJCAI 2023), written once: 24
# student epochs of SGD 0.01 (momentum 0.9, weight decay 1e-4; mmdet's 2x:
# linear warm-up over 500 iterations, lr x0.1 after epochs 16 and 22),
# augmenter phases after epochs 6 and 12 x 1 pass, the augmenter's SGD
# (lr 0.01, momentum 0.9) with grad-norm clip 20, its lr reset each phase
# and decayed by ALRS (so no param_scheduler drives it).
# The COCO configs (configs/tst/coco) list it after the student's mmdet
# model, data and runtime files; tst_scenes_12e.py scales it to the tiny
# scenes detectors. The FCOS pair writes its variant (mmdet's FCOS recipe:
# constant warm-up, bias lr x2, grad clip 35) in its own file, on its
# student's mmdet config: that config defines the model inline, and a
# schedule file listed beside it would repeat its keys, which mmengine
# refuses.
max_epochs = 24
train_cfg = dict(
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=1,
    phases_at_epochs=[6, 12],
    passes_per_phase=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0001)),
    augmenter=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        clip_grad=dict(max_norm=20)))
param_scheduler = dict(
    architecture=[
        dict(
            type='LinearLR',
            start_factor=0.001,
            by_epoch=False,
            begin=0,
            end=500),
        dict(
            type='MultiStepLR',
            begin=0,
            end=max_epochs,
            by_epoch=True,
            milestones=[16, 22],
            gamma=0.1)
    ],
    augmenter=[])
