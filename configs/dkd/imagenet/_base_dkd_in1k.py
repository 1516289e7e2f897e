# DKD on ImageNet-1k with the authors' settings (megvii-research/mdistiller
# configs/imagenet/r34_r18/dkd.yaml): CE 1, alpha 1, tau 1, warm-up 1 epoch;
# beta per pair (0.5 for ResNet34 -> ResNet18); batch 512 (8 GPUs x 64);
# SGD lr 0.2, momentum 0.9, wd 1e-4; 100 epochs, lr x0.1 after 30/60/90.
_base_ = '../../kd/imagenet/_base_kd_in1k.py'
model = dict(
    distill_loss=dict(
        _delete_=True,
        type='DKDLoss',
        tau=1.0,
        alpha=1.0,
        beta=0.5,
        ce_weight=1.0,
        warmup=1))
