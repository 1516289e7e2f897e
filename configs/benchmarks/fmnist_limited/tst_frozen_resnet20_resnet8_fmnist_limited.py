# fmnist-limited: TST with the policy frozen at its initial values
# (p = m = 0.5 for all 14 ops, the same op pool and random draws, no
# augmenter phase): isolates what learning the policy adds.
_base_ = './_base_tst_fmnist_limited.py'
train_cfg = dict(phases_at_epochs=[])
