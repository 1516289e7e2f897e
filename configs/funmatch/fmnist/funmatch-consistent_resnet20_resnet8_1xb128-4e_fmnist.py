# FunMatch set-up 3, consistent teaching: the same random view, no mixup.
_base_ = './_base_funmatch_fmnist.py'
model = dict(views=dict(mixup=None))
