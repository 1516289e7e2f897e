# Quick start: DKD (Zhao et al., CVPR 2022) ResNet-20 -> ResNet-8.
_base_ = './kd_resnet20_resnet8_1xb128-4e_fmnist.py'
model = dict(
    distill_loss=dict(
        _delete_=True, type='DKDLoss', tau=4.0, alpha=1.0, beta=8.0, warmup=1))
