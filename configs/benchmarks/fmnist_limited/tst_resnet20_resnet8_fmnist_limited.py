# fmnist-limited: TST as in the paper (neural ops, doubled batch, phases).
_base_ = './_base_tst_fmnist_limited.py'
