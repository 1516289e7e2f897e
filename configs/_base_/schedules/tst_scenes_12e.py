# TST's detection schedule (tst_coco_24e.py) scaled to the tiny scenes
# detectors: 12 student epochs of SGD 0.01 (COCO: 24; the warm-up and
# milestones of scenes_12e.py), augmenter phases after epochs 3 and 6
# (COCO: 6 and 12) x 1 pass.
# Augmenter lr 0.5 instead of the authors' 0.01: a COCO phase is ~7,300
# steps (117k images / batch 16), a scenes phase 125 (2,000 / 16), and the
# policy logits' gradients under the authors' objective are ~1e-3 (the
# relaxed-Bernoulli gate at temperature 0.05 passes a gradient only when
# its noise lands near the threshold), so at 0.01 the policy would not move
# (p, m stay 0.500). 0.5 keeps lr x steps per phase near COCO's (0.01 x
# 7,300 = 73; 0.5 x 125 = 62). Set it back with
# --cfg-options optim_wrapper.augmenter.optimizer.lr=0.01.
_base_ = ['./tst_coco_24e.py']
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, phases_at_epochs=[3, 6])
optim_wrapper = dict(augmenter=dict(optimizer=dict(lr=0.5)))
param_scheduler = dict(architecture=[
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
])
