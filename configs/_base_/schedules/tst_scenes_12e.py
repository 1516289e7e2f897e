# TST's detection schedule (Shao et al., IJCAI 2023) scaled to the tiny
# scenes detectors: 12 student epochs of SGD 0.01 (COCO: 24), augmenter
# phases after epochs 3 and 6 (COCO: 6 and 12) x 1 pass, the augmenter's
# SGD with momentum 0.9 and grad-norm clip 20, its lr reset each phase and
# decayed by ALRS (so no param_scheduler drives it).
# Augmenter lr 0.5 instead of the authors' 0.01: a COCO phase is ~7,300
# steps (117k images / batch 16), a scenes phase 125 (2,000 / 16), and the
# policy logits' gradients under the authors' objective are ~1e-3 (the
# relaxed-Bernoulli gate at temperature 0.05 passes a gradient only when
# its noise lands near the threshold), so at 0.01 the policy would not move
# (p, m stay 0.500). 0.5 keeps lr x steps per phase near COCO's (0.01 x
# 7,300 = 73; 0.5 x 125 = 62). Set it back with
# --cfg-options optim_wrapper.augmenter.optimizer.lr=0.01.
_base_ = ['./scenes_12e.py']
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0001)),
    augmenter=dict(
        optimizer=dict(type='SGD', lr=0.5, momentum=0.9),
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
