# The "mimic" variant: TST plus MSE between the FPN levels through 1x1
# conv adapters (all three levels of the tiny RetinaNets).
_base_ = './tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_scenes.py'
model = dict(mimic=dict(levels=[0, 1, 2], loss_weight=1.0))
