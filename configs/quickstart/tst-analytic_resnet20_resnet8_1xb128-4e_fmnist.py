# TST with the exact differentiable ops (beyond the paper): no fitted nets.
_base_ = './tst_resnet20_resnet8_1xb128-4e_fmnist.py'
model = dict(augmenter=dict(backend='analytic'))
