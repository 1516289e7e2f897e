# FunMatch set-up 2, independent noise: teacher and student get
# independently drawn views.
_base_ = './_base_funmatch_fmnist.py'
model = dict(views=dict(mode='independent', mixup=None))
