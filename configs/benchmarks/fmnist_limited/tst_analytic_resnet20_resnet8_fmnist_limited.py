# fmnist-limited: TST with mmtst's exact differentiable ops (beyond the
# paper).
_base_ = './_base_tst_fmnist_limited.py'
model = dict(augmenter=dict(backend='analytic'))
