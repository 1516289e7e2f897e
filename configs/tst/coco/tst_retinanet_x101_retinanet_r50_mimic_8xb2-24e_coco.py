# The "mimic" variant: TST plus MSE on all five FPN levels through 1x1 conv
# adapters (256 -> 256 channels).
_base_ = './tst_retinanet_x101_retinanet_r50_8xb2-24e_coco.py'
model = dict(mimic=dict(levels=[0, 1, 2, 3, 4], loss_weight=1.0))
