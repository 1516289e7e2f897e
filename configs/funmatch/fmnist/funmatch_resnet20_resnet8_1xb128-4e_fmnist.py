# FunMatch set-up 4, function matching: consistent views + mixup.
_base_ = './_base_funmatch_fmnist.py'
