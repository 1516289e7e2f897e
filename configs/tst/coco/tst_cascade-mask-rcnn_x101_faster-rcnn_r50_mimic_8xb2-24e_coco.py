# The "mimic" variant: TST plus MSE on the five FPN levels through 1x1 conv
# adapters.
_base_ = './tst_cascade-mask-rcnn_x101_faster-rcnn_r50_8xb2-24e_coco.py'
model = dict(mimic=dict(levels=[0, 1, 2, 3, 4], loss_weight=1.0))
